import datetime

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib.rules import catalogue
from .common import HocbaCase


@tagged("post_install", "-at_install")
class TestAssessmentFlow(HocbaCase):
    """Entry by subject and homeroom teachers, checks, cross-check, lock, approval."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prepare_transcripts()
        cls.subj = cls.users["subject_teacher"]
        cls.home = cls.users["homeroom_teacher"]
        cls.head = cls.users["head_of_group"]
        cls.vice = cls.users["vice_principal"]
        # the homeroom teacher of 3A teaches everything but English there
        for subject in cls.class_a.sheet_ids.subject_id - cls.subject_english:
            cls.env["school.teaching.assignment"].create(
                {
                    "employee_id": cls.employees["homeroom_teacher"].id,
                    "subject_id": subject.id,
                    "class_id": cls.class_a.id,
                }
            )

    def fill(self, school_class, level="T", score="9", trait="T"):
        """Fill every row of a class as each sheet's own teacher would."""
        for sheet in school_class.sheet_ids:
            user = sheet.user_id
            self.assertTrue(user, "%s has no teacher" % sheet.name)
            for result in sheet.subject_result_ids:
                result.with_user(user).write(
                    {"level": level, "comment": "Tiến bộ tốt.", "score": score if result.score_required else False}
                )
            for row in sheet.trait_assessment_ids:
                row.with_user(user).write(
                    {
                        **{f"level_{code}": trait for code in catalogue.traits_of_grade(row.grade)},
                        **{f"comment_{code}": "Tốt" for code in catalogue.traits_of_grade(row.grade)},
                    }
                )

    def test_prepare_builds_every_row_once(self):
        grade3 = self.env["school.subject.grade"].search([("grade", "=", "3"), ("is_elective", "=", False)])
        self.assertEqual(len(self.transcript_a.subject_result_ids), len(grade3) * 4)
        self.assertEqual(len(self.transcript_a.trait_assessment_ids), 4)
        self.assertEqual(len(self.class_a.sheet_ids), len(grade3) * 4 + 4)
        before = self.env["hocba.subject.result"].search_count([])
        self.class_a.action_prepare_transcripts()
        self.assertEqual(self.env["hocba.subject.result"].search_count([]), before)
        self.assertEqual(self.sheet_english_a.user_id, self.subj)
        self.assertEqual(self.sheet_home_a.user_id, self.home)
        self.assertEqual(self.sheet_english_a.due_date, self.year.date_end)

    def test_electives_only_for_pupils_who_take_them(self):
        minority = self.env.ref("hocba_digital.school_subject_tdt")
        self.assertFalse(self.transcript_a.subject_result_ids.filtered(lambda r: r.subject_id == minority))
        self.student_a.elective_subject_ids = minority
        self.class_a.action_prepare_transcripts()
        self.assertEqual(len(self.transcript_a.subject_result_ids.filtered(lambda r: r.subject_id == minority)), 4)
        self.assertFalse(self.transcript_b.subject_result_ids.filtered(lambda r: r.subject_id == minority))

    def test_prepare_needs_homeroom_teacher_or_management(self):
        with self.assertRaises(AccessError):
            self.class_a.with_user(self.subj).action_prepare_transcripts()
        with self.assertRaises(AccessError):
            self.class_b.with_user(self.home).action_prepare_transcripts()

    def test_scores_are_whole_numbers_from_one_to_ten(self):
        result = self.result_english_a.with_user(self.subj)
        messages = {
            "0": "0 is not a valid test score: the lowest score is 1.",
            "11": "11 is not a valid test score: the highest score is 10.",
            "7.5": "7.5 is not a whole number: test scores have no decimals (1 to 10).",
            "bảy": "“bảy” is not a test score: type a whole number from 1 to 10.",
        }
        for value, message in messages.items():
            with self.subTest(value=value):
                with self.assertRaises(ValidationError) as caught:
                    result.score = value
                self.assertEqual(str(caught.exception), message)
        self.assertFalse(self.result_english_a.score)
        result.score = " 8 "
        self.assertEqual(self.result_english_a.score, "8")
        self.assertEqual(self.result_english_a.score_value, 8)

    def test_no_score_where_the_catalogue_has_no_test(self):
        mid_term = self.transcript_a.subject_result_ids.filtered(
            lambda r: r.subject_id == self.subject_english and r.period == "mid_term1"
        )
        self.assertFalse(mid_term.score_required)
        with self.assertRaises(ValidationError) as caught:
            mid_term.with_user(self.subj).score = "8"
        self.assertIn("has no periodic test at Mid-term 1 in grade 3", str(caught.exception))

    def test_subject_teacher_touches_only_their_own_sheets(self):
        vietnamese = self.transcript_a.subject_result_ids.filtered(
            lambda r: r.subject_id == self.subject_vietnamese and r.period == "end_year"
        )
        with self.assertRaises(AccessError):
            vietnamese.with_user(self.subj).level = "T"
        with self.assertRaises(AccessError):
            self.result_b.with_user(self.subj).level = "T"
        # the homeroom teacher cannot fill English, which someone else teaches
        with self.assertRaises(AccessError):
            self.result_english_a.with_user(self.home).level = "T"

    def test_submitted_sheet_is_closed_to_its_teacher(self):
        sheet = self.sheet_english_a.with_user(self.subj)
        with self.assertRaises(UserError) as caught:
            sheet.action_submit()
        self.assertIn("Nguyễn Thị Mai Anh: no level", str(caught.exception))
        self.assertIn("Nguyễn Thị Mai Anh: no test score", str(caught.exception))
        self.result_english_a.with_user(self.subj).write({"level": "T", "score": "9"})
        sheet.action_submit()
        self.assertEqual(self.sheet_english_a.state, "submitted")
        with self.assertRaises(AccessError):
            self.result_english_a.with_user(self.subj).level = "H"
        with self.assertRaises(AccessError):
            self.sheet_english_a.with_user(self.home).action_submit()

    def test_head_sends_a_sheet_back_with_the_discrepancy(self):
        self.result_english_a.with_user(self.subj).write({"level": "T", "score": "4"})
        self.sheet_english_a.with_user(self.subj).action_submit()
        with self.assertRaises(AccessError):
            self.sheet_english_a.with_user(self.users["home_b"]).action_send_back("?")
        wizard = (
            self.env["hocba.review.wizard"]
            .with_user(self.head)
            .create(
                {"action": "send_back", "sheet_id": self.sheet_english_a.id, "reason": "Điểm 4 mà mức T: kiểm tra lại."}
            )
        )
        wizard.action_confirm()
        self.assertEqual(self.sheet_english_a.state, "draft")
        activity = self.sheet_english_a.activity_ids
        self.assertEqual(activity.user_id, self.subj)
        self.assertIn("Điểm 4 mà mức T", activity.note)
        self.result_english_a.with_user(self.subj).level = "C"

    def test_year_result_with_reason_and_override(self):
        self.fill(self.class_a)
        self.assertEqual(self.transcript_a.result, "HTXS")
        self.assertTrue(self.transcript_a.reward_excellent)
        math = self.transcript_a.subject_result_ids.filtered(
            lambda r: r.subject_id.code == "TOAN" and r.period == "end_year"
        )
        math.with_user(self.home).score = "6"
        self.assertEqual(self.transcript_a.result, "HT")
        self.assertEqual(self.transcript_a.result_reason, "Mathematics end-of-year score 6 < 7")
        transcript = self.transcript_a.with_user(self.home)
        with self.assertRaises(ValidationError):
            transcript.result_override = "HTT"
        transcript.write({"result_override": "HTT", "override_reason": "Thi lại cuối năm được 8 điểm."})
        self.assertEqual(self.transcript_a.result, "HTT")
        self.assertEqual(self.transcript_a.result_computed, "HT")
        with self.assertRaises(AccessError):
            self.transcript_a.with_user(self.vice).result_override = "HTXS"
        with self.assertRaises(AccessError):
            self.transcript_a.with_user(self.users["home_b"]).height_cm = 120

    def test_exemplary_reward_needs_htt_and_a_reason(self):
        self.fill(self.class_a, score="8")
        transcript = self.transcript_a.with_user(self.home)
        self.assertEqual(self.transcript_a.result, "HTT")
        with self.assertRaises(ValidationError):
            transcript.reward_exemplary = True
        transcript.write({"reward_exemplary": True, "reward_exemplary_reason": "Tiến bộ rõ rệt môn Toán."})
        self.assertTrue(self.transcript_a.reward_exemplary)

    def test_only_the_principal_decides_promotion(self):
        self.fill(self.class_a, level="C", score="3")
        self.assertEqual(self.transcript_a.result, "CHT")
        self.assertFalse(self.transcript_a.completes_grade)
        for role in ("homeroom_teacher", "vice_principal"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.transcript_a.with_user(self.users[role]).promotion = "promote"
        self.transcript_a.with_user(self.users["principal"]).write(
            {"promotion": "promote", "promotion_note": "Đạt sau rèn luyện hè."}
        )
        self.assertEqual(self.transcript_a.promotion, "promote")

    def test_no_promotion_decision_for_a_pupil_who_completes(self):
        self.fill(self.class_a)
        self.assertEqual(self.transcript_a.result, "HTXS")
        with self.assertRaises(ValidationError) as caught:
            self.transcript_a.with_user(self.users["principal"]).promotion = "repeat"
        self.assertIn("only decided for pupils whose result is CHT", str(caught.exception))

    def test_homeroom_grid_for_health_and_attendance(self):
        action = self.class_a.with_user(self.home).action_edit_health_attendance()
        rows = self.env["hocba.transcript"].with_user(self.home).search(action["domain"])
        self.assertEqual(rows, self.transcript_a)
        rows.write({"height_cm": 123.5, "weight_kg": 24.0, "days_absent_excused": 2})
        self.assertEqual(self.transcript_a.days_absent_excused, 2)

    def test_quality_check_blocks_lock_until_clean(self):
        findings = self.class_a._hocba_quality_findings()
        codes = {f.code for f in findings}
        self.assertIn("missing_level", codes)
        self.assertIn("missing_trait_level", codes)
        self.assertGreater(self.class_a.blocking_count, 0)
        with self.assertRaises(UserError) as caught:
            self.class_a.with_user(self.head).action_lock()
        self.assertIn("blocking errors", str(caught.exception))
        self.fill(self.class_a)
        self.assertEqual(self.class_a.blocking_count, 0)
        self.assertEqual(self.class_a.quality_report, "No problem found.")

    def test_warnings_do_not_block(self):
        self.fill(self.class_a)
        self.result_english_a.with_user(self.subj).write({"level": "C", "score": "9", "comment": False})
        codes = [f.code for f in self.class_a._hocba_quality_findings()]
        self.assertIn("level_vs_score", codes)
        self.assertIn("empty_comment", codes)
        self.assertEqual(self.class_a.blocking_count, 0)

    @mute_logger("odoo.models")
    def test_lock_unlock_approve_return(self):
        self.fill(self.class_a)
        with self.assertRaises(AccessError):
            self.class_a.with_user(self.users["home_b"]).action_lock()
        with self.assertRaises(AccessError):
            self.class_a.with_user(self.home).action_lock()
        self.class_a.with_user(self.head).action_lock()
        self.assertEqual(self.class_a.review_state, "locked")
        # nobody edits a locked class, not even the administrator
        with self.assertRaises(UserError):
            self.result_english_a.with_user(self.subj).comment = "Sửa"
        with self.assertRaises(UserError):
            self.transcript_a.with_user(self.home).height_cm = 125
        with self.assertRaises(UserError):
            self.transcript_a.sudo().height_cm = 125
        with self.assertRaises(AccessError):
            self.class_a.with_user(self.vice).write({"review_state": "open"})
        # unlock records who and why
        self.env["hocba.review.wizard"].with_user(self.head).create(
            {"action": "unlock", "class_id": self.class_a.id, "reason": "Sai chiều cao của một em."}
        ).action_confirm()
        self.assertEqual(self.class_a.review_state, "open")
        self.assertEqual(self.class_a.review_note, "Sai chiều cao của một em.")
        unlock_message = self.class_a.message_ids.filtered(lambda m: "Sai chiều cao" in (m.body or ""))
        self.assertEqual(unlock_message.author_id, self.head.partner_id)
        self.transcript_a.with_user(self.home).height_cm = 125
        self.class_a.with_user(self.head).action_lock()
        with self.assertRaises(AccessError):
            self.class_a.with_user(self.head).action_approve()
        self.class_a.with_user(self.vice).action_approve()
        self.assertEqual(self.class_a.review_state, "approved")
        with self.assertRaises(UserError):
            self.env["hocba.review.wizard"].with_user(self.head).create(
                {"action": "unlock", "class_id": self.class_a.id, "reason": "?"}
            ).action_confirm()
        self.env["hocba.review.wizard"].with_user(self.vice).create(
            {"action": "return", "class_id": self.class_a.id, "reason": "Nhận xét môn Toán còn thiếu."}
        ).action_confirm()
        self.assertEqual(self.class_a.review_state, "open")
        self.assertEqual(self.class_a.activity_ids.user_id, self.home)

    def test_changes_are_tracked_in_the_chatter(self):
        for level in ("H", "T"):
            self.result_english_a.with_user(self.subj).write({"level": level})
            self.env.flush_all()
            self.env.cr.precommit.run()  # tracking is written just before each commit
        tracked = self.result_english_a.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == "level")
        self.assertTrue(tracked)
        latest = tracked.sorted("id")[-1]
        self.assertEqual(latest.mail_message_id.author_id, self.subj.partner_id)
        self.assertEqual((latest.old_value_char, latest.new_value_char), ("H - Completed", "T - Completed well"))

    def test_teachers_are_reminded_of_sheets_due_soon(self):
        Sheet = self.env["hocba.entry.sheet"]
        today = datetime.date.today()
        # end of term 1 in 3 days; mid-term 2 and the end of the year months away
        self.year.write(
            {
                "name": "Test reminders",
                "date_start": today - datetime.timedelta(days=177),
                "term1_end_date": today + datetime.timedelta(days=3),
                "date_end": today + datetime.timedelta(days=300),
            }
        )
        count = Sheet._cron_remind_teachers()
        due = Sheet.search(
            [
                ("class_id", "=", self.class_a.id),
                ("period", "=", "end_term1"),
                ("subject_id", "=", self.subject_english.id),
            ]
        )
        self.assertGreater(count, 0)
        self.assertEqual(due.activity_ids.user_id, self.subj)
        self.assertEqual(due.activity_ids.date_deadline, today + datetime.timedelta(days=3))
        self.assertEqual(Sheet._cron_remind_teachers(), 0)  # once per sheet
        self.assertFalse(self.sheet_english_a.activity_ids)  # end of year: not yet

    def test_transcript_masks_the_personal_id_like_the_pupil(self):
        full = self.student_a.personal_id
        self.assertEqual(self.transcript_a.with_user(self.home).personal_id_display, full)
        self.assertNotEqual(self.transcript_a.with_user(self.subj).personal_id_display, full)
        self.assertTrue(self.transcript_a.with_user(self.subj).personal_id_display.endswith(full[-3:]))
