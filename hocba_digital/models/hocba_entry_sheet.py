from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..groups import VICE_PRINCIPAL
from .hocba_transcript_line import PERIOD_SELECTION

LINE_FIELDS = {"subject_result_ids", "trait_assessment_ids"}


class HocbaEntrySheet(models.Model):
    """One grid a teacher fills and submits: a class, a period and a subject
    (subject sheet) or the class's qualities and competencies (homeroom sheet).

    Access: a teacher reads and fills their own sheets while they are drafts;
    the homeroom teacher reads every sheet of their class to follow progress;
    a head of subject group reads the sheets of their group's classes and
    sends one back with a reason; the vice principal, the principal and the
    IT officer read them all.  Sheets are made by "Prepare transcripts".
    """

    _name = "hocba.entry.sheet"
    _description = "Entry sheet"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "class_id, period, kind desc, subject_sequence"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    class_id = fields.Many2one("school.class", required=True, index=True, ondelete="cascade", check_company=True)
    year_id = fields.Many2one(related="class_id.year_id", store=True)
    grade = fields.Selection(related="class_id.grade")
    company_id = fields.Many2one(related="class_id.company_id", store=True, precompute=True)
    period = fields.Selection(PERIOD_SELECTION, required=True)
    kind = fields.Selection([("subject", "Subject"), ("homeroom", "Homeroom")], required=True)
    subject_id = fields.Many2one("school.subject")
    subject_sequence = fields.Integer(related="subject_id.sequence", store=True)
    assignment_id = fields.Many2one(
        "school.teaching.assignment",
        compute="_compute_assignment_id",
        store=True,
        compute_sudo=True,
        help="Follows the class's teaching assignments, so a change of "
        "teacher during the year moves the sheet to the new teacher.",
    )
    user_id = fields.Many2one(
        "res.users", string="Teacher", compute="_compute_user_id", store=True, index=True, compute_sudo=True
    )
    state = fields.Selection(
        [("draft", "To fill"), ("submitted", "Submitted")], default="draft", required=True, tracking=True
    )
    due_date = fields.Date(compute="_compute_due_date", store=True)
    review_state = fields.Selection(related="class_id.review_state")
    subject_result_ids = fields.One2many("hocba.subject.result", "sheet_id", string="Results")
    trait_assessment_ids = fields.One2many("hocba.trait.assessment", "sheet_id", string="Qualities and competencies")
    progress = fields.Float(compute="_compute_progress", string="Filled (%)", compute_sudo=True)

    _sql_constraints = [
        ("sheet_uniq", "unique(class_id, period, kind, subject_id)", "This class already has that sheet."),
    ]

    @api.depends("class_id.name", "subject_id.name", "kind", "period")
    def _compute_name(self):
        periods = dict(self._fields["period"]._description_selection(self.env))
        for sheet in self:
            what = sheet.subject_id.name if sheet.kind == "subject" else _("Qualities and competencies")
            sheet.name = "%s - %s - %s" % (sheet.class_id.name or "", what or "", periods.get(sheet.period, ""))

    @api.depends("kind", "subject_id", "class_id.teaching_assignment_ids.subject_id")
    def _compute_assignment_id(self):
        for sheet in self:
            sheet.assignment_id = (
                sheet.kind == "subject"
                and sheet.class_id.teaching_assignment_ids.filtered(lambda a: a.subject_id == sheet.subject_id)[:1]
            )

    @api.depends("kind", "assignment_id.user_id", "class_id.homeroom_user_id")
    def _compute_user_id(self):
        for sheet in self:
            sheet.user_id = sheet.assignment_id.user_id if sheet.kind == "subject" else sheet.class_id.homeroom_user_id

    @api.depends(
        "period", "year_id.mid_term1_date", "year_id.term1_end_date", "year_id.mid_term2_date", "year_id.date_end"
    )
    def _compute_due_date(self):
        for sheet in self:
            sheet.due_date = sheet.year_id._hocba_period_date(sheet.period)

    @api.depends("subject_result_ids.level", "trait_assessment_ids")
    def _compute_progress(self):
        for sheet in self:
            if sheet.kind == "subject":
                lines = sheet.subject_result_ids
                done = len(lines.filtered("level"))
            else:
                lines = sheet.trait_assessment_ids
                done = len(lines.filtered(lambda a: all(level for _c, level, _m in a._hocba_marks())))
            sheet.progress = 100.0 * done / len(lines) if lines else 0.0

    def write(self, vals):
        if not self.env.su and set(vals) - LINE_FIELDS - {"message_main_attachment_id"}:
            if not self.env.user.has_group(VICE_PRINCIPAL):
                raise AccessError(_("Use the buttons of the sheet to submit it or send it back."))
        if set(vals) & LINE_FIELDS:
            submitted = self.filtered(lambda s: s.state == "submitted")
            if submitted:
                raise UserError(
                    _(
                        "%(sheet)s is submitted: ask the head of the subject group to send it back before changing it.",
                        sheet=submitted[0].name,
                    )
                )
        return super().write(vals)

    # ---- Actions ----

    def action_open_grid(self):
        self.ensure_one()
        model = "hocba.subject.result" if self.kind == "subject" else "hocba.trait.assessment"
        view = (
            "hocba_digital.hocba_subject_result_view_list_grid"
            if self.kind == "subject"
            else "hocba_digital.hocba_trait_assessment_view_list_grid"
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": model,
            "view_mode": "list",
            "views": [(self.env.ref(view).id, "list")],
            "domain": [("sheet_id", "=", self.id)],
            "context": {"create": False, "delete": False},
        }

    def action_submit(self):
        for sheet in self:
            if sheet.user_id != self.env.user:
                raise AccessError(
                    _("Only %(teacher)s can submit %(sheet)s.", teacher=sheet.user_id.name, sheet=sheet.name)
                )
            missing = sheet._hocba_missing()
            if missing:
                raise UserError(
                    _("%(sheet)s cannot be submitted yet:\n%(missing)s", sheet=sheet.name, missing="\n".join(missing))
                )
        sheets_sudo = self.sudo()  # the teacher was checked above; state is not theirs to write
        sheets_sudo.write({"state": "submitted"})
        sheets_sudo.activity_feedback(["mail.mail_activity_data_todo"])
        self.filtered(lambda s: s.period == "end_year").class_id._hocba_plan_signing_activities()
        return True

    def action_send_back(self, reason):
        """A head of subject group returns a sheet to its teacher with the discrepancy found."""
        self.ensure_one()
        if not self.class_id._hocba_user_reviews():
            raise AccessError(
                _(
                    "Only the head of the subject group of %(name)s or the vice principal can send a sheet back.",
                    name=self.class_id.name,
                )
            )
        self.class_id._hocba_check_open()
        sheet_sudo = self.sudo()
        sheet_sudo.write({"state": "draft"})
        sheet_sudo.message_post(body=_("Sent back to the teacher: %(reason)s", reason=reason))
        if self.user_id:
            sheet_sudo.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=self.user_id.id,
                summary=_("Correct %(sheet)s", sheet=self.name),
                note=reason,
            )
        return True

    # ---- Business methods ----

    def _hocba_missing(self):
        """Lines that block submission: missing levels and required scores."""
        self.ensure_one()
        missing = []
        if self.kind == "subject":
            for result in self.subject_result_ids:
                if not result.level:
                    missing.append(_("%(pupil)s: no level", pupil=result.student_id.name))
                if result.score_required and not result.score:
                    missing.append(_("%(pupil)s: no test score", pupil=result.student_id.name))
            return missing
        for row in self.trait_assessment_ids:
            if not all(level for _code, level, _comment in row._hocba_marks()):
                missing.append(_("%(pupil)s: a quality or competency has no level", pupil=row.student_id.name))
        return missing

    @api.model
    def _cron_remind_teachers(self, days_ahead=7):
        """Schedule a to-do for each teacher with a draft sheet due soon (once per sheet)."""
        limit = fields.Date.add(fields.Date.context_today(self), days=days_ahead)
        sheets = self.search(
            [("state", "=", "draft"), ("due_date", "<=", limit), ("user_id", "!=", False), ("activity_ids", "=", False)]
        )
        for sheet in sheets:
            sheet.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=sheet.due_date,
                user_id=sheet.user_id.id,
                summary=_("Fill and submit %(sheet)s", sheet=sheet.name),
            )
        return len(sheets)
