import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

_logger = logging.getLogger(__name__)
PROGRESS_REPORT = "hocba_digital.action_report_hocba_progress"


class SchoolYear(models.Model):
    """The monthly progress report of a school year: printed on demand, and
    mailed by a scheduled action to the school's steering committee (the
    principal and the vice principals), as a PDF posted on the year; and the
    daily check of the deadline alerts."""

    _inherit = "school.year"

    def action_hocba_print_progress(self):
        self.env["hocba.progress"]._hocba_check_reader()
        return self.env.ref(PROGRESS_REPORT).report_action(self)

    def action_hocba_send_progress(self):
        if not self.env.user.has_group("hocba_digital.group_hocba_vice_principal"):
            raise AccessError(_("Only the principal and the vice principal send the progress "
                                "report."))
        self.check_access("read")
        today = fields.Date.context_today(self)
        names = []
        for year in self:
            message = year._hocba_send_progress_report(today)
            names += message.partner_ids.mapped("name")
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"type": "success", "sticky": False,
                       "message": _("The progress report was sent to %(people)s.",
                                    people=", ".join(names))},
        }

    def _hocba_send_progress_report(self, today):
        """Render the report of this year on ``today`` and post it, as a PDF, on
        the year to the principal and the vice principals of its school."""
        self.ensure_one()
        principals, vice_principals = self.env["hocba.progress"]._hocba_committee(self.company_id)
        recipients = principals | vice_principals
        if not recipients:
            raise UserError(_("%(school)s has no principal or vice principal to send the "
                              "progress report to.", school=self.company_id.name))
        # the callers checked the user (send button) or run as the scheduler
        year_sudo = self.sudo().with_context(lang=recipients[0].lang or self.env.lang)
        report_sudo = self.env.ref(PROGRESS_REPORT).sudo().with_context(lang=year_sudo.env.lang)
        pdf, _kind = report_sudo._render_qweb_pdf(
            PROGRESS_REPORT, year_sudo.ids, data={"today": fields.Date.to_string(today)})
        return year_sudo._hocba_post_progress_report(pdf, today, recipients)

    def _hocba_post_progress_report(self, pdf, today, recipients):
        date = self.env["hocba.progress"]._hocba_date(today)
        filename = _("Progress report %(year)s %(date)s.pdf", year=self.name,
                     date=fields.Date.to_string(today))
        return self.message_post(
            subject=_("Digital transcripts: progress report of %(year)s, %(date)s",
                      year=self.name, date=date),
            body=_("The progress of the digital transcripts of %(school)s on %(date)s is "
                   "attached: figures per grade, class and tier, the deadlines and the late "
                   "classes with who they wait for.", school=self.company_id.name, date=date),
            partner_ids=recipients.partner_id.ids, attachments=[(filename, pdf)],
            message_type="comment", subtype_xmlid="mail.mt_comment")

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
                _logger.exception("Progress job failed for school year %s of %s", year.name,
                                  year.company_id.name)
