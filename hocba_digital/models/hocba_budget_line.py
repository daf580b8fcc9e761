from odoo import api, fields, models

from ..lib.rules import certificate_costs


class HocbaBudgetLine(models.Model):
    """A line of the school's budget for one fiscal (calendar) year that
    certificate costs are charged to; what was planned against what was spent.

    Access: the accountant manages budget lines; the IT officer and the
    principal read them.
    """

    _name = "hocba.budget.line"
    _description = "Budget line"
    _inherit = ["mail.thread"]
    _order = "fiscal_year desc, code, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(tracking=True)
    fiscal_year = fields.Integer(
        required=True, tracking=True, aggregator=False, default=lambda s: fields.Date.context_today(s).year
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True, default=lambda s: s.env.ref("base.VND"))
    planned_amount = fields.Monetary(string="Planned (VND)", required=True, tracking=True)
    cost_ids = fields.One2many("hocba.certificate.cost", "budget_line_id", string="Costs")
    actual_amount = fields.Monetary(string="Spent (VND)", compute="_compute_actual", store=True)
    remaining_amount = fields.Monetary(string="Remaining (VND)", compute="_compute_actual", store=True)
    used_percent = fields.Float(
        string="Used (%)", compute="_compute_actual", store=True, aggregator="avg", digits=(16, 1)
    )
    overspent = fields.Boolean(compute="_compute_actual", store=True)
    note = fields.Text()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda s: s.env.company)

    _sql_constraints = [
        (
            "code_year_uniq",
            "unique(company_id, fiscal_year, code)",
            "A budget line with this code already exists for this fiscal year.",
        ),
    ]

    @api.depends("planned_amount", "cost_ids.amount")
    def _compute_actual(self):
        spent = dict(
            self.env["hocba.certificate.cost"]._read_group(
                [("budget_line_id", "in", self.ids)], ["budget_line_id"], ["amount:sum"]
            )
        )
        for line in self:
            line.actual_amount = spent.get(line, 0) if line.id else sum(line.cost_ids.mapped("amount"))
            line.remaining_amount, line.used_percent, line.overspent = certificate_costs.budget_status(
                line.planned_amount, line.actual_amount
            )

    @api.depends("name", "code", "fiscal_year")
    def _compute_display_name(self):
        for line in self:
            label = "[%s] %s" % (line.code, line.name) if line.code else line.name or ""
            line.display_name = "%s (%s)" % (label, line.fiscal_year) if line.fiscal_year else label
