from odoo import api, fields, models

from ..groups import (
    ACCOUNTANT,
    CLERK,
    HEAD_OF_GROUP,
    HOMEROOM_TEACHER,
    IT_OFFICER,
    PRINCIPAL,
    SUBJECT_TEACHER,
    USER,
    VICE_PRINCIPAL,
)

# Highest tier first: an employee shows the highest tier their user holds.
TIER_GROUPS = [
    ("principal", PRINCIPAL),
    ("vice_principal", VICE_PRINCIPAL),
    ("head_of_group", HEAD_OF_GROUP),
    ("homeroom_teacher", HOMEROOM_TEACHER),
    ("subject_teacher", SUBJECT_TEACHER),
    ("it_officer", IT_OFFICER),
    ("clerk", CLERK),
    ("accountant", ACCOUNTANT),
]
# the tiers are the rules' (lib.rules.catalogue.TIERS), the words the model's (translated)
TIER_LABELS = {
    "principal": "Principal",
    "vice_principal": "Vice principal",
    "head_of_group": "Head of subject group",
    "homeroom_teacher": "Homeroom teacher",
    "subject_teacher": "Subject teacher",
    "it_officer": "IT officer",
    "clerk": "Clerk",
    "accountant": "Accountant",
}
TIER_SELECTION = [(code, TIER_LABELS[code]) for code, _group in TIER_GROUPS]


class HrEmployee(models.Model):
    """School staff are employees; their tier is read from their user's groups.

    The tier is not stored on the employee: the user's groups decide what a
    person may do, so deriving the tier from them keeps one source of truth.
    """

    _inherit = "hr.employee"

    hocba_tier = fields.Selection(
        TIER_SELECTION,
        string="School tier",
        compute="_compute_hocba_tier",
        search="_search_hocba_tier",
        compute_sudo=True,
    )
    hocba_subject_group_ids = fields.Many2many(
        "school.subject.group",
        "school_subject_group_member_rel",
        "employee_id",
        "group_id",
        string="Subject groups",
        groups=USER,
    )
    hocba_homeroom_class_ids = fields.One2many(
        "school.class", "homeroom_employee_id", string="Homeroom classes", groups=USER
    )
    hocba_assignment_ids = fields.One2many(
        "school.teaching.assignment", "employee_id", string="Teaching assignments", groups=USER
    )

    @api.depends("user_id.groups_id")
    def _compute_hocba_tier(self):
        for employee in self:
            user = employee.user_id
            employee.hocba_tier = next((tier for tier, xmlid in TIER_GROUPS if user and user.has_group(xmlid)), False)

    def _search_hocba_tier(self, operator, value):
        if operator not in ("=", "in"):
            return [("id", "=", 0)]
        wanted = {value} if operator == "=" else set(value)
        top_tier = {}
        for tier, xmlid in reversed(TIER_GROUPS):
            for user in self.env.ref(xmlid).sudo().users:
                top_tier[user.id] = tier  # later (higher) tiers overwrite lower ones
        return [("user_id", "in", [uid for uid, tier in top_tier.items() if tier in wanted])]
