from odoo import _, fields, models


class HocbaSigningSettings(models.TransientModel):
    """The school's signing settings, kept by the IT officer without giving
    them the rest of the company record: trusted roots, time-stamping service,
    revocation check."""

    _name = "hocba.signing.settings"
    _inherit = ["hocba.company.settings"]
    _description = "Signing settings"
    _hocba_company_fields = {
        "trusted_roots_pem": "hocba_trusted_roots_pem",
        "tsa_url": "hocba_tsa_url",
        "revocation_check": "hocba_revocation_check",
    }

    trusted_roots_pem = fields.Text(string="Trusted root certificates (PEM)")
    tsa_url = fields.Char(string="Time-stamping service URL")
    revocation_check = fields.Selection(
        lambda self: self.env["res.company"]._fields["hocba_revocation_check"].selection,
        string="Revocation check before signing",
        required=True,
        default="require",
    )

    def _hocba_refusal(self):
        return _("Only the IT officer changes the signing settings.")

    def _hocba_read_company(self, company_sudo):
        values = super()._hocba_read_company(company_sudo)
        values["revocation_check"] = values["revocation_check"] or "require"
        return values

    def action_save(self):
        return self._hocba_save({field: self[name] for name, field in self._hocba_company_fields.items()})
