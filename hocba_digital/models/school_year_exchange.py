from odoo import _, fields, models


class SchoolYear(models.Model):
    """The school year carries the IT officer's sync activities (packages
    failing, the sync deadline near) and its packages' figures."""

    _name = "school.year"
    _inherit = ["school.year", "mail.activity.mixin"]

    exchange_count = fields.Integer(string="Packages", compute="_compute_exchange_counts")
    exchange_open_count = fields.Integer(string="Packages not acknowledged",
                                         compute="_compute_exchange_counts")

    def _compute_exchange_counts(self):
        exchange = self.env["hocba.exchange"]
        total, open_ = {}, {}
        if exchange.has_access("read"):
            for year, state, count in exchange._read_group(
                    [("year_id", "in", self.ids)], ["year_id", "state"], ["__count"]):
                total[year] = total.get(year, 0) + count
                if state != "acknowledged":
                    open_[year] = open_.get(year, 0) + count
        for year in self:
            year.exchange_count = total.get(year, 0)
            year.exchange_open_count = open_.get(year, 0)

    def action_view_exchange(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "hocba_digital.hocba_exchange_action")
        action["domain"] = [("year_id", "=", self.id)]
        action["context"] = {"search_default_group_class": 1}
        action["name"] = _("Packages of %(year)s", year=self.name)
        return action
