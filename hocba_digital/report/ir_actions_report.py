from odoo import _, models
from odoo.exceptions import UserError

from ..lib.documents import html_pdf

OFFLINE_REPORTS = {"hocba_digital.report_progress"}


class IrActionsReport(models.Model):
    """The progress report is rendered offline, from its own self-contained HTML
    (see ``lib.html_pdf``), like the transcript: printed from the browser or
    by the monthly scheduled action, it needs no call back to the server."""

    _inherit = "ir.actions.report"

    def _render_qweb_pdf(self, report_ref, res_ids=None, data=None):
        report_sudo = self._get_report(report_ref)
        if report_sudo.report_name not in OFFLINE_REPORTS:
            return super()._render_qweb_pdf(report_ref, res_ids=res_ids, data=data)
        html, _kind = self._render_qweb_html(report_ref, res_ids, data=data)
        paper = report_sudo.paperformat_id
        try:
            pdf = html_pdf.html_to_pdf(
                html,
                page_size=paper.format or "A4",
                dpi=paper.dpi or 96,
                orientation=paper.orientation or "Portrait",
                margins_mm=(paper.margin_top, paper.margin_right, paper.margin_bottom, paper.margin_left),
            )
        except html_pdf.HtmlPdfError as exc:
            raise UserError(_("The report could not be made: %(why)s", why=exc)) from exc
        return pdf, "pdf"
