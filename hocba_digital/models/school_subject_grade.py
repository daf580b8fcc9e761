from odoo import api, fields, models

from ..lib.rules import catalogue

GRADE_SELECTION = [(g, g) for g in catalogue.GRADES]


class SchoolSubjectGrade(models.Model):
    """How one subject is taught in one grade: elective or not, tested when.

    Access: as the catalogue (``school.subject``).
    """

    _name = "school.subject.grade"
    _description = "Subject in a grade"
    _order = "grade, subject_sequence, id"
    _rec_name = "subject_id"

    subject_id = fields.Many2one("school.subject", required=True, ondelete="cascade", index=True)
    subject_sequence = fields.Integer(related="subject_id.sequence", store=True)
    grade = fields.Selection(GRADE_SELECTION, required=True)
    is_elective = fields.Boolean(string="Elective", help="Only pupils who take it are assessed in it.")
    test_mid_term1 = fields.Boolean(string="Test at mid-term 1")
    test_end_term1 = fields.Boolean(string="Test at end of term 1")
    test_mid_term2 = fields.Boolean(string="Test at mid-term 2")
    test_end_year = fields.Boolean(string="Test at end of year")
    is_tested = fields.Boolean(compute="_compute_is_tested", store=True)

    _sql_constraints = [
        ("subject_grade_uniq", "unique(subject_id, grade)", "This subject is already in the catalogue of that grade."),
    ]

    @api.depends("test_mid_term1", "test_end_term1", "test_mid_term2", "test_end_year")
    def _compute_is_tested(self):
        for line in self:
            line.is_tested = any(line[f"test_{p}"] for p in catalogue.PERIODS)

    @api.depends("subject_id.name", "grade")
    def _compute_display_name(self):
        for line in self:
            line.display_name = "%s (%s)" % (line.subject_id.name or "", line.grade or "")
