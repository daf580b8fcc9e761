from odoo import fields, models


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
