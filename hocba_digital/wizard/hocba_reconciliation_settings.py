from odoo import _, fields, models
from odoo.exceptions import UserError

from ..lib.population import client as pc


class HocbaReconciliationSettings(models.TransientModel):
    """The online reconciliation service of the population database, kept by
    the IT officer without giving them the rest of the company record.  The
    token is never shown again: leave it empty to keep the one saved."""

    _name = "hocba.reconciliation.settings"
    _inherit = ["hocba.company.settings"]
    _description = "Population database service settings"
    _hocba_company_fields = {"url": "hocba_population_url"}

    url = fields.Char(string="Service URL")
    token = fields.Char(string="New access token")
    has_token = fields.Boolean(string="A token is saved", readonly=True)

    def _hocba_refusal(self):
        return _("Only the IT officer sets up the population database service.")

    def _hocba_read_company(self, company_sudo):
        # the token is never read back: only whether one is saved
        return dict(super()._hocba_read_company(company_sudo), has_token=bool(company_sudo.hocba_population_token))

    def action_save(self):
        vals = {"hocba_population_url": (self.url or "").strip() or False}
        if self.token:
            vals["hocba_population_token"] = self.token.strip()
        return self._hocba_save(vals)

    def action_test(self):
        """Save, then ask the service for its status."""
        self.action_save()
        company_sudo = self.company_id.sudo()
        try:
            url = company_sudo._hocba_reachable_url(company_sudo.hocba_population_url)
            with pc.PopulationClient(url, company_sudo.hocba_population_token, timeout=10.0, max_attempts=1) as client:
                client.status()
        except pc.PopulationError as error:
            raise UserError(_("The service does not answer as expected: %(error)s", error=error)) from None
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("The service answers."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
