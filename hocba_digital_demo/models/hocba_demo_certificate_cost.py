import base64
import datetime
import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

MODULE = "hocba_digital_demo"
# (provider, type) given to the demo teachers' certificates in turn
TEACHER_PROVIDERS = [
    ("vnpt", "soft"),
    ("viettel", "soft"),
    ("vnpt", "remote"),
    ("fpt", "soft"),
    ("viettel", "remote"),
    ("misa", "soft"),
    ("bkav", "soft"),
]
# what one year of each costs the demo school (VND); the state-funded
# Government Cipher Committee certificates cost nothing but their token
PRICES = {
    ("vnpt", "soft"): 1_650_000,
    ("viettel", "soft"): 1_500_000,
    ("vnpt", "remote"): 1_200_000,
    ("fpt", "soft"): 1_400_000,
    ("viettel", "remote"): 1_100_000,
    ("misa", "soft"): 1_350_000,
    ("bkav", "soft"): 1_450_000,
    ("gcc", "token"): 0,
}
TOKEN_PRICE = 550_000
SIGNATURE_PACK = 200_000  # a pack of remote signatures beyond the subscription
SUPPLIERS = {
    "vnpt": "VNPT Hải Phòng",
    "viettel": "Viettel Hải Phòng",
    "fpt": "Công ty TNHH Hệ thống Thông tin FPT",
    "misa": "Công ty Cổ phần MISA",
    "bkav": "Công ty Cổ phần BKAV",
    "gcc": "Cục Chứng thực số và Bảo mật thông tin (Ban Cơ yếu Chính phủ)",
}
# the smallest PDF a viewer opens: stands for the scanned decision
DEMO_PDF = (
    b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids"
    b"[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"
    b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class HocbaDemoCertificateCost(models.AbstractModel):
    """Providers, costs, budget lines and legal documents of the demo school's
    certificates (called by the demo XML after the demo PKI): last year's
    issuance, this year's renewals, tokens and subscriptions, so that the demo
    accountant (``ketoan``) sees this year's cost and next year's renewals."""

    _name = "hocba.demo.certificate.cost"
    _description = "Demo certificate costs"

    @api.model
    def _load_demo_certificate_costs(self):
        if self.env.ref(f"{MODULE}.demo_budget_line_this_year", raise_if_not_found=False):
            return
        company = self.env.ref("base.main_company")
        certificates = (
            self.env["hocba.certificate"]
            .with_context(tracking_disable=True)
            .search([("company_id", "=", company.id)], order="id")
        )
        if not certificates:
            return
        this_year = fields.Date.context_today(self).year
        lines = self._demo_budget_lines(company, this_year)
        suppliers = {
            code: self.env["res.partner"].create({"name": name, "is_company": True}) for code, name in SUPPLIERS.items()
        }
        management = self.env.ref(f"{MODULE}.user_demo_hieutruong") | self.env.ref(f"{MODULE}.user_demo_phohieutruong")
        vals_list = []
        teachers = 0
        for cert in certificates:
            if cert.purpose == "seal" or cert.user_id in management:
                provider, cert_type = "gcc", "token"
            else:
                provider, cert_type = TEACHER_PROVIDERS[teachers % len(TEACHER_PROVIDERS)]
                teachers += 1
            cert.write({"provider": provider, "cert_type": cert_type})
            vals_list += self._demo_cost_vals(cert, company, lines, suppliers[provider])
        self.env["hocba.certificate.cost"].with_context(tracking_disable=True).create(vals_list)
        self._demo_documents(certificates.filtered(lambda c: c.provider == "gcc"))
        _logger.info("Demo certificate costs: %d lines on %d certificates", len(vals_list), len(certificates))

    def _demo_budget_lines(self, company, this_year):
        Line = self.env["hocba.budget.line"].with_context(tracking_disable=True)
        planned = {this_year - 1: 28_000_000, this_year: 30_000_000, this_year + 1: 27_000_000}
        lines = {}
        for year, amount in planned.items():
            lines[year] = Line.create(
                {
                    "name": "Chữ ký số cho học bạ số",
                    "code": "CKS",
                    "fiscal_year": year,
                    "planned_amount": amount,
                    "company_id": company.id,
                }
            )
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": f"{MODULE}.demo_budget_line_{key}", "record": lines[year], "noupdate": True}
                for key, year in (("last_year", this_year - 1), ("this_year", this_year), ("next_year", this_year + 1))
            ]
        )
        return lines

    def _demo_cost_vals(self, cert, company, lines, supplier):
        """Last year's issuance, this year's renewal (with a token or the
        remote-signing subscription and a signature pack)."""
        renewed = cert.not_before.date() if cert.not_before else fields.Date.context_today(self)
        issued = renewed - datetime.timedelta(days=365)
        price = PRICES[(cert.provider, cert.cert_type)]

        def cost(kind, amount, date, name):
            return {
                "certificate_id": cert.id,
                "kind": kind,
                "amount": amount,
                "date": date,
                "name": name,
                "supplier_id": supplier.id,
                "company_id": company.id,
                "budget_line_id": lines[date.year].id if date.year in lines else False,
            }

        vals = [cost("issuance", price, issued, "Cấp mới chứng thư số 1 năm")]
        if cert.cert_type == "remote":
            vals[0]["kind"] = "subscription"
            vals.append(cost("subscription", price, renewed, "Gia hạn thuê bao ký số từ xa 1 năm"))
            vals.append(cost("per_signature", SIGNATURE_PACK, renewed, "Gói 500 lượt ký bổ sung"))
        else:
            vals.append(cost("renewal", price, renewed, "Gia hạn chứng thư số 1 năm"))
        if cert.cert_type == "token":
            vals.append(cost("token", TOKEN_PRICE, issued, "Thiết bị USB token"))
        return vals

    def _demo_documents(self, certificates):
        self.env["hocba.certificate.document"].with_context(tracking_disable=True).create(
            [
                {
                    "certificate_id": cert.id,
                    "kind": "decision",
                    "name": "Quyết định cấp chứng thư số chuyên dùng Chính phủ",
                    "reference": "%d/QĐ-CTSBMTT" % (100 + index),
                    "date": cert.not_before.date(),
                    "file": base64.b64encode(DEMO_PDF),
                    "file_name": "quyet-dinh-cap-cts.pdf",
                }
                for index, cert in enumerate(certificates)
                if cert.not_before
            ]
        )
