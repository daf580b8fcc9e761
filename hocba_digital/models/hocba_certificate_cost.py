from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.rules import certificate_costs
from .hocba_certificate import CERT_TYPE_SELECTION, PROVIDER_SELECTION

# the codes and their order are the rules' (lib), the words the model's (translated)
COST_KIND_LABELS = {
    "issuance": "Issuance",
    "renewal": "Renewal",
    "token": "Token hardware",
    "subscription": "Remote-signing subscription",
    "per_signature": "Per-signature fees",
}
COST_KIND_SELECTION = [(code, COST_KIND_LABELS[code]) for code in certificate_costs.COST_KINDS]


class HocbaCertificateCost(models.Model):
    """One amount the school paid for a signing certificate, in VND.

    Access: the accountant records and corrects costs; the IT officer and the
    principal read them; teachers and parents see none.  No cost is ever borne
    by a pupil or a family: a payer who is a pupil or a guardian is refused.
    """

    _name = "hocba.certificate.cost"
    _description = "Certificate cost"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Description")
    certificate_id = fields.Many2one(
        "hocba.certificate",
        string="Certificate",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        tracking=True,
    )
    holder_id = fields.Many2one(related="certificate_id.user_id", string="Holder", store=True)
    purpose = fields.Selection(related="certificate_id.purpose", store=True)
    provider = fields.Selection(
        PROVIDER_SELECTION,
        compute="_compute_from_certificate",
        store=True,
        readonly=False,
        precompute=True,
        string="Certification provider",
    )
    cert_type = fields.Selection(
        CERT_TYPE_SELECTION,
        compute="_compute_from_certificate",
        store=True,
        readonly=False,
        precompute=True,
        string="Type",
    )
    kind = fields.Selection(COST_KIND_SELECTION, required=True, default="renewal", tracking=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True, default=lambda s: s.env.ref("base.VND"))
    amount = fields.Monetary(string="Amount (VND)", required=True, tracking=True)
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    fiscal_year = fields.Integer(compute="_compute_fiscal_year", store=True, index=True, aggregator=False)
    supplier_id = fields.Many2one("res.partner", string="Supplier", tracking=True)
    budget_line_id = fields.Many2one(
        "hocba.budget.line",
        string="Budget line",
        index=True,
        check_company=True,
        tracking=True,
        domain="[('fiscal_year', '=', fiscal_year)]",
    )
    payer_id = fields.Many2one(
        "res.partner",
        string="Paid by",
        required=True,
        tracking=True,
        default=lambda s: s.env.company.partner_id,
        help="The school, or the body that funds it: never a pupil or a family.",
    )
    note = fields.Text()
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda s: s.env.company)

    @api.depends("certificate_id")
    def _compute_from_certificate(self):
        # the certificate's provider and type at the time of the cost: a later
        # change of provider does not rewrite what was paid to the former one
        for cost in self:
            cost.provider = cost.certificate_id.provider
            cost.cert_type = cost.certificate_id.cert_type

    @api.depends("date")
    def _compute_fiscal_year(self):
        for cost in self:
            cost.fiscal_year = cost.date.year if cost.date else 0

    @api.depends("kind", "certificate_id", "name")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for cost in self:
            cost.display_name = cost.name or "%s - %s" % (
                kinds.get(cost.kind, ""),
                cost.certificate_id.display_name or "",
            )

    @api.constrains("payer_id")
    def _check_payer_not_family(self):
        payers = self.payer_id | self.payer_id.commercial_partner_id | self.payer_id.parent_id
        family = self._hocba_family_partners(payers)
        for cost in self:
            if (cost.payer_id | cost.payer_id.commercial_partner_id) & family:
                raise ValidationError(
                    _(
                        "%(payer)s is a pupil or a pupil's guardian: certificate costs are borne "
                        "by the school, never by a pupil or a family.",
                        payer=cost.payer_id.name,
                    )
                )

    @api.model
    def _hocba_family_partners(self, partners):
        """Those of ``partners`` that are a pupil's guardian, or a pupil (any school)."""
        if not partners:
            return partners
        # the accountant has no access to pupils: only which partners are
        # guardians (or pupils, should pupils become contacts) is read, for this check
        students_sudo = self.env["school.student"].sudo().with_context(active_test=False)
        family = students_sudo.search([("guardian_ids", "in", partners.ids)]).guardian_ids
        if "partner_id" in students_sudo._fields:
            family |= students_sudo.search([("partner_id", "in", partners.ids)]).partner_id
        family |= partners.filtered("hocba_guardian_relation")
        return partners & family

    @api.constrains("amount")
    def _check_amount(self):
        for cost in self:
            if cost.amount < 0:
                raise ValidationError(_("A cost cannot be negative: record a refund as a note on the cost it reduces."))

    @api.constrains("budget_line_id", "date")
    def _check_budget_year(self):
        for cost in self.filtered("budget_line_id"):
            if cost.budget_line_id.fiscal_year != cost.date.year:
                raise ValidationError(
                    _(
                        "The cost of %(date)s cannot be charged to the budget line %(line)s of fiscal year %(year)s.",
                        date=cost.date.strftime("%d/%m/%Y"),
                        line=cost.budget_line_id.display_name,
                        year=cost.budget_line_id.fiscal_year,
                    )
                )

    @api.model
    def action_hocba_export_xlsx(self):
        return self.env["hocba.certificate.cost.export"].create({})._hocba_download()
