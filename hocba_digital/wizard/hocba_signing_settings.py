from odoo import _, api, fields, models
from odoo.exceptions import AccessError

FIELDS = ("hocba_trusted_roots_pem", "hocba_tsa_url", "hocba_revocation_check")


class HocbaSigningSettings(models.TransientModel):
    """The school's signing settings, kept by the IT officer without giving
    them the rest of the company record: trusted roots, time-stamping service,
    revocation check."""

    _name = "hocba.signing.settings"
    _description = "Signing settings"

    company_id = fields.Many2one("res.company", default=lambda self: self.env.company,
                                 required=True, readonly=True)
    trusted_roots_pem = fields.Text(string="Trusted root certificates (PEM)")
    tsa_url = fields.Char(string="Time-stamping service URL")
    revocation_check = fields.Selection(
        lambda self: self.env["res.company"]._fields["hocba_revocation_check"].selection,
        string="Revocation check before signing", required=True, default="require")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        company = self.env.company.sudo()
        values.update(trusted_roots_pem=company.hocba_trusted_roots_pem,
                      tsa_url=company.hocba_tsa_url,
                      revocation_check=company.hocba_revocation_check or "require")
        return values

    def action_save(self):
        self.ensure_one()
        if not self.env.user.has_group("hocba_digital.group_hocba_it_officer"):
            raise AccessError(_("Only the IT officer changes the signing settings."))
        self.company_id.sudo().write({
            "hocba_trusted_roots_pem": self.trusted_roots_pem,
            "hocba_tsa_url": self.tsa_url,
            "hocba_revocation_check": self.revocation_check,
        })
        return {"type": "ir.actions.act_window_close"}
