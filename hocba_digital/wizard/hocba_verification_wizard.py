import base64

from odoo import _, fields, models

VERDICT_SELECTION = [("valid", "Genuine"), ("invalid", "Not valid")]


class HocbaVerificationWizard(models.TransientModel):
    """Checks a transcript file (signed PDF or XML) brought to the school, with
    ``hocba.verification.service``, and shows its report."""

    _name = "hocba.verification.wizard"
    _description = "Transcript verification"

    file = fields.Binary(string="File (PDF or XML)", required=True)
    filename = fields.Char()
    verdict = fields.Selection(VERDICT_SELECTION, readonly=True)
    summary = fields.Char(readonly=True)
    report_html = fields.Html(readonly=True, sanitize=True)

    def action_verify(self):
        self.ensure_one()
        service = self.env["hocba.verification.service"]
        report = service.verify(base64.b64decode(self.file or b""))
        self.write(
            {
                "verdict": "valid" if report["verdict"] else "invalid",
                "summary": service.summary(report),
                "report_html": service.report_html(report),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Verification"),
        }
