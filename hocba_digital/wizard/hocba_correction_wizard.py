from odoo import fields, models


class HocbaCorrectionWizard(models.TransientModel):
    """Asks what must be corrected in signed transcripts before the request
    goes to the principal."""

    _name = "hocba.correction.wizard"
    _description = "Correction request"

    transcript_ids = fields.Many2many("hocba.transcript", string="Transcripts")
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.transcript_ids.action_request_correction(self.reason)
        return {"type": "ir.actions.act_window_close"}
