from odoo import api, fields, models

from ..lib.rules import certificate_costs

PROVIDER_SELECTION = [
    ("vnpt", "VNPT-CA"),
    ("viettel", "Viettel-CA"),
    ("fpt", "FPT-CA"),
    ("bkav", "BKAV-CA"),
    ("misa", "MISA-CA"),
    ("gcc", "Government Cipher Committee CA (Ban Cơ yếu Chính phủ)"),
    ("other", "Other"),
]
CERT_TYPE_SELECTION = [
    ("soft", "Soft certificate (file)"),
    ("token", "USB token"),
    ("remote", "Remote signing"),
]
COST_READERS = ("hocba_digital.group_hocba_accountant,hocba_digital.group_hocba_it_officer,"
                "hocba_digital.group_hocba_principal")
DOCUMENT_READERS = COST_READERS + ",hocba_digital.group_hocba_clerk"


class HocbaCertificateProvider(models.Model):
    """Who issued a certificate, in what form, the legal documents of its
    issuance and what it cost.  Costs are shown only to the accountant, the IT
    officer and the principal; documents also to the clerk who keeps them."""

    _inherit = "hocba.certificate"

    provider = fields.Selection(PROVIDER_SELECTION, string="Certification provider",
                                tracking=True, index=True)
    cert_type = fields.Selection(
        CERT_TYPE_SELECTION, string="Type", compute="_compute_cert_type", store=True,
        readonly=False, precompute=True, tracking=True,
        help="Follows the kind of key unless set by hand.")
    document_ids = fields.One2many("hocba.certificate.document", "certificate_id",
                                   string="Legal documents", groups=DOCUMENT_READERS)
    document_count = fields.Integer(compute="_compute_document_count", groups=DOCUMENT_READERS)
    cost_ids = fields.One2many("hocba.certificate.cost", "certificate_id", string="Costs",
                               groups=COST_READERS)
    cost_currency_id = fields.Many2one(
        "res.currency", compute="_compute_cost_total", groups=COST_READERS)
    cost_total = fields.Monetary(compute="_compute_cost_total", string="Total cost",
                                 currency_field="cost_currency_id", groups=COST_READERS)
    # the expiry warnings already given: the tightest threshold (days), and the
    # school year whose signing deadline this certificate was flagged for
    expiry_warned_days = fields.Integer(copy=False, readonly=True)
    deadline_warned_year_id = fields.Many2one("school.year", copy=False, readonly=True)

    @api.depends("backend")
    def _compute_cert_type(self):
        for cert in self:
            cert.cert_type = certificate_costs.type_for_backend(cert.backend)

    @api.depends("document_ids")
    def _compute_document_count(self):
        counts = dict(self.env["hocba.certificate.document"]._read_group(
            [("certificate_id", "in", self.ids)], ["certificate_id"], ["__count"]))
        for cert in self:
            cert.document_count = counts.get(cert, 0)

    @api.depends("cost_ids.amount")
    def _compute_cost_total(self):
        totals = dict(self.env["hocba.certificate.cost"]._read_group(
            [("certificate_id", "in", self.ids)], ["certificate_id"], ["amount:sum"]))
        vnd = self.env.ref("base.VND")
        for cert in self:
            cert.cost_currency_id = vnd
            cert.cost_total = totals.get(cert, 0)

    def write(self, vals):
        if "certificate_pem" in vals and any(
                (cert.certificate_pem or "").strip() != (vals["certificate_pem"] or "").strip()
                for cert in self):
            # another certificate (a renewal) is warned about afresh
            vals = dict(vals, expiry_warned_days=0, deadline_warned_year_id=False)
        return super().write(vals)

    def action_hocba_documents(self):
        return self._hocba_open_related("hocba_digital.hocba_certificate_document_action")

    def action_hocba_costs(self):
        return self._hocba_open_related("hocba_digital.hocba_certificate_cost_action")

    def _hocba_open_related(self, action_xmlid):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(action_xmlid)
        action["domain"] = [("certificate_id", "=", self.id)]
        action["context"] = {"default_certificate_id": self.id}
        return action
