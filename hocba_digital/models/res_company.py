from odoo import api, fields, models

from ..groups import IT_OFFICER


class ResCompany(models.Model):
    """A school is a company, so one database can serve every school of a Department."""

    _inherit = "res.company"

    hocba_school_code = fields.Char(
        string="School code",
        help="Code of the school in the sector database (CSDL ngành).",
    )
    hocba_authority = fields.Char(
        string="Education authority",
        help="The Department of Education and Training the school reports to.",
    )
    hocba_year_ids = fields.One2many("school.year", "company_id", string="School years")
    hocba_trusted_roots_pem = fields.Text(
        string="Trusted root certificates (PEM)",
        groups=IT_OFFICER,
        help="Root CAs whose certificates may sign transcripts (e.g. the national root CA); "
        "signatures that do not chain to one of them are refused and reported.",
    )
    hocba_tsa_url = fields.Char(
        string="Time-stamping service URL",
        groups=IT_OFFICER,
        help="RFC 3161 time-stamping authority. With it, PDF signatures are PAdES B-T and the "
        "seal's signature carries the revocation data (B-LT).",
    )
    hocba_revocation_check = fields.Selection(
        [
            ("require", "Refuse to sign when the revocation status cannot be checked"),
            ("soft", "Sign when the revocation service cannot be reached"),
            ("off", "Do not check (tests and training only)"),
        ],
        string="Revocation check before signing",
        default="require",
        groups=IT_OFFICER,
    )

    @api.model
    def _hocba_reachable_url(self, url):
        """``url`` as this process reaches it: as it is.  A hook for services
        served by this very server (the demo addon's store and population
        database), whose recorded address may name another port."""
        return url

    # ----------------------------------------------------------------------
    # Where and how the school sends its packages (docs/exchange.md): the credentials
    # the Department gave the school, seen only by the IT officer (blanked by
    # data/neutralize.sql on a copied database).
    # ----------------------------------------------------------------------

    hocba_exchange_url = fields.Char(
        string="Transcript store URL",
        groups=IT_OFFICER,
        help="Base URL of the Department / Ministry transcript store, e.g. "
        "https://hocba.sogd.example.vn/api/hocba/v1 (packages go to <URL>/packages).",
    )
    hocba_exchange_token = fields.Char(
        string="Transcript store token", groups=IT_OFFICER, help="The bearer token the Department issued to the school."
    )
    hocba_exchange_client_cert_pem = fields.Text(
        string="TLS client certificate (PEM)",
        groups=IT_OFFICER,
        help="When the store asks for a client certificate: the school's, with its chain.",
    )
    hocba_exchange_client_key_pem = fields.Text(
        string="TLS client key (PEM)", groups=IT_OFFICER, help="The unencrypted private key of the client certificate."
    )
    hocba_exchange_ca_pem = fields.Text(
        string="Store's CA (PEM)",
        groups=IT_OFFICER,
        help="The CA that signed the store's server certificate, when it is not one the system trusts.",
    )

    # ----------------------------------------------------------------------
    # Where the school reaches the population database's reconciliation service, for
    # deployments that have one; kept by the IT officer only.
    # ----------------------------------------------------------------------

    hocba_population_url = fields.Char(
        string="Population database service URL",
        groups=IT_OFFICER,
        help="Base address of the online reconciliation service (see docs/reconciliation.md), "
        "e.g. https://host/api/population/v1. Empty: reconcile with files.",
    )
    hocba_population_token = fields.Char(
        string="Population database service token",
        groups=IT_OFFICER,
        copy=False,
        help="Bearer token given to the school for the service.",
    )
