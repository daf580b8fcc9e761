from odoo import fields, models


class SchoolSubjectGroup(models.Model):
    """A subject group (tổ chuyên môn) of teachers, led by its head.

    The classes of a group are not stored: they are the classes whose homeroom
    teacher, or one of whose subject teachers, is a member.  A grade group
    ("Tổ 1") thus covers the grade-1 classes and a specialist group covers the
    classes its members teach.

    Access: every school staff member reads groups; the vice principal creates
    and edits them; only the principal deletes one.
    """

    _name = "school.subject.group"
    _description = "Subject group"
    _inherit = ["mail.thread"]
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    head_employee_id = fields.Many2one("hr.employee", string="Head of group", tracking=True, check_company=True)
    head_user_id = fields.Many2one(
        "res.users", related="head_employee_id.user_id", store=True, index=True, related_sudo=True, string="Head (user)"
    )
    member_ids = fields.Many2many(
        "hr.employee",
        "school_subject_group_member_rel",
        "group_id",
        "employee_id",
        string="Members",
        check_company=True,
    )
    member_count = fields.Integer(compute="_compute_member_count")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)

    def _compute_member_count(self):
        for group in self:
            group.member_count = len(group.member_ids)
