from odoo import _, api, fields, models


class HocbaCertificateCoverageLine(models.TransientModel):
    """Who must sign this year and whether they hold a usable certificate: the
    list behind the coverage figure, built afresh each time it is opened."""

    _name = "hocba.certificate.coverage.line"
    _description = "Signing certificate coverage"
    _order = "covered, user_id, need"

    user_id = fields.Many2one("res.users", string="Staff member", readonly=True)
    need = fields.Selection([("personal", "Personal certificate"), ("seal", "School seal")], readonly=True)
    certificate_id = fields.Many2one("hocba.certificate", string="Certificate", readonly=True)
    covered = fields.Boolean(string="Has a usable certificate", readonly=True)
    problem = fields.Char(readonly=True)
    year_id = fields.Many2one("school.year", string="School year", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    @api.model
    def _hocba_refresh(self, company=None):
        company = company or self.env.company
        coverage = self.env["hocba.certificate"]._hocba_certificate_coverage(company)
        self.search([("create_uid", "=", self.env.uid)]).unlink()
        return self.create(
            [
                {
                    "user_id": entry["user"].id,
                    "need": entry["need"],
                    "certificate_id": entry["certificate"].id,
                    "covered": entry["covered"],
                    "problem": entry["problem"],
                    "year_id": coverage["year"].id,
                    "company_id": company.id,
                }
                for entry in coverage["entries"]
            ]
        ), coverage

    @api.model
    def action_hocba_open_coverage(self):
        lines, coverage = self._hocba_refresh()
        action = self.env["ir.actions.act_window"]._for_xml_id("hocba_digital.hocba_certificate_coverage_line_action")
        action["domain"] = [("id", "in", lines.ids)]
        action["display_name"] = _(
            "Signing certificates: %(covered)s of %(required)s signers covered (%(rate)s%%)",
            covered=coverage["covered_count"],
            required=coverage["required_count"],
            rate=coverage["rate"],
        )
        return action
