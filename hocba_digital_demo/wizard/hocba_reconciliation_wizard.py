from odoo import api, fields, models


class HocbaReconciliationWizard(models.TransientModel):
    """In a demo database, the reconciliation wizard also offers the answer of
    the demo population database as a file to import."""

    _inherit = "hocba.reconciliation.wizard"

    demo_available = fields.Boolean(string="Demo population database available", compute="_compute_demo_available")

    @api.depends()
    def _compute_demo_available(self):
        available = self.env["hocba.demo.population"]._hocba_registry() is not None
        for wizard in self:
            wizard.demo_available = available

    def action_download_demo_answer(self):
        """Demo database only: the answer the demo population database gives
        for the pupils chosen, as a file to import."""
        self.ensure_one()
        self.env["hocba.reconciliation"]._hocba_check_reconciler()
        data = self.env["hocba.demo.population"]._hocba_answer_file(self._hocba_pupils())
        return self._hocba_download("KetQuaDoiSoat_demo.xlsx", data)
