import datetime

from odoo.exceptions import ValidationError
from odoo.tests import BaseCase, tagged

from ..lib.rules import personal_id as pid
from .common import HocbaCase


@tagged("post_install", "-at_install")
class TestPersonalIdRules(BaseCase):
    """The pure layer, without a database."""

    def codes(self, number, sex=None, year=None):
        return [(i.code, i.severity) for i in pid.check(pid.normalize(number), sex, year)]

    def test_good_numbers(self):
        self.assertEqual(self.codes("031317004521", "female", 2017), [])
        self.assertEqual(self.codes("031216123456", "male", 2016), [])
        self.assertEqual(self.codes("001084000001", "male", 1984), [])
        self.assertEqual(self.codes("079319999999", "female", 2019), [])

    def test_typing_separators_are_removed(self):
        self.assertEqual(pid.normalize(" 031 317.004-521 "), "031317004521")
        self.assertEqual(self.codes("031 317 004 521", "female", 2017), [])
        self.assertIsNone(pid.normalize("  "))
        self.assertIsNone(pid.normalize(False))

    def test_leading_zero_is_kept(self):
        number = pid.make("001", "male", 2018, 7)
        self.assertEqual(number, "001218000007")
        self.assertEqual(pid.birth_year(number), 2018)

    def test_bad_numbers(self):
        cases = [
            ("03131700452A", "female", 2017, [("not_digits", "error")]),
            ("٠٣١٣١٧٠٠٤٥٢١", "female", 2017, [("not_digits", "error")]),
            ("03131700452", "female", 2017, [("length", "error")]),
            ("0313170045211", "female", 2017, [("length", "error")]),
            ("031217004521", "female", 2017, [("sex_mismatch", "error")]),
            ("031318004521", "female", 2017, [("year_mismatch", "error")]),
            ("031117004521", "female", 2017, [("century_mismatch", "error")]),
            ("031216004521", "female", 2017, [("sex_mismatch", "error"), ("year_mismatch", "error")]),
            ("003317004521", "female", 2017, [("unknown_province", "warning")]),
            ("840317004521", "female", 2017, [("country_code", "warning")]),
        ]
        for number, sex, year, expected in cases:
            with self.subTest(number=number):
                self.assertEqual(self.codes(number, sex, year), expected)

    def test_warnings_are_not_errors(self):
        issues = pid.check("003317004521", "female", 2017)
        self.assertEqual(pid.errors(issues), [])

    def test_unknown_sex_or_year_is_not_checked(self):
        self.assertEqual(self.codes("031317004521"), [])

    def test_mask_shows_last_three_digits(self):
        self.assertEqual(pid.mask("031317004521"), "•••••••••521")
        self.assertEqual(pid.mask(None), "")


@tagged("post_install", "-at_install")
class TestPersonalIdOnPupils(HocbaCase):
    """What a user is told when an ID is wrong, and who sees it in full."""

    def make_pupil(self, number, sex="female", birth=datetime.date(2017, 3, 14)):
        return self.env["school.student"].create(
            {
                "name": "Lê Thu Hà",
                "sex": sex,
                "birth_date": birth,
                "personal_id": number,
                "class_id": self.class_a.id,
            }
        )

    def assertRefused(self, number, message, **kw):
        with self.assertRaises(ValidationError) as caught:
            self.make_pupil(number, **kw)
        self.assertEqual(str(caught.exception), message)

    def test_messages_say_which_part_is_wrong(self):
        self.assertRefused("03131700452", "Pupil Lê Thu Hà: The personal ID must have 12 digits, not 11.")
        self.assertRefused("03131700452X", "Pupil Lê Thu Hà: The personal ID 03131700452X must contain digits only.")
        self.assertRefused(
            "031217004521",
            "Pupil Lê Thu Hà: Digit 4 of the personal ID (2) is for a Male pupil, but the pupil is recorded as Female.",
        )
        self.assertRefused(
            "031318004521",
            "Pupil Lê Thu Hà: Digits 5-6 of the personal ID (18) give the birth year 2018, "
            "but the pupil was born in 2017.",
        )
        self.assertRefused(
            "031117004521",
            "Pupil Lê Thu Hà: Digit 4 of the personal ID (1) gives the birth year 1917, which "
            "is in another century than the recorded birth year 2017.",
        )

    def test_unique_in_school(self):
        with self.assertRaises(ValidationError) as caught:
            self.make_pupil(self.student_a.personal_id)
        self.assertIn("already used by Nguyễn Thị Mai Anh", str(caught.exception))
        # a pupil who moved has a record in each school of a shared database
        other = self.env["res.company"].create({"name": "Trường Tiểu học Bình Minh"})
        moved = self.env["school.student"].create(
            {
                "name": "Nguyễn Thị Mai Anh",
                "sex": self.student_a.sex,
                "birth_date": self.student_a.birth_date,
                "company_id": other.id,
                "personal_id": self.student_a.personal_id,
            }
        )
        self.assertEqual(moved.sudo().personal_id, self.student_a.sudo().personal_id)

    def test_unknown_province_is_a_warning_only(self):
        pupil = self.make_pupil("003317004521")
        self.assertEqual(pupil.personal_id, "003317004521")
        self.assertEqual(
            pupil.personal_id_warning, "Digits 1-3 of the personal ID (003) are not a known province code."
        )

    def test_stored_normalised(self):
        pupil = self.make_pupil("031 317 000 111")
        self.assertEqual(pupil.personal_id, "031317000111")

    def test_changing_sex_or_birth_year_rechecks_the_id(self):
        with self.assertRaises(ValidationError):
            self.student_a.sex = "male"
        with self.assertRaises(ValidationError):
            self.student_a.birth_date = datetime.date(2016, 3, 14)

    def test_masked_for_roles_that_do_not_need_it(self):
        full = self.student_a.personal_id
        masked = pid.mask(full)
        expected = {
            "subject_teacher": masked,
            "head_of_group": masked,
            "clerk": masked,
            "homeroom_teacher": full,  # the pupil's own homeroom teacher
            "vice_principal": full,
            "principal": full,
            "it_officer": full,
            "parent": full,  # the pupil's own guardian
        }
        for role, shown in expected.items():
            with self.subTest(role=role):
                pupil = self.student_a.with_user(self.users[role])
                self.assertEqual(pupil.personal_id_display, shown)

    def test_raw_field_is_hidden_from_other_roles(self):
        for role in ("subject_teacher", "homeroom_teacher", "head_of_group", "clerk", "parent"):
            with self.subTest(role=role):
                fields_seen = self.env["school.student"].with_user(self.users[role]).fields_get()
                self.assertNotIn("personal_id", fields_seen)

    def test_homeroom_teacher_edits_through_display_field(self):
        pupil = self.student_a.with_user(self.users["homeroom_teacher"])
        pupil.personal_id_display = "031 317 111 222"
        self.assertEqual(self.student_a.personal_id, "031317111222")
        # a masked value coming back from a form or a re-imported export changes nothing
        pupil.personal_id_display = pid.mask("031317111222")
        self.assertEqual(self.student_a.personal_id, "031317111222")
        with self.assertRaises(ValidationError):
            pupil.personal_id_display = "031217111222"
        self.assertEqual(self.student_a.personal_id, "031317111222")

    def test_change_is_logged_without_the_number(self):
        self.student_a.with_user(self.users["homeroom_teacher"]).personal_id_display = "031317111333"
        bodies = " ".join(self.student_a.message_ids.mapped("body"))
        self.assertIn("Personal ID changed.", bodies)
        self.assertNotIn("031317111333", bodies)
