from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..lib import catalogue
from .school_subject_grade import GRADE_SELECTION


class SchoolClass(models.Model):
    """A class (lớp) of one school year, with its homeroom teacher.

    Access:

    * a subject teacher reads the classes they have a teaching assignment in;
    * a homeroom teacher also reads their own class;
    * a head of subject group reads the classes of their group's members;
    * the vice principal reads, creates and edits every class; only the
      principal deletes one;
    * the IT officer and the clerk read every class; the accountant none.
    """

    _name = "school.class"
    _description = "Class"
    _inherit = ["mail.thread"]
    _order = "year_id desc, grade, name"
    _check_company_auto = True

    name = fields.Char(
        compute="_compute_name", store=True, readonly=False, required=True, precompute=True,
        tracking=True)
    grade = fields.Selection(GRADE_SELECTION, required=True, tracking=True)
    section = fields.Char(help="Letter or number that tells classes of a grade apart (A, B, 1...).")
    code = fields.Char(string="Class code", help="Code of the class in the sector database.")
    year_id = fields.Many2one(
        "school.year", string="School year", required=True, index=True, check_company=True,
        default=lambda self: self._default_year(), tracking=True)
    homeroom_employee_id = fields.Many2one(
        "hr.employee", string="Homeroom teacher", tracking=True, check_company=True)
    homeroom_user_id = fields.Many2one(
        "res.users", related="homeroom_employee_id.user_id", store=True, index=True,
        related_sudo=True, string="Homeroom teacher (user)")
    student_ids = fields.One2many("school.student", "class_id", string="Pupils")
    student_count = fields.Integer(compute="_compute_student_count", string="Number of pupils")
    teaching_assignment_ids = fields.One2many(
        "school.teaching.assignment", "class_id", string="Teaching assignments")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_year_uniq", "unique(name, year_id)",
         "A class with this name already exists in that school year."),
    ]

    def _default_year(self):
        return self.env["school.year"].search(
            [("company_id", "=", self.env.company.id), ("state", "!=", "closed")], limit=1)

    @api.depends("grade", "section")
    def _compute_name(self):
        for school_class in self:
            if school_class.grade and school_class.section:
                school_class.name = catalogue.class_name(school_class.grade, school_class.section)
            elif not school_class.name:
                school_class.name = school_class.grade or False

    def _compute_student_count(self):
        counts = dict(self.env["school.student"]._read_group(
            [("class_id", "in", self.ids)], ["class_id"], ["__count"]))
        for school_class in self:
            school_class.student_count = counts.get(school_class, 0)

    @api.constrains("name", "grade")
    def _check_grade_matches_name(self):
        for school_class in self:
            in_name = catalogue.grade_from_class_name(school_class.name)
            if in_name and in_name != school_class.grade:
                raise ValidationError(_(
                    "Class %(name)s looks like a grade %(in_name)s class but is set to "
                    "grade %(grade)s.", name=school_class.name, in_name=in_name,
                    grade=school_class.grade))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_pupils(self):
        with_pupils = self.filtered("student_ids")
        if with_pupils:
            raise UserError(_(
                "Class %(name)s still has pupils: move them to another class or archive "
                "the class instead.", name=with_pupils[0].name))

    def action_view_students(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "hocba_digital.school_student_action")
        action["domain"] = [("class_id", "=", self.id)]
        action["context"] = {"default_class_id": self.id}
        return action
