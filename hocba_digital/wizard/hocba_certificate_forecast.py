from odoo import _, api, fields, models

from ..lib.rules import certificate_costs
from ..models.hocba_certificate import CERT_TYPE_SELECTION, PROVIDER_SELECTION


class HocbaCertificateForecast(models.TransientModel):
    """The renewals due in the next 12 months and what they are expected to
    cost, built afresh each time a user opens it (rows are the user's own)."""

    _name = "hocba.certificate.forecast"
    _description = "Certificate renewal forecast"
    _order = "due_date, id"

    certificate_id = fields.Many2one("hocba.certificate", string="Certificate", readonly=True)
    holder_id = fields.Many2one("res.users", string="Holder", readonly=True)
    purpose = fields.Selection([("personal", "Staff member"), ("seal", "School seal")], readonly=True)
    provider = fields.Selection(PROVIDER_SELECTION, string="Certification provider", readonly=True)
    cert_type = fields.Selection(CERT_TYPE_SELECTION, string="Type", readonly=True)
    due_date = fields.Date(string="Due", readonly=True)
    days_left = fields.Integer(readonly=True, aggregator=False)
    currency_id = fields.Many2one("res.currency", readonly=True)
    expected_amount = fields.Monetary(string="Expected cost (VND)", readonly=True)
    basis = fields.Selection(
        [("last_cost", "Last price paid"), ("price_table", "Price list")],
        readonly=True,
        help="Last price paid: the latest issuance, renewal or subscription of the same provider and type.",
    )
    company_id = fields.Many2one("res.company", readonly=True)

    @api.model
    def _hocba_rows(self, company, today=None, horizon_days=certificate_costs.FORECAST_DAYS):
        """The forecast of ``company`` as a list of field dicts (soonest first)."""
        today = today or fields.Date.context_today(self)
        Certificate = self.env["hocba.certificate"]
        certificates = Certificate.search(
            [("company_id", "=", company.id), ("revoked", "=", False), ("not_after", "!=", False)]
        )
        costs = self.env["hocba.certificate.cost"].search(
            [("company_id", "=", company.id), ("kind", "in", certificate_costs.PRICE_KINDS)]
        )
        plain_costs = [
            certificate_costs.Cost(
                cost.certificate_id.id, cost.provider or "other", cost.cert_type, cost.kind, int(cost.amount), cost.date
            )
            for cost in costs
        ]
        by_id = {cert.id: cert for cert in certificates}
        vnd = self.env.ref("base.VND")
        rows = []
        for renewal in certificate_costs.forecast_renewals(
            certificates._hocba_plain(), plain_costs, today, horizon_days
        ):
            cert = by_id[renewal.certificate_key]
            rows.append(
                {
                    "certificate_id": cert.id,
                    "holder_id": cert.user_id.id,
                    "purpose": cert.purpose,
                    "provider": cert.provider,
                    "cert_type": cert.cert_type,
                    "due_date": renewal.due,
                    "days_left": renewal.days_left,
                    "currency_id": vnd.id,
                    "expected_amount": renewal.expected_cost,
                    "basis": renewal.basis,
                    "company_id": company.id,
                }
            )
        return rows

    @api.model
    def _hocba_refresh(self, today=None):
        self.search([("create_uid", "=", self.env.uid)]).unlink()
        return self.create(self._hocba_rows(self.env.company, today))

    @api.model
    def action_hocba_open_forecast(self):
        rows = self._hocba_refresh()
        action = self.env["ir.actions.act_window"]._for_xml_id("hocba_digital.hocba_certificate_forecast_action")
        action["domain"] = [("id", "in", rows.ids)]
        action["display_name"] = _("Renewals due in the next 12 months")
        return action

    @api.model
    def action_hocba_export_xlsx(self):
        return self.env["hocba.certificate.cost"].action_hocba_export_xlsx()
