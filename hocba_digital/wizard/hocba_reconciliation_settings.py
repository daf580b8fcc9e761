from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib.population import client as pc

IT_OFFICER = "hocba_digital.group_hocba_it_officer"


class HocbaReconciliationSettings(models.TransientModel):
    """The online reconciliation service of the population database, kept by
    the IT officer without giving them the rest of the company record.  The
    token is never shown again: leave it empty to keep the one saved."""

    _name = "hocba.reconciliation.settings"
    _description = "Population database service settings"

    company_id = fields.Many2one("res.company", default=lambda self: self.env.company,
                                 required=True, readonly=True)
    url = fields.Char(string="Service URL")
    token = fields.Char(string="New access token")
    has_token = fields.Boolean(string="A token is saved", readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        self._hocba_check_it_officer()
        company_sudo = self.env.company.sudo()
        values.update(url=company_sudo.hocba_population_url,
                      has_token=bool(company_sudo.hocba_population_token))
        return values

    def _hocba_check_it_officer(self):
        if not self.env.user.has_group(IT_OFFICER):
            raise AccessError(_("Only the IT officer sets up the population database service."))

    def action_save(self):
        self.ensure_one()
        self._hocba_check_it_officer()
        vals = {"hocba_population_url": (self.url or "").strip() or False}
        if self.token:
            vals["hocba_population_token"] = self.token.strip()
        self.company_id.sudo().write(vals)
        return {"type": "ir.actions.act_window_close"}

    def action_test(self):
        """Save, then ask the service for its status."""
        self.action_save()
        company_sudo = self.company_id.sudo()
        try:
            url = company_sudo._hocba_reachable_url(company_sudo.hocba_population_url)
            with pc.PopulationClient(url,
                                     company_sudo.hocba_population_token,
                                     timeout=10.0, max_attempts=1) as client:
                client.status()
        except pc.PopulationError as error:
            raise UserError(_("The service does not answer as expected: %(error)s",
                              error=error)) from None
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"type": "success", "message": _("The service answers."),
                           "next": {"type": "ir.actions.act_window_close"}}}
