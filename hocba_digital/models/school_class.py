from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..groups import PRINCIPAL, VICE_PRINCIPAL
from ..lib.rules import catalogue, quality_check
from ..lib.signing import chain as signing_chain
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
        compute="_compute_name", store=True, readonly=False, required=True, precompute=True, tracking=True
    )
    grade = fields.Selection(GRADE_SELECTION, required=True, tracking=True)
    section = fields.Char(help="Letter or number that tells classes of a grade apart (A, B, 1...).")
    code = fields.Char(string="Class code", help="Code of the class in the sector database.")
    year_id = fields.Many2one(
        "school.year",
        string="School year",
        required=True,
        index=True,
        check_company=True,
        default=lambda self: self._default_year(),
        tracking=True,
    )
    homeroom_employee_id = fields.Many2one("hr.employee", string="Homeroom teacher", tracking=True, check_company=True)
    homeroom_user_id = fields.Many2one(
        "res.users",
        related="homeroom_employee_id.user_id",
        store=True,
        index=True,
        related_sudo=True,
        string="Homeroom teacher (user)",
    )
    student_ids = fields.One2many("school.student", "class_id", string="Pupils")
    student_count = fields.Integer(compute="_compute_student_count", string="Number of pupils")
    teaching_assignment_ids = fields.One2many("school.teaching.assignment", "class_id", string="Teaching assignments")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)
    transcript_ids = fields.One2many("hocba.transcript", "class_id", string="Transcripts")
    sheet_ids = fields.One2many("hocba.entry.sheet", "class_id", string="Entry sheets")
    review_state = fields.Selection(
        [("open", "Being filled"), ("locked", "Locked for checking"), ("approved", "Approved for signing")],
        default="open",
        required=True,
        tracking=True,
        copy=False,
    )
    review_note = fields.Char(string="Last review note", tracking=True, copy=False)
    blocking_count = fields.Integer(compute="_compute_quality", string="Blocking errors")
    warning_count = fields.Integer(compute="_compute_quality", string="Warnings")
    quality_report = fields.Text(compute="_compute_quality", string="Data-quality check")

    _sql_constraints = [
        ("name_year_uniq", "unique(name, year_id)", "A class with this name already exists in that school year."),
    ]

    def _default_year(self):
        return self.env["school.year"].search(
            [("company_id", "=", self.env.company.id), ("state", "!=", "closed")], limit=1
        )

    @api.depends("grade", "section")
    def _compute_name(self):
        for school_class in self:
            if school_class.grade and school_class.section:
                school_class.name = catalogue.class_name(school_class.grade, school_class.section)
            elif not school_class.name:
                school_class.name = school_class.grade or False

    def _compute_student_count(self):
        counts = dict(self.env["school.student"]._read_group([("class_id", "in", self.ids)], ["class_id"], ["__count"]))
        for school_class in self:
            school_class.student_count = counts.get(school_class, 0)

    def _compute_quality(self):
        for school_class in self:
            findings = school_class._hocba_quality_findings()
            school_class.blocking_count, school_class.warning_count = quality_check.summary(findings)
            school_class.quality_report = "\n".join(
                "%s %s: %s"
                % ("⛔" if f.severity == quality_check.BLOCKING else "⚠", f.pupil, self._hocba_finding_text(f))
                for f in findings
            ) or _("No problem found.")

    @api.constrains("name", "grade")
    def _check_grade_matches_name(self):
        for school_class in self:
            in_name = catalogue.grade_from_class_name(school_class.name)
            if in_name and in_name != school_class.grade:
                raise ValidationError(
                    _(
                        "Class %(name)s looks like a grade %(in_name)s class but is set to grade %(grade)s.",
                        name=school_class.name,
                        in_name=in_name,
                        grade=school_class.grade,
                    )
                )

    def write(self, vals):
        if "review_state" in vals and not self.env.su:
            raise AccessError(
                _("Use the Lock, Unlock, Approve and Send back buttons to change the review state of a class.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_pupils(self):
        with_pupils = self.filtered("student_ids")
        if with_pupils:
            raise UserError(
                _(
                    "Class %(name)s still has pupils: move them to another class or archive the class instead.",
                    name=with_pupils[0].name,
                )
            )

    def action_view_students(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hocba_digital.school_student_action")
        action["domain"] = [("class_id", "=", self.id)]
        action["context"] = {"default_class_id": self.id}
        return action

    # ---- Review: prepare, lock, approve ----

    def action_prepare_transcripts(self):
        """Create the missing transcripts, result rows and entry sheets of the class."""
        for school_class in self:
            if not (school_class.homeroom_user_id == self.env.user or self.env.user.has_group(VICE_PRINCIPAL)):
                raise AccessError(
                    _(
                        "Only the homeroom teacher of %(name)s or the vice principal can prepare its transcripts.",
                        name=school_class.name,
                    )
                )
            school_class._hocba_check_open()
            self.env["hocba.transcript"].sudo()._hocba_prepare_class(school_class)
        return True

    def action_lock(self):
        for school_class in self:
            school_class._hocba_check_reviewer()
            school_class._hocba_check_open()
            blocking, _warnings = quality_check.summary(school_class._hocba_quality_findings())
            if blocking:
                raise UserError(
                    _(
                        "Class %(name)s still has %(count)s blocking errors: see the data-quality "
                        "check, send the sheets concerned back, then lock.",
                        name=school_class.name,
                        count=blocking,
                    )
                )
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
                raise UserError(
                    _(
                        "Class %(name)s must be locked by the head of its subject group before approval.",
                        name=school_class.name,
                    )
                )
            school_class._hocba_set_review("approved", _("Approved for signing."))
        self._hocba_plan_signing_activities()
        return True

    def action_return(self, reason):
        self.ensure_one()
        self._hocba_check_vice_principal()
        if self.review_state == "open":
            raise UserError(_("Class %(name)s is already open.", name=self.name))
        class_sudo = self._hocba_set_review(
            "open", _("Sent back for correction: %(reason)s", reason=reason), note=reason
        )
        if self.homeroom_user_id:
            class_sudo.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=self.homeroom_user_id.id,
                summary=_("Correct class %(name)s", name=self.name),
                note=reason,
            )
        return True

    def action_view_results(self):
        """Every subject result of the class, pupil by pupil, for the cross-check."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hocba_digital.hocba_subject_result_action_cross_check")
        action["domain"] = [("class_id", "=", self.id)]
        action["display_name"] = _("Results of %(name)s", name=self.name)
        return action

    def action_view_transcripts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hocba_digital.hocba_transcript_action")
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
        if user.has_group(VICE_PRINCIPAL):
            return True
        class_sudo = self.sudo()
        teachers = class_sudo.homeroom_employee_id | class_sudo.teaching_assignment_ids.employee_id
        return user in teachers.hocba_subject_group_ids.head_user_id

    def _hocba_check_reviewer(self):
        if not self._hocba_user_reviews():
            raise AccessError(
                _(
                    "Only the head of the subject group of %(name)s or the vice principal can lock or unlock it.",
                    name=self.name,
                )
            )

    def _hocba_check_vice_principal(self):
        if not self.env.user.has_group(VICE_PRINCIPAL):
            raise AccessError(_("Only the vice principal or the principal approves a class for signing."))

    def _hocba_check_open(self):
        if self.review_state != "open":
            raise UserError(_("Class %(name)s is locked: unlock it first, with a reason.", name=self.name))

    def _hocba_quality_findings(self):
        self.ensure_one()
        return quality_check.check_class(self.transcript_ids.sudo()._hocba_quality_data())

    @api.model
    def _hocba_finding_text(self, finding):
        periods = dict(self.env["hocba.subject.result"]._fields["period"]._description_selection(self.env))
        params = dict(finding.params)
        if "period" in params:
            params["period"] = periods.get(params["period"], params["period"])
        templates = {
            "missing_level": _("%(subject)s, %(period)s: no level"),
            "missing_score": _("%(subject)s, %(period)s: no test score"),
            "score_invalid": _("%(subject)s, %(period)s: invalid score %(score)s"),
            "level_vs_score": _("%(subject)s, %(period)s: level %(level)s with score %(score)s, please check"),
            "empty_comment": _("%(subject)s, %(period)s: no comment"),
            "missing_trait_level": _("%(trait)s: no level at the end of the year"),
            "empty_trait_comment": _("%(trait)s: no comment at the end of the year"),
            "result_inconsistent": _("year result %(stored)s differs from the rules (%(computed)s) without a reason"),
            "personal_id_invalid": _("invalid personal ID"),
            "personal_id_missing": _("no personal ID"),
        }
        return templates[finding.code] % params

    # ----------------------------------------------------------------------
    # Who the transcripts of a class wait for, as activities: the next people in the
    # chain get one ("Sign transcripts"), the others' are marked done.
    # ----------------------------------------------------------------------

    def _hocba_waiting_for(self):
        """Users whose signature the class's transcripts wait for now."""
        self.ensure_one()
        Service = self.env["hocba.signing.service"].sudo()
        users = self.env["res.users"]
        seal = (
            self.env["hocba.certificate"]
            .sudo()
            .search([("purpose", "=", "seal"), ("company_id", "=", self.company_id.id)])
        )
        principals = self.env.ref(PRINCIPAL).users.filtered(lambda u: self.company_id in u.company_ids)
        # the group also holds administrators: the principal is who holds a certificate
        principals = (
            self.env["hocba.certificate"]
            .sudo()
            .search(
                [
                    ("purpose", "=", "personal"),
                    ("company_id", "=", self.company_id.id),
                    ("user_id", "in", principals.ids),
                ]
            )
            .user_id
            or principals
        )
        for transcript in self.sudo().transcript_ids:
            version = transcript._hocba_current_version()
            state = Service._hocba_chain_state(transcript, version)
            if state.issued:
                continue
            unsigned = [code for code in state.subjects if code not in state.signed_subjects]
            if unsigned:
                users |= transcript.subject_result_ids.filtered(
                    lambda r: (
                        r.period == "end_year" and r.subject_id.code in unsigned and r.sheet_id.state == "submitted"
                    )
                ).sheet_id.user_id
            elif signing_chain.HOMEROOM not in state.signed:
                users |= self.homeroom_user_id if state.homeroom_ready else users.browse()
            elif signing_chain.PRINCIPAL not in state.signed:
                users |= principals if state.class_approved else users.browse()
            else:
                users |= seal.user_id
        return users

    def _hocba_plan_signing_activities(self):
        activity_type = self.env.ref("hocba_digital.mail_activity_type_hocba_sign", raise_if_not_found=False)
        if not activity_type:
            return
        for school_class in self.sudo():
            waiting = school_class._hocba_waiting_for()
            current = school_class.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
            asked = current.user_id
            current.filtered(lambda a: a.user_id not in waiting).action_feedback(
                feedback=_("Signed, or no longer waiting for this person.")
            )
            for user in waiting - asked:
                school_class.activity_schedule(
                    activity_type_id=activity_type.id,
                    user_id=user.id,
                    summary=_("Sign the transcripts of %(name)s", name=school_class.name),
                )

    # ----------------------------------------------------------------------
    # Deadline alerts: when, at the current pace, a class will miss the signing or the
    # sync deadline, the principal gets an activity on the class. One per class and
    # deadline: it is not repeated while the projection stays the same; when the
    # projection changes (stalled, late, overdue, or another deadline date) the old one
    # is closed and a new one says what changed; when the class is back on track it is
    # closed.
    # ----------------------------------------------------------------------

    hocba_progress_alerts = fields.Json(
        string="Deadline alerts sent",
        copy=False,
        groups=PRINCIPAL,
        help="Per deadline, the projection the principal was last alerted about and the activities that said it.",
    )

    @api.model
    def _hocba_alert_deadlines(self, data, principals):
        """Compare each class's forecasts in ``data`` (see
        ``hocba.progress._hocba_progress_data``) with the alerts already sent;
        returns the activities scheduled."""
        activity_type = self.env.ref("hocba_digital.mail_activity_type_hocba_deadline", raise_if_not_found=False)
        scheduled = self.env["mail.activity"]
        if not activity_type or not principals:
            return scheduled
        for info in data["classes"]:
            class_sudo = self.sudo().browse(info["id"])
            alerts = dict(class_sudo.hocba_progress_alerts or {})
            for kind, forecast in info["forecasts"].items():
                key = "%s:%s" % (forecast.deadline, forecast.status) if forecast and forecast.misses else False
                sent = alerts.get(kind) or {}
                if sent.get("key", False) == key:
                    continue
                self.env["mail.activity"].sudo().browse(sent.get("activity_ids", [])).exists().action_feedback(
                    feedback=_("The projection changed.") if key else _("Back on track.")
                )
                alerts.pop(kind, None)
                if key:
                    activities = class_sudo._hocba_schedule_alert(activity_type, principals, kind, info, data)
                    alerts[kind] = {"key": key, "activity_ids": activities.ids}
                    scheduled |= activities
            if alerts != (class_sudo.hocba_progress_alerts or {}):
                class_sudo.hocba_progress_alerts = alerts
        return scheduled

    def _hocba_schedule_alert(self, activity_type, principals, kind, info, data):
        self.ensure_one()
        activities = self.env["mail.activity"]
        for principal in principals:
            summary, note = self.with_context(lang=principal.lang)._hocba_alert_texts(kind, info)
            activities |= self.activity_schedule(
                activity_type_id=activity_type.id,
                user_id=principal.id,
                date_deadline=data["today"],
                summary=summary,
                note=note,
            )
        return activities

    def _hocba_alert_texts(self, kind, info):
        """``(summary, note)`` of the alert, in the language of the context."""
        Progress = self.env["hocba.progress"]
        forecast = info["forecasts"][kind]
        summary = _(
            "%(name)s may miss the deadline: %(deadline)s, %(date)s",
            name=self.name,
            deadline=Progress._hocba_deadline_label(kind),
            date=Progress._hocba_date(forecast.deadline),
        )
        waiting = ", ".join(info["waiting_for"].mapped("name")) or _("nobody named")
        note = Markup("<p>%s</p><p>%s</p>") % (
            Progress._hocba_forecast_text(forecast),
            _("Waiting for: %(people)s", people=waiting),
        )
        if info["overdue"]:
            late = ", ".join(Progress._hocba_late_people(info["overdue"]))
            note += Markup("<p>%s</p>") % _("Late at data entry: %(people)s", people=late)
        return summary, note
