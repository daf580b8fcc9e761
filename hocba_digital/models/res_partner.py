from odoo import fields, models

from ..groups import USER


class ResPartner(models.Model):
    """Guardians are ordinary contacts, so they can become portal users."""

    _inherit = "res.partner"

    hocba_guardian_relation = fields.Selection(
        [("father", "Father"), ("mother", "Mother"), ("guardian", "Guardian")],
        string="Relation to pupil",
    )
    hocba_child_ids = fields.Many2many(
        "school.student",
        "school_student_guardian_rel",
        "partner_id",
        "student_id",
        string="Children",
        groups=USER,
    )
