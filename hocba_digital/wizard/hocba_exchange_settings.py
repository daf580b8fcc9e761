from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.exchange import client as exchange_client

# wizard field -> company field
FIELDS = {
    "url": "hocba_exchange_url",
    "token": "hocba_exchange_token",
    "client_cert_pem": "hocba_exchange_client_cert_pem",
    "client_key_pem": "hocba_exchange_client_key_pem",
    "ca_pem": "hocba_exchange_ca_pem",
}


class HocbaExchangeSettings(models.TransientModel):
    """The school's connection to the Department / Ministry transcript store,
    kept by the IT officer without giving them the rest of the company record."""

    _name = "hocba.exchange.settings"
    _inherit = ["hocba.company.settings"]
    _description = "Transcript store settings"
    _hocba_company_fields = FIELDS

    url = fields.Char(string="Transcript store URL")
    token = fields.Char()
    client_cert_pem = fields.Text(string="TLS client certificate (PEM)")
    client_key_pem = fields.Text(string="TLS client key (PEM)")
    ca_pem = fields.Text(string="Store's CA (PEM)")
    has_trusted_roots = fields.Boolean(compute="_compute_has_trusted_roots")

    def _hocba_refusal(self):
        return _("Only the IT officer changes the transcript store settings.")

    @api.depends("company_id")
    def _compute_has_trusted_roots(self):
        for wizard in self:
            wizard.has_trusted_roots = bool(wizard.company_id.sudo().hocba_trusted_roots_pem)

    def action_save(self):
        self.ensure_one()
        self._hocba_check_it_officer()
        if bool(self.client_cert_pem) != bool(self.client_key_pem):
            raise UserError(_("A TLS client certificate needs its key, and a key its certificate."))
        return self._hocba_save({field: self[name] or False for name, field in FIELDS.items()})

    def action_test(self):
        """Ask the store about a key nobody uses: "nothing under this key" means
        it answered and accepted our credentials."""
        self.ensure_one()
        self._hocba_check_it_officer()
        if not self.url:
            raise UserError(_("Set the transcript store URL first."))
        try:
            client = exchange_client.ExchangeClient(
                self.env.company._hocba_reachable_url(self.url),
                self.token,
                client_cert_pem=self.client_cert_pem or None,
                client_key_pem=self.client_key_pem or None,
                ca_pem=self.ca_pem or None,
                read_timeout=10,
            )
        except (ValueError, OSError) as exc:
            raise UserError(_("These settings cannot be used: %(why)s", why=exc)) from None
        with client:
            outcome = client.status("hocba-connection-test")
        ok = outcome.kind == exchange_client.REJECTED and outcome.http_status == 404
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if ok else "danger",
                "sticky": not ok,
                "message": _("The transcript store answered and accepted the credentials.")
                if ok
                else _("The transcript store could not be used: %(why)s", why=outcome.message),
            },
        }
