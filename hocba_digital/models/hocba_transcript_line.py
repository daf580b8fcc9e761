from odoo import fields, models

from ..lib.rules import catalogue

# the codes and their order are the rules' (lib), the words the model's (translated)
PERIOD_LABELS = {
    "mid_term1": "Mid-term 1",
    "end_term1": "End of term 1",
    "mid_term2": "Mid-term 2",
    "end_year": "End of year",
}
PERIOD_SELECTION = [(code, PERIOD_LABELS[code]) for code in catalogue.PERIODS]


class HocbaTranscriptLine(models.AbstractModel):
    """What a row of a transcript shares: its transcript, period and entry sheet,
    and the rule that nothing in a locked class changes."""

    _name = "hocba.transcript.line"
    _description = "Transcript row"
    _inherit = ["mail.thread"]
    _check_company_auto = True

    transcript_id = fields.Many2one("hocba.transcript", required=True, index=True, ondelete="cascade")
    student_id = fields.Many2one(related="transcript_id.student_id", store=True, index=True)
    class_id = fields.Many2one(related="transcript_id.class_id", store=True, index=True)
    company_id = fields.Many2one(related="transcript_id.company_id", store=True)
    period = fields.Selection(PERIOD_SELECTION, required=True, index=True)
    sheet_id = fields.Many2one("hocba.entry.sheet", index=True, ondelete="set null")

    def write(self, vals):
        self.check_access("write")  # who may not write at all is told that first
        self.transcript_id._hocba_check_editable()
        for line in self:
            line.transcript_id._hocba_check_signed(**line._hocba_signed_scope())
        return super().write(vals)

    def _hocba_signed_scope(self):
        """What of the transcript this row is part of, for the signature freeze."""
        return {"data": True}
