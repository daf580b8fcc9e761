from odoo import api, fields, models


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
        string="Trusted root certificates (PEM)", groups="hocba_digital.group_hocba_it_officer",
        help="Root CAs whose certificates may sign transcripts (e.g. the national root CA); "
             "signatures that do not chain to one of them are refused and reported.")
    hocba_tsa_url = fields.Char(
        string="Time-stamping service URL", groups="hocba_digital.group_hocba_it_officer",
        help="RFC 3161 time-stamping authority. With it, PDF signatures are PAdES B-T and the "
             "seal's signature carries the revocation data (B-LT).")
    hocba_revocation_check = fields.Selection(
        [("require", "Refuse to sign when the revocation status cannot be checked"),
         ("soft", "Sign when the revocation service cannot be reached"),
         ("off", "Do not check (tests and training only)")],
        string="Revocation check before signing", default="require",
        groups="hocba_digital.group_hocba_it_officer")

    @api.model
    def _hocba_reachable_url(self, url):
        """``url`` as this process reaches it: as it is.  A hook for services
        served by this very server (the demo addon's store and population
        database), whose recorded address may name another port."""
        return url
