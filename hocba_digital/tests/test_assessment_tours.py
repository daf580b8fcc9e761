from odoo.tests import HttpCase, tagged

from ..lib.rules import catalogue
from .common import HocbaCase


@tagged("post_install", "-at_install")
class TestAssessmentTours(HttpCase, HocbaCase):
    """A class's year through the browser: each role clicks its own part.

    Every row but the ones the tours fill is written beforehand, as each
    sheet's own teacher, so the tours end with a clean class.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prepare_transcripts()
        for subject in cls.class_a.sheet_ids.subject_id - cls.subject_english:
            cls.env["school.teaching.assignment"].create(
                {
                    "employee_id": cls.employees["homeroom_teacher"].id,
                    "subject_id": subject.id,
                    "class_id": cls.class_a.id,
                }
            )
        left_for_the_tours = cls.sheet_english_a | cls.sheet_home_a
        for sheet in cls.class_a.sheet_ids:
            for result in sheet.subject_result_ids - cls.result_english_a:
                result.with_user(sheet.user_id).write(
                    {"level": "T", "comment": "Tốt", "score": "9" if result.score_required else False}
                )
            for row in sheet.trait_assessment_ids:
                codes = [c for c in catalogue.traits_of_grade(row.grade) if row != cls.traits_a or c != "trung_thuc"]
                row.with_user(sheet.user_id).write(
                    {**{f"level_{c}": "T" for c in codes}, **{f"comment_{c}": "Tốt" for c in codes}}
                )
            if sheet not in left_for_the_tours:
                sheet.with_user(sheet.user_id).action_submit()

    def test_a_class_year_through_the_browser(self):
        sheets_url = "/odoo/action-hocba_digital.hocba_entry_sheet_action"
        self.start_tour(sheets_url, "hocba_subject_teacher_fills_sheet", login="t_subject_teacher")
        self.assertEqual(self.sheet_english_a.state, "submitted")
        self.assertEqual((self.result_english_a.level, self.result_english_a.score), ("T", "9"))
        self.start_tour(sheets_url, "hocba_homeroom_teacher_fills_traits", login="t_homeroom_teacher")
        self.assertEqual(self.sheet_home_a.state, "submitted")
        self.assertEqual(self.traits_a.level_trung_thuc, "T")
        self.assertEqual(self.transcript_a.result, "HTXS")

        class_url = "/odoo/action-hocba_digital.school_class_action/%d" % self.class_a.id
        self.start_tour(class_url, "hocba_head_locks_class", login="t_head_of_group")
        self.assertEqual(self.class_a.review_state, "locked")
        self.start_tour(class_url, "hocba_vice_principal_approves_class", login="t_vice_principal")
        self.assertEqual(self.class_a.review_state, "approved")
        self.assertEqual(self.class_a.blocking_count, 0)

        bodies = self.class_a.message_ids.mapped(lambda m: (m.author_id, m.body))
        self.assertIn((self.users["head_of_group"].partner_id, "<p>Locked for checking.</p>"), bodies)
        self.assertIn((self.users["vice_principal"].partner_id, "<p>Approved for signing.</p>"), bodies)
