from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..lib.rules import school_calendar


class SchoolYear(models.Model):
    """A school year (năm học) of one school, with the plan's two deadlines.

    Access: every school staff member reads years; the vice principal creates
    and edits them; only the principal deletes one.
    """

    _name = "school.year"
    _description = "School year"
    _inherit = ["mail.thread"]
    _order = "date_start desc"
    _check_company_auto = True

    name = fields.Char(
        compute="_compute_name", store=True, readonly=False, required=True, precompute=True)
    date_start = fields.Date(string="Start", required=True, tracking=True)
    mid_term1_date = fields.Date(
        string="Mid-term 1 assessment", compute="_compute_period_dates", store=True,
        readonly=False, tracking=True)
    term1_end_date = fields.Date(string="End of term 1", required=True, tracking=True)
    mid_term2_date = fields.Date(
        string="Mid-term 2 assessment", compute="_compute_period_dates", store=True,
        readonly=False, tracking=True)
    date_end = fields.Date(string="End", required=True, tracking=True)
    signing_deadline = fields.Date(
        compute="_compute_deadlines", store=True, readonly=False, required=True, precompute=True,
        tracking=True,
        help="The school's own date by which every transcript must be signed (default 15 June).",
    )
    sync_deadline = fields.Date(
        compute="_compute_deadlines", store=True, readonly=False, required=True, precompute=True,
        tracking=True,
        help="Date by which every signed package must reach the Department and the "
        "Ministry (default 20 August).",
    )
    state = fields.Selection(
        [("draft", "Preparing"), ("open", "In progress"), ("closed", "Closed")],
        default="draft", required=True, tracking=True,
    )
    class_ids = fields.One2many("school.class", "year_id", string="Classes")
    class_count = fields.Integer(compute="_compute_class_count")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
    )

    _sql_constraints = [
        ("name_company_uniq", "unique(name, company_id)",
         "A school year with this name already exists in this school."),
    ]

    @api.depends("date_start", "date_end")
    def _compute_name(self):
        for year in self:
            if year.date_start and year.date_end:
                year.name = school_calendar.year_name(year.date_start, year.date_end)
            elif not year.name:
                year.name = False

    @api.depends("date_end")
    def _compute_deadlines(self):
        for year in self:
            if year.date_end:
                year.signing_deadline, year.sync_deadline = school_calendar.default_deadlines(
                    year.date_end)
            else:
                year.signing_deadline = year.sync_deadline = False

    @api.depends("date_start", "term1_end_date")
    def _compute_period_dates(self):
        for year in self:
            year.mid_term1_date, year.mid_term2_date = school_calendar.default_mid_terms(
                year.date_start, year.term1_end_date)

    def _compute_class_count(self):
        counts = dict(self.env["school.class"]._read_group(
            [("year_id", "in", self.ids)], ["year_id"], ["__count"]))
        for year in self:
            year.class_count = counts.get(year, 0)

    @api.constrains("date_start", "term1_end_date", "date_end", "signing_deadline",
                    "sync_deadline")
    def _check_dates(self):
        messages = {
            "start_after_end": _("The school year must start before it ends."),
            "term1_outside": _("The end of term 1 must fall between the start and the "
                               "end of the school year."),
            "signing_before_start": _("The signing deadline must come after the start "
                                      "of the school year."),
            "sync_before_signing": _("The sync deadline cannot come before the signing "
                                     "deadline."),
        }
        for year in self:
            problems = school_calendar.check_dates(
                year.date_start, year.term1_end_date, year.date_end,
                year.signing_deadline, year.sync_deadline)
            if problems:
                raise ValidationError("\n".join(messages[p] for p in problems))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_classes(self):
        if self.class_ids:
            raise UserError(_(
                "School year %(name)s still has classes: delete or archive them first.",
                name=self.class_ids[0].year_id.name))

    def _hocba_period_date(self, period):
        """The date by which the assessment of ``period`` is due."""
        self.ensure_one()
        return {"mid_term1": self.mid_term1_date, "end_term1": self.term1_end_date,
                "mid_term2": self.mid_term2_date, "end_year": self.date_end}.get(period)

    def action_open(self):
        self.write({"state": "open"})

    def action_close(self):
        self.write({"state": "closed"})

    def action_view_classes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "hocba_digital.school_class_action")
        action["domain"] = [("year_id", "=", self.id)]
        action["context"] = {"default_year_id": self.id}
        return action
