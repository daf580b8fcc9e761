import datetime

import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, Form, tagged
from odoo.tools import mute_logger

from ..lib.rules import catalogue, school_calendar
from .common import HocbaCase


@tagged("post_install", "-at_install")
class TestCalendarRules(BaseCase):
    def test_default_deadlines(self):
        self.assertEqual(
            school_calendar.default_deadlines(datetime.date(2026, 5, 31)),
            (datetime.date(2026, 6, 15), datetime.date(2026, 8, 20)),
        )

    def test_year_a_date_falls_in(self):
        start, term1, end = school_calendar.bounds_for(datetime.date(2026, 11, 29))
        self.assertEqual((start.year, end.year), (2026, 2027))
        start, term1, end = school_calendar.bounds_for(datetime.date(2026, 3, 1))
        self.assertEqual((start.year, end.year), (2025, 2026))
        self.assertTrue(start < term1 < end)

    def test_date_rules(self):
        d = datetime.date
        self.assertEqual(
            school_calendar.check_dates(d(2025, 9, 5), d(2026, 1, 17), d(2026, 5, 31), d(2026, 6, 15), d(2026, 8, 20)),
            [],
        )
        self.assertEqual(
            school_calendar.check_dates(d(2026, 9, 5), d(2026, 1, 17), d(2026, 5, 31), d(2026, 6, 15), d(2026, 6, 1)),
            ["start_after_end", "term1_outside", "signing_before_start", "sync_before_signing"],
        )

    def test_grade_from_class_name(self):
        self.assertEqual(catalogue.grade_from_class_name("1A"), "1")
        self.assertEqual(catalogue.grade_from_class_name("L2B"), "2")
        self.assertEqual(catalogue.grade_from_class_name("5/3"), "5")
        self.assertIsNone(catalogue.grade_from_class_name("6A"))
        self.assertIsNone(catalogue.grade_from_class_name("Lớp ghép"))


@tagged("post_install", "-at_install")
class TestSchoolCore(HocbaCase):
    def test_year_defaults_from_dates(self):
        self.assertEqual(self.year.name, "2035-2036")
        self.assertEqual(self.year.signing_deadline, datetime.date(2036, 6, 15))
        self.assertEqual(self.year.sync_deadline, datetime.date(2036, 8, 20))
        self.year.signing_deadline = datetime.date(2036, 6, 10)
        self.assertEqual(self.year.signing_deadline, datetime.date(2036, 6, 10))
        self.assertEqual(self.year.class_count, 2)

    def test_year_date_errors_are_explained(self):
        with self.assertRaises(ValidationError) as caught:
            self.year.date_end = datetime.date(2035, 9, 1)
        self.assertIn("The school year must start before it ends.", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.year.sync_deadline = datetime.date(2036, 6, 1)
        self.assertEqual(str(caught.exception), "The sync deadline cannot come before the signing deadline.")

    def test_year_form_fills_name_and_deadlines(self):
        with Form(self.env["school.year"]) as form:
            form.date_start = datetime.date(2037, 9, 5)
            form.term1_end_date = datetime.date(2038, 1, 16)
            form.date_end = datetime.date(2038, 5, 29)
            self.assertEqual(form.name, "2037-2038")
            self.assertEqual(form.signing_deadline, datetime.date(2038, 6, 15))
        self.assertEqual(form.record.sync_deadline, datetime.date(2038, 8, 20))

    def test_class_name_and_grade(self):
        self.assertEqual(self.class_a.name, "3A")
        self.assertEqual(self.class_a.student_count, 1)
        with self.assertRaises(ValidationError) as caught:
            self.env["school.class"].create({"name": "4C", "grade": "3", "year_id": self.year.id})
        self.assertIn("looks like a grade 4 class", str(caught.exception))

    @mute_logger("odoo.sql_db")
    def test_class_names_unique_per_year(self):
        with self.assertRaises(psycopg2.IntegrityError), self.env.cr.savepoint():
            self.env["school.class"].create({"grade": "3", "section": "A", "year_id": self.year.id})

    def test_assignment_needs_subject_of_the_grade(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["school.teaching.assignment"].create(
                {
                    "employee_id": self.employees["homeroom_teacher"].id,
                    "subject_id": self.env.ref("hocba_digital.school_subject_lsdl").id,
                    "class_id": self.class_a.id,
                }
            )
        self.assertIn("is not taught in grade 3", str(caught.exception))

    def test_catalogue_tests_by_grade(self):
        lines = self.env["school.subject.grade"].search([])
        tested = {(line.subject_id.code, line.grade): line for line in lines}
        self.assertTrue(tested[("TOAN", "4")].test_mid_term1)
        self.assertFalse(tested[("TOAN", "3")].test_mid_term1)
        self.assertTrue(tested[("TIN", "3")].test_end_year)
        self.assertTrue(tested[("NN1", "1")].is_elective)
        self.assertFalse(tested[("NN1", "1")].is_tested)
        self.assertNotIn(("LSDL", "3"), tested)
        self.assertNotIn(("TNXH", "4"), tested)
        self.assertEqual(
            sorted(code for code, grade in tested if grade == "1"),
            ["AN", "DD", "GDTC", "HDTN", "MT", "NN1", "TDT", "TNXH", "TOAN", "TV"],
        )

    def test_tier_comes_from_the_user_groups(self):
        for role in (
            "subject_teacher",
            "homeroom_teacher",
            "head_of_group",
            "vice_principal",
            "principal",
            "it_officer",
            "clerk",
            "accountant",
        ):
            with self.subTest(role=role):
                self.assertEqual(self.employees[role].hocba_tier, role)
        ours = self.env["hr.employee"].browse([e.id for e in self.employees.values()])
        found = self.env["hr.employee"].search([("hocba_tier", "=", "homeroom_teacher"), ("id", "in", ours.ids)])
        self.assertEqual(found, self.employees["homeroom_teacher"] | self.employees["home_b"])

    def test_only_management_moves_a_pupil(self):
        pupil = self.student_a.with_user(self.users["homeroom_teacher"])
        pupil.birth_place = "Hải Dương"  # identity data: allowed
        with self.assertRaises(AccessError) as caught:
            pupil.class_id = self.class_b
        self.assertIn("Only the vice principal or the principal", str(caught.exception))
        self.student_a.with_user(self.users["vice_principal"]).class_id = self.class_b
        self.assertEqual(self.student_a.class_id, self.class_b)

    def test_pupils_sorted_by_given_name(self):
        self.assertEqual(self.student_a.given_name, "Anh")
        names = self.env["school.student"].create(
            [
                {"name": n, "sex": "male", "birth_date": datetime.date(2017, 1, 1), "class_id": self.class_b.id}
                for n in ("Vũ Văn Bình", "Lê An")
            ]
        )
        ordered = self.env["school.student"].search([("class_id", "=", self.class_b.id)])
        self.assertEqual(ordered.mapped("name"), ["Lê An", "Vũ Văn Bình", "Trần Minh Khôi"])
        self.assertEqual(len(names), 2)

    def test_guardian_names(self):
        father = self.env["res.partner"].create({"name": "Nguyễn Văn Nam", "hocba_guardian_relation": "father"})
        self.student_a.guardian_ids = [(4, father.id)]
        self.assertEqual(self.student_a.father_name, "Nguyễn Văn Nam")
        self.assertEqual(self.student_a.mother_name, "Test parent")
        self.assertEqual(father.hocba_child_ids, self.student_a)

    def test_delete_refusals_explain_what_to_do(self):
        with self.assertRaises(UserError) as caught:
            self.class_a.unlink()
        self.assertIn("still has pupils", str(caught.exception))
        with self.assertRaises(UserError) as caught:
            self.year.unlink()
        self.assertIn("still has classes", str(caught.exception))
        with self.assertRaises(UserError) as caught:
            self.subject_english.unlink()
        self.assertIn("archive the subject instead", str(caught.exception))
