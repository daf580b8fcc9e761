import base64

from odoo import _, fields, models

from ..lib.workbooks import certificate_costs as workbook


class HocbaCertificateCostExport(models.TransientModel):
    """The accountant's workbook of certificate costs and forecast renewals."""

    _name = "hocba.certificate.cost.export"
    _description = "Certificate costs workbook"

    file = fields.Binary(readonly=True, attachment=False)
    file_name = fields.Char(readonly=True)

    def _hocba_download(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        data = self._hocba_workbook(today)
        self.write({"file": base64.b64encode(data), "file_name": "certificate-costs-%s.xlsx" % today.isoformat()})
        return {
            "type": "ir.actions.act_url",
            "target": "self",
            "url": "/web/content?model=%s&id=%s&field=file&filename_field=file_name"
            "&download=true" % (self._name, self.id),
        }

    def _hocba_labels(self, model, field):
        return dict(self.env[model]._fields[field]._description_selection(self.env))

    def _hocba_workbook(self, today):
        """The xlsx bytes: every cost line the user may read, then the forecast."""
        Cost = "hocba.certificate.cost"
        kinds, providers = self._hocba_labels(Cost, "kind"), self._hocba_labels(Cost, "provider")
        types, purposes = self._hocba_labels(Cost, "cert_type"), self._hocba_labels(Cost, "purpose")
        costs = self.env[Cost].search([("company_id", "in", self.env.companies.ids)], order="date, id")
        cost_rows = [
            {
                "date": cost.date,
                "certificate": cost.certificate_id.display_name,
                "holder": cost.holder_id.name or "",
                "purpose": purposes.get(cost.purpose, ""),
                "provider": providers.get(cost.provider, ""),
                "type": types.get(cost.cert_type, ""),
                "kind": kinds.get(cost.kind, ""),
                "amount": int(cost.amount),
                "supplier": cost.supplier_id.name or "",
                "budget": cost.budget_line_id.display_name or "",
                "payer": cost.payer_id.name or "",
                "note": cost.note or "",
            }
            for cost in costs
        ]
        Forecast = self.env["hocba.certificate.forecast"]
        bases = self._hocba_labels("hocba.certificate.forecast", "basis")
        rows = Forecast._hocba_rows(self.env.company, today)
        names = {
            cert.id: cert.display_name
            for cert in self.env["hocba.certificate"].browse([row["certificate_id"] for row in rows])
        }
        holders = {
            user.id: user.name
            for user in self.env["res.users"].browse([row["holder_id"] for row in rows if row["holder_id"]])
        }
        forecast_rows = [
            {
                "due": row["due_date"],
                "days_left": row["days_left"],
                "certificate": names[row["certificate_id"]],
                "holder": holders.get(row["holder_id"], ""),
                "provider": providers.get(row["provider"], ""),
                "type": types.get(row["cert_type"], ""),
                "amount": row["expected_amount"],
                "basis": bases.get(row["basis"], ""),
            }
            for row in rows
        ]
        cost_columns = [
            ("date", _("Date"), "date"),
            ("certificate", _("Certificate"), "text"),
            ("holder", _("Holder"), "text"),
            ("purpose", _("Purpose"), "text"),
            ("provider", _("Certification provider"), "text"),
            ("type", _("Type"), "text"),
            ("kind", _("Kind of cost"), "text"),
            ("amount", _("Amount (VND)"), "money"),
            ("supplier", _("Supplier"), "text"),
            ("budget", _("Budget line"), "text"),
            ("payer", _("Paid by"), "text"),
            ("note", _("Note"), "text"),
        ]
        forecast_columns = [
            ("due", _("Due"), "date"),
            ("days_left", _("Days left"), "text"),
            ("certificate", _("Certificate"), "text"),
            ("holder", _("Holder"), "text"),
            ("provider", _("Certification provider"), "text"),
            ("type", _("Type"), "text"),
            ("amount", _("Expected cost (VND)"), "money"),
            ("basis", _("Basis"), "text"),
        ]
        return workbook.write_cost_workbook(
            [
                workbook.Sheet(_("Costs"), cost_columns, cost_rows, "amount", _("Total")),
                workbook.Sheet(_("Renewals due"), forecast_columns, forecast_rows, "amount", _("Total")),
            ],
            title=_(
                "Signing certificates: costs and renewals due (%(company)s, %(date)s)",
                company=self.env.company.name,
                date=today.strftime("%d/%m/%Y"),
            ),
        )
