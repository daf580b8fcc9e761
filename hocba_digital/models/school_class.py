from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..lib.rules import catalogue
from ..lib.rules import quality_check
from .school_subject_grade import GRADE_SELECTION


class SchoolClass(models.Model):
    """A class (lớp) of one school year, with its homeroom teacher.

    Access:

    * a subject teacher reads the classes they have a teaching assignment in;
    * a homeroom teacher also reads their own class;
    * a head of subject group reads the classes of their group's members;
    * the vice principal reads, creates and edits every class; only the
      principal deletes one;
    * the IT officer and the clerk read every class; the accountant none.
    """

    _name = "school.class"
    _description = "Class"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "year_id desc, grade, name"
    _check_company_auto = True

    name = fields.Char(
        compute="_compute_name", store=True, readonly=False, required=True, precompute=True,
        tracking=True)
    grade = fields.Selection(GRADE_SELECTION, required=True, tracking=True)
    section = fields.Char(help="Letter or number that tells classes of a grade apart (A, B, 1...).")
    code = fields.Char(string="Class code", help="Code of the class in the sector database.")
    year_id = fields.Many2one(
        "school.year", string="School year", required=True, index=True, check_company=True,
        default=lambda self: self._default_year(), tracking=True)
    homeroom_employee_id = fields.Many2one(
        "hr.employee", string="Homeroom teacher", tracking=True, check_company=True)
    homeroom_user_id = fields.Many2one(
        "res.users", related="homeroom_employee_id.user_id", store=True, index=True,
        related_sudo=True, string="Homeroom teacher (user)")
    student_ids = fields.One2many("school.student", "class_id", string="Pupils")
    student_count = fields.Integer(compute="_compute_student_count", string="Number of pupils")
    teaching_assignment_ids = fields.One2many(
        "school.teaching.assignment", "class_id", string="Teaching assignments")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)
    transcript_ids = fields.One2many("hocba.transcript", "class_id", string="Transcripts")
    sheet_ids = fields.One2many("hocba.entry.sheet", "class_id", string="Entry sheets")
    review_state = fields.Selection(
        [("open", "Being filled"), ("locked", "Locked for checking"),
         ("approved", "Approved for signing")],
        default="open", required=True, tracking=True, copy=False)
    review_note = fields.Char(string="Last review note", tracking=True, copy=False)
    blocking_count = fields.Integer(compute="_compute_quality", string="Blocking errors")
    warning_count = fields.Integer(compute="_compute_quality", string="Warnings")
    quality_report = fields.Text(compute="_compute_quality", string="Data-quality check")

    _sql_constraints = [
        ("name_year_uniq", "unique(name, year_id)",
         "A class with this name already exists in that school year."),
    ]

    def _default_year(self):
        return self.env["school.year"].search(
            [("company_id", "=", self.env.company.id), ("state", "!=", "closed")], limit=1)

    @api.depends("grade", "section")
    def _compute_name(self):
        for school_class in self:
            if school_class.grade and school_class.section:
                school_class.name = catalogue.class_name(school_class.grade, school_class.section)
            elif not school_class.name:
                school_class.name = school_class.grade or False

    def _compute_student_count(self):
        counts = dict(self.env["school.student"]._read_group(
            [("class_id", "in", self.ids)], ["class_id"], ["__count"]))
        for school_class in self:
            school_class.student_count = counts.get(school_class, 0)

    def _compute_quality(self):
        for school_class in self:
            findings = school_class._hocba_quality_findings()
            school_class.blocking_count, school_class.warning_count = quality_check.summary(
                findings)
            school_class.quality_report = "\n".join(
                "%s %s: %s" % ("⛔" if f.severity == quality_check.BLOCKING else "⚠",
                               f.pupil, self._hocba_finding_text(f))
                for f in findings) or _("No problem found.")

    @api.constrains("name", "grade")
    def _check_grade_matches_name(self):
        for school_class in self:
            in_name = catalogue.grade_from_class_name(school_class.name)
            if in_name and in_name != school_class.grade:
                raise ValidationError(_(
                    "Class %(name)s looks like a grade %(in_name)s class but is set to "
                    "grade %(grade)s.", name=school_class.name, in_name=in_name,
                    grade=school_class.grade))

    def write(self, vals):
        if "review_state" in vals and not self.env.su:
            raise AccessError(_("Use the Lock, Unlock, Approve and Send back buttons to change "
                                "the review state of a class."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_pupils(self):
        with_pupils = self.filtered("student_ids")
        if with_pupils:
            raise UserError(_(
                "Class %(name)s still has pupils: move them to another class or archive "
                "the class instead.", name=with_pupils[0].name))

    def action_view_students(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "hocba_digital.school_student_action")
        action["domain"] = [("class_id", "=", self.id)]
        action["context"] = {"default_class_id": self.id}
        return action

    # ---- Review: prepare, lock, approve ----

    def action_prepare_transcripts(self):
        """Create the missing transcripts, result rows and entry sheets of the class."""
        for school_class in self:
            if not (school_class.homeroom_user_id == self.env.user or self.env.user.has_group(
                    "hocba_digital.group_hocba_vice_principal")):
                raise AccessError(_("Only the homeroom teacher of %(name)s or the vice "
                                    "principal can prepare its transcripts.",
                                    name=school_class.name))
            school_class._hocba_check_open()
            self.env["hocba.transcript"].sudo()._hocba_prepare_class(school_class)
        return True

    def action_lock(self):
        for school_class in self:
            school_class._hocba_check_reviewer()
            school_class._hocba_check_open()
            blocking, _warnings = quality_check.summary(school_class._hocba_quality_findings())
            if blocking:
                raise UserError(_(
                    "Class %(name)s still has %(count)s blocking errors: see the data-quality "
                    "check, send the sheets concerned back, then lock.",
                    name=school_class.name, count=blocking))
            school_class._hocba_set_review("locked", _("Locked for checking."))
        return True

    def action_unlock(self, reason):
        self.ensure_one()
        self._hocba_check_reviewer()
        if self.review_state != "locked":
            raise UserError(_("Class %(name)s is not locked.", name=self.name))
        self._hocba_set_review("open", _("Unlocked: %(reason)s", reason=reason), note=reason)
        return True

    def action_approve(self):
        self._hocba_check_vice_principal()
        for school_class in self:
            if school_class.review_state != "locked":
                raise UserError(_("Class %(name)s must be locked by the head of its subject "
                                  "group before approval.", name=school_class.name))
            school_class._hocba_set_review("approved", _("Approved for signing."))
        self._hocba_plan_signing_activities()
        return True

    def action_return(self, reason):
        self.ensure_one()
        self._hocba_check_vice_principal()
        if self.review_state == "open":
            raise UserError(_("Class %(name)s is already open.", name=self.name))
        class_sudo = self._hocba_set_review(
            "open", _("Sent back for correction: %(reason)s", reason=reason), note=reason)
        if self.homeroom_user_id:
            class_sudo.activity_schedule(
                "mail.mail_activity_data_todo", user_id=self.homeroom_user_id.id,
                summary=_("Correct class %(name)s", name=self.name), note=reason)
        return True

    def action_view_results(self):
        """Every subject result of the class, pupil by pupil, for the cross-check."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "hocba_digital.hocba_subject_result_action_cross_check")
        action["domain"] = [("class_id", "=", self.id)]
        action["display_name"] = _("Results of %(name)s", name=self.name)
        return action

    def action_view_transcripts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "hocba_digital.hocba_transcript_action")
        action["domain"] = [("class_id", "=", self.id)]
        return action

    def action_edit_health_attendance(self):
        """The homeroom teacher's grid: a row per pupil for health, attendance, comment."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Health and attendance of %(name)s", name=self.name),
            "res_model": "hocba.transcript",
            "view_mode": "list",
            "views": [(self.env.ref("hocba_digital.hocba_transcript_view_list_grid").id, "list")],
            "domain": [("class_id", "=", self.id)],
            "context": {"create": False, "delete": False},
        }

    def _hocba_set_review(self, state, message, note=False):
        """Move the class to ``state`` and say so in the chatter, as the current user.

        Callers check the user's right first: the review state is not writable
        through ``write`` (see there), hence the sudo.
        """
        self.ensure_one()
        class_sudo = self.sudo()
        class_sudo.write({"review_state": state, "review_note": note})
        class_sudo.message_post(body=message)
        return class_sudo

    def _hocba_user_reviews(self):
        """True when the user is the vice principal (or principal) or heads a group of the class."""
        self.ensure_one()
        user = self.env.user
        if user.has_group("hocba_digital.group_hocba_vice_principal"):
            return True
        class_sudo = self.sudo()
        teachers = class_sudo.homeroom_employee_id | class_sudo.teaching_assignment_ids.employee_id
        return user in teachers.hocba_subject_group_ids.head_user_id

    def _hocba_check_reviewer(self):
        if not self._hocba_user_reviews():
            raise AccessError(_("Only the head of the subject group of %(name)s or the vice "
                                "principal can lock or unlock it.", name=self.name))

    def _hocba_check_vice_principal(self):
        if not self.env.user.has_group("hocba_digital.group_hocba_vice_principal"):
            raise AccessError(_("Only the vice principal or the principal approves a class "
                                "for signing."))

    def _hocba_check_open(self):
        if self.review_state != "open":
            raise UserError(_("Class %(name)s is locked: unlock it first, with a reason.",
                              name=self.name))

    def _hocba_quality_findings(self):
        self.ensure_one()
        return quality_check.check_class(self.transcript_ids.sudo()._hocba_quality_data())

    @api.model
    def _hocba_finding_text(self, finding):
        periods = dict(self.env["hocba.subject.result"]._fields["period"]._description_selection(
            self.env))
        params = dict(finding.params)
        if "period" in params:
            params["period"] = periods.get(params["period"], params["period"])
        templates = {
            "missing_level": _("%(subject)s, %(period)s: no level"),
            "missing_score": _("%(subject)s, %(period)s: no test score"),
            "score_invalid": _("%(subject)s, %(period)s: invalid score %(score)s"),
            "level_vs_score": _("%(subject)s, %(period)s: level %(level)s with score "
                                "%(score)s, please check"),
            "empty_comment": _("%(subject)s, %(period)s: no comment"),
            "missing_trait_level": _("%(trait)s: no level at the end of the year"),
            "empty_trait_comment": _("%(trait)s: no comment at the end of the year"),
            "result_inconsistent": _("year result %(stored)s differs from the rules "
                                     "(%(computed)s) without a reason"),
            "personal_id_invalid": _("invalid personal ID"),
            "personal_id_missing": _("no personal ID"),
        }
        return templates[finding.code] % params
