import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..groups import VICE_PRINCIPAL
from ..lib.rules import school_calendar

_logger = logging.getLogger(__name__)

PROGRESS_REPORT = "hocba_digital.action_report_hocba_progress"


class SchoolYear(models.Model):
    """A school year (năm học) of one school, with the plan's two deadlines.

    Access: every school staff member reads years; the vice principal creates
    and edits them; only the principal deletes one.
    """

    _name = "school.year"
    _description = "School year"
    # activities: the IT officer's sync alerts (packages failing, the sync deadline near)
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True, readonly=False, required=True, precompute=True)
    date_start = fields.Date(string="Start", required=True, tracking=True)
    mid_term1_date = fields.Date(
        string="Mid-term 1 assessment", compute="_compute_period_dates", store=True, readonly=False, tracking=True
    )
    term1_end_date = fields.Date(string="End of term 1", required=True, tracking=True)
    mid_term2_date = fields.Date(
        string="Mid-term 2 assessment", compute="_compute_period_dates", store=True, readonly=False, tracking=True
    )
    date_end = fields.Date(string="End", required=True, tracking=True)
    signing_deadline = fields.Date(
        compute="_compute_deadlines",
        store=True,
        readonly=False,
        required=True,
        precompute=True,
        tracking=True,
        help="The school's own date by which every transcript must be signed (default 15 June).",
    )
    sync_deadline = fields.Date(
        compute="_compute_deadlines",
        store=True,
        readonly=False,
        required=True,
        precompute=True,
        tracking=True,
        help="Date by which every signed package must reach the Department and the Ministry (default 20 August).",
    )
    state = fields.Selection(
        [("draft", "Preparing"), ("open", "In progress"), ("closed", "Closed")],
        default="draft",
        required=True,
        tracking=True,
    )
    class_ids = fields.One2many("school.class", "year_id", string="Classes")
    class_count = fields.Integer(compute="_compute_class_count")
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )

    _sql_constraints = [
        (
            "name_company_uniq",
            "unique(name, company_id)",
            "A school year with this name already exists in this school.",
        ),
    ]

    @api.depends("date_start", "date_end")
    def _compute_name(self):
        for year in self:
            if year.date_start and year.date_end:
                year.name = school_calendar.year_name(year.date_start, year.date_end)
            elif not year.name:
                year.name = False

    @api.depends("date_end")
    def _compute_deadlines(self):
        for year in self:
            if year.date_end:
                year.signing_deadline, year.sync_deadline = school_calendar.default_deadlines(year.date_end)
            else:
                year.signing_deadline = year.sync_deadline = False

    @api.depends("date_start", "term1_end_date")
    def _compute_period_dates(self):
        for year in self:
            year.mid_term1_date, year.mid_term2_date = school_calendar.default_mid_terms(
                year.date_start, year.term1_end_date
            )

    def _compute_class_count(self):
        counts = dict(self.env["school.class"]._read_group([("year_id", "in", self.ids)], ["year_id"], ["__count"]))
        for year in self:
            year.class_count = counts.get(year, 0)

    @api.constrains("date_start", "term1_end_date", "date_end", "signing_deadline", "sync_deadline")
    def _check_dates(self):
        messages = {
            "start_after_end": _("The school year must start before it ends."),
            "term1_outside": _("The end of term 1 must fall between the start and the end of the school year."),
            "signing_before_start": _("The signing deadline must come after the start of the school year."),
            "sync_before_signing": _("The sync deadline cannot come before the signing deadline."),
        }
        for year in self:
            problems = school_calendar.check_dates(
                year.date_start, year.term1_end_date, year.date_end, year.signing_deadline, year.sync_deadline
            )
            if problems:
                raise ValidationError("\n".join(messages[p] for p in problems))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_classes(self):
        if self.class_ids:
            raise UserError(
                _(
                    "School year %(name)s still has classes: delete or archive them first.",
                    name=self.class_ids[0].year_id.name,
                )
            )

    def _hocba_period_date(self, period):
        """The date by which the assessment of ``period`` is due."""
        self.ensure_one()
        return {
            "mid_term1": self.mid_term1_date,
            "end_term1": self.term1_end_date,
            "mid_term2": self.mid_term2_date,
            "end_year": self.date_end,
        }.get(period)

    def action_open(self):
        self.write({"state": "open"})

    def action_close(self):
        self.write({"state": "closed"})

    def action_view_classes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hocba_digital.school_class_action")
        action["domain"] = [("year_id", "=", self.id)]
        action["context"] = {"default_year_id": self.id}
        return action

    # ----------------------------------------------------------------------
    # The school year carries the IT officer's sync activities (packages failing, the
    # sync deadline near) and its packages' figures.
    # ----------------------------------------------------------------------

    exchange_count = fields.Integer(string="Packages", compute="_compute_exchange_counts")
    exchange_open_count = fields.Integer(string="Packages not acknowledged", compute="_compute_exchange_counts")

    def _compute_exchange_counts(self):
        exchange = self.env["hocba.exchange"]
        total, open_ = {}, {}
        if exchange.has_access("read"):
            for year, state, count in exchange._read_group(
                [("year_id", "in", self.ids)], ["year_id", "state"], ["__count"]
            ):
                total[year] = total.get(year, 0) + count
                if state != "acknowledged":
                    open_[year] = open_.get(year, 0) + count
        for year in self:
            year.exchange_count = total.get(year, 0)
            year.exchange_open_count = open_.get(year, 0)

    def action_view_exchange(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hocba_digital.hocba_exchange_action")
        action["domain"] = [("year_id", "=", self.id)]
        action["context"] = {"search_default_group_class": 1}
        action["name"] = _("Packages of %(year)s", year=self.name)
        return action

    # ----------------------------------------------------------------------
    # The monthly progress report of a school year: printed on demand, and mailed by a
    # scheduled action to the school's steering committee (the principal and the vice
    # principals), as a PDF posted on the year; and the daily check of the deadline
    # alerts.
    # ----------------------------------------------------------------------

    def action_hocba_print_progress(self):
        self.env["hocba.progress"]._hocba_check_reader()
        return self.env.ref(PROGRESS_REPORT).report_action(self)

    def action_hocba_send_progress(self):
        if not self.env.user.has_group(VICE_PRINCIPAL):
            raise AccessError(_("Only the principal and the vice principal send the progress report."))
        self.check_access("read")
        today = fields.Date.context_today(self)
        names = []
        for year in self:
            message = year._hocba_send_progress_report(today)
            names += message.partner_ids.mapped("name")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "sticky": False,
                "message": _("The progress report was sent to %(people)s.", people=", ".join(names)),
            },
        }

    def _hocba_send_progress_report(self, today):
        """Render the report of this year on ``today`` and post it, as a PDF, on
        the year to the principal and the vice principals of its school."""
        self.ensure_one()
        principals, vice_principals = self.env["hocba.progress"]._hocba_committee(self.company_id)
        recipients = principals | vice_principals
        if not recipients:
            raise UserError(
                _(
                    "%(school)s has no principal or vice principal to send the progress report to.",
                    school=self.company_id.name,
                )
            )
        # the callers checked the user (send button) or run as the scheduler
        year_sudo = self.sudo().with_context(lang=recipients[0].lang or self.env.lang)
        report_sudo = self.env.ref(PROGRESS_REPORT).sudo().with_context(lang=year_sudo.env.lang)
        pdf, _kind = report_sudo._render_qweb_pdf(
            PROGRESS_REPORT, year_sudo.ids, data={"today": fields.Date.to_string(today)}
        )
        return year_sudo._hocba_post_progress_report(pdf, today, recipients)

    def _hocba_post_progress_report(self, pdf, today, recipients):
        date = self.env["hocba.progress"]._hocba_date(today)
        filename = _("Progress report %(year)s %(date)s.pdf", year=self.name, date=fields.Date.to_string(today))
        return self.message_post(
            subject=_("Digital transcripts: progress report of %(year)s, %(date)s", year=self.name, date=date),
            body=_(
                "The progress of the digital transcripts of %(school)s on %(date)s is "
                "attached: figures per grade, class and tier, the deadlines and the late "
                "classes with who they wait for.",
                school=self.company_id.name,
                date=date,
            ),
            partner_ids=recipients.partner_id.ids,
            attachments=[(filename, pdf)],
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    def _hocba_check_progress_alerts(self, today):
        self.ensure_one()
        Progress = self.env["hocba.progress"]
        principals, _vice = Progress._hocba_committee(self.company_id)
        data = Progress._hocba_progress_data(self, today, all_waiting=False)
        return self.env["school.class"]._hocba_alert_deadlines(data, principals)

    @api.model
    def _cron_hocba_progress_report(self):
        """Monthly: every open year of every school, each in its own savepoint."""
        self._hocba_each_open_year(lambda year, today: year._hocba_send_progress_report(today))

    @api.model
    def _cron_hocba_progress_alerts(self):
        """Daily: the deadline alerts of every open year of every school."""
        self._hocba_each_open_year(lambda year, today: year._hocba_check_progress_alerts(today))

    @api.model
    def _hocba_each_open_year(self, job):
        today = fields.Date.context_today(self)
        for year in self.sudo().search([("state", "=", "open")]):
            try:
                with self.env.cr.savepoint():
                    job(year, today)
            except Exception:  # noqa: BLE001 - one school's failure must not stop the others
                _logger.exception("Progress job failed for school year %s of %s", year.name, year.company_id.name)
