from odoo import fields, models


class ResCompany(models.Model):
    """Where the school reaches the population database's reconciliation service,
    for deployments that have one; kept by the IT officer only."""

    _inherit = "res.company"

    hocba_population_url = fields.Char(
        string="Population database service URL", groups="hocba_digital.group_hocba_it_officer",
        help="Base address of the online reconciliation service (see docs/reconciliation.md), "
             "e.g. https://host/api/population/v1. Empty: reconcile with files.")
    hocba_population_token = fields.Char(
        string="Population database service token", groups="hocba_digital.group_hocba_it_officer",
        copy=False, help="Bearer token given to the school for the service.")
