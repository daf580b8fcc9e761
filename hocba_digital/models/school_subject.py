from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.rules import catalogue

# the codes and their order are the rules' (lib), the words the model's (translated)
KIND_LABELS = {"subject": "Subject", "activity": "Educational activity"}
KIND_SELECTION = [(code, KIND_LABELS[code]) for code in catalogue.SUBJECT_KINDS]


class SchoolSubject(models.Model):
    """A subject or educational activity of the Circular 27 catalogue.

    The catalogue is shared by every school of the database (it is national),
    ships as editable data, and says per grade whether the subject is taught,
    elective, and at which periods it takes a periodic test.

    Access: every school staff member reads it; the vice principal edits it;
    only the principal deletes a line.
    """

    _name = "school.subject"
    _description = "Subject or activity"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code used in imports, exports and the XML.")
    sequence = fields.Integer(default=10, help="Row order in the transcript.")
    kind = fields.Selection(
        KIND_SELECTION,
        default="subject",
        required=True,
    )
    grade_line_ids = fields.One2many("school.subject.grade", "subject_id", string="Grades", copy=True)
    grades_display = fields.Char(string="Grades taught", compute="_compute_grades_display")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "Another subject already uses this code."),
    ]

    @api.depends("grade_line_ids.grade")
    def _compute_grades_display(self):
        for subject in self:
            subject.grades_display = ", ".join(sorted(subject.grade_line_ids.mapped("grade")))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_assigned(self):
        used = self.env["school.teaching.assignment"].sudo().search([("subject_id", "in", self.ids)], limit=1)
        if used:
            raise UserError(
                _(
                    "%(subject)s is taught in class %(class_name)s: archive the subject instead of deleting it.",
                    subject=used.subject_id.name,
                    class_name=used.class_id.name,
                )
            )
