from odoo import fields, models

IT_OFFICER = "hocba_digital.group_hocba_it_officer"


class ResCompany(models.Model):
    """Where and how the school sends its packages (docs/exchange.md): the
    credentials the Department gave the school, seen only by the IT officer
    (blanked by data/neutralize.sql on a copied database)."""

    _inherit = "res.company"

    hocba_exchange_url = fields.Char(
        string="Transcript store URL", groups=IT_OFFICER,
        help="Base URL of the Department / Ministry transcript store, e.g. "
             "https://hocba.sogd.example.vn/api/hocba/v1 (packages go to <URL>/packages).")
    hocba_exchange_token = fields.Char(string="Transcript store token", groups=IT_OFFICER,
                                       help="The bearer token the Department issued to the school.")
    hocba_exchange_client_cert_pem = fields.Text(
        string="TLS client certificate (PEM)", groups=IT_OFFICER,
        help="When the store asks for a client certificate: the school's, with its chain.")
    hocba_exchange_client_key_pem = fields.Text(
        string="TLS client key (PEM)", groups=IT_OFFICER,
        help="The unencrypted private key of the client certificate.")
    hocba_exchange_ca_pem = fields.Text(
        string="Store's CA (PEM)", groups=IT_OFFICER,
        help="The CA that signed the store's server certificate, when it is not one the "
             "system trusts.")
