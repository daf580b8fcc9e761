from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class SchoolTeachingAssignment(models.Model):
    """Who teaches which subject to which class: drives what a teacher may see.

    Access: a subject teacher reads their own assignments and a homeroom teacher
    those of their class; a head of subject group those of their group's
    classes; the vice principal and the principal manage all of them; the IT
    officer reads them.
    """

    _name = "school.teaching.assignment"
    _description = "Teaching assignment"
    _inherit = ["mail.thread"]
    _order = "class_id, subject_id"
    _check_company_auto = True

    employee_id = fields.Many2one(
        "hr.employee", string="Teacher", required=True, index=True, tracking=True, check_company=True
    )
    user_id = fields.Many2one(
        "res.users", related="employee_id.user_id", store=True, index=True, related_sudo=True, string="Teacher (user)"
    )
    subject_id = fields.Many2one("school.subject", required=True, tracking=True)
    class_id = fields.Many2one("school.class", required=True, index=True, ondelete="cascade", check_company=True)
    grade = fields.Selection(related="class_id.grade", store=True)
    year_id = fields.Many2one(related="class_id.year_id", store=True, index=True)
    company_id = fields.Many2one(related="class_id.company_id", store=True, index=True, precompute=True)

    _sql_constraints = [
        ("class_subject_uniq", "unique(class_id, subject_id)", "This subject already has a teacher in that class."),
    ]

    @api.depends("employee_id", "subject_id", "class_id")
    def _compute_display_name(self):
        for assignment in self:
            assignment.display_name = "%s - %s - %s" % (
                assignment.class_id.name or "",
                assignment.subject_id.name or "",
                assignment.employee_id.name or "",
            )

    @api.constrains("subject_id", "class_id")
    def _check_subject_taught_in_grade(self):
        lines = self.env["school.subject.grade"].search_read(
            [("subject_id", "in", self.subject_id.ids)], ["subject_id", "grade"]
        )
        taught = {(line["subject_id"][0], line["grade"]) for line in lines}
        for assignment in self:
            if (assignment.subject_id.id, assignment.class_id.grade) not in taught:
                raise ValidationError(
                    _(
                        "%(subject)s is not taught in grade %(grade)s (see the subject catalogue).",
                        subject=assignment.subject_id.name,
                        grade=assignment.class_id.grade,
                    )
                )
