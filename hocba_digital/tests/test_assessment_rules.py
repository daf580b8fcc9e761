from odoo.tests import BaseCase, tagged

from ..lib.rules import assessment as a

S, T = a.SubjectMark, a.TraitMark


def school_year(math_score=10, viet_score=10, math_level="T", ethics_level="T", honesty="T", language="T"):
    subjects = [
        S("Toán", math_level, math_score, True),
        S("Tiếng Việt", "T", viet_score, True),
        S("Đạo đức", ethics_level),
    ]
    traits = [T("Trung thực", honesty), T("Ngôn ngữ", language), T("Chăm chỉ", "T")]
    return subjects, traits


@tagged("post_install", "-at_install")
class TestYearResult(BaseCase):
    """Art. 9.2 at every boundary."""

    def check(self, expected, reasons=(), **kw):
        outcome = a.year_result(*school_year(**kw))
        self.assertEqual(outcome.result, expected, kw)
        self.assertEqual([(r.code, r.params) for r in outcome.reasons], list(reasons), kw)

    def test_table(self):
        score_below = "score_below"
        cases = [
            ("all T, scores 10", {}, "HTXS", []),
            ("score 9 keeps HTXS", {"math_score": 9}, "HTXS", []),
            (
                "score 8 drops to HTT",
                {"math_score": 8},
                "HTT",
                [(score_below, {"name": "Toán", "score": 8, "minimum": 9})],
            ),
            (
                "score 7 keeps HTT",
                {"math_score": 7},
                "HTT",
                [(score_below, {"name": "Toán", "score": 7, "minimum": 9})],
            ),
            (
                "score 6 drops to HT",
                {"math_score": 6},
                "HT",
                [(score_below, {"name": "Toán", "score": 6, "minimum": 7})],
            ),
            (
                "score 5 keeps HT",
                {"viet_score": 5},
                "HT",
                [(score_below, {"name": "Tiếng Việt", "score": 5, "minimum": 7})],
            ),
            (
                "score 4 is CHT",
                {"viet_score": 4},
                "CHT",
                [(score_below, {"name": "Tiếng Việt", "score": 4, "minimum": 5})],
            ),
            (
                "one H subject is HT",
                {"ethics_level": "H"},
                "HT",
                [("subject_not_t", {"name": "Đạo đức", "level": "H"})],
            ),
            ("one Đ trait is HT", {"honesty": "Đ"}, "HT", [("trait_not_t", {"name": "Trung thực", "level": "Đ"})]),
            ("one C subject is CHT", {"ethics_level": "C"}, "CHT", [("subject_c", {"name": "Đạo đức"})]),
            ("one C trait is CHT", {"language": "C"}, "CHT", [("trait_c", {"name": "Ngôn ngữ"})]),
            (
                "H subject with score 9: still HT",
                {"math_level": "H", "math_score": 9},
                "HT",
                [("subject_not_t", {"name": "Toán", "level": "H"})],
            ),
            ("missing required score: no result", {"math_score": None}, None, [("missing_score", {"name": "Toán"})]),
            ("missing level: no result", {"ethics_level": None}, None, [("missing_level", {"name": "Đạo đức"})]),
        ]
        for label, kw, expected, reasons in cases:
            with self.subTest(label):
                self.check(expected, reasons, **kw)

    def test_pupil_without_tested_subjects(self):
        outcome = a.year_result([S("Âm nhạc", "T")], [T("Yêu nước", "T")])
        self.assertEqual(outcome.result, "HTXS")

    def test_completion_and_rewards(self):
        self.assertTrue(a.completes_grade("HT"))
        self.assertFalse(a.completes_grade("CHT"))
        self.assertEqual(a.proposed_rewards("HTXS"), ("excellent",))
        self.assertEqual(a.proposed_rewards("HTT"), ())


@tagged("post_install", "-at_install")
class TestScores(BaseCase):
    def test_valid_scores(self):
        for value in (1, 5, 10, "7", " 8 ", 9.0, "10,0", None, ""):
            with self.subTest(value=value):
                self.assertIsNone(a.score_problem(value))

    def test_refused_scores(self):
        cases = [
            (0, "below_one"),
            (-3, "below_one"),
            (11, "above_ten"),
            ("12", "above_ten"),
            (7.5, "not_whole"),
            ("6,5", "not_whole"),
            ("bảy", "not_a_number"),
            (True, "not_whole"),
        ]
        for value, problem in cases:
            with self.subTest(value=value):
                self.assertEqual(a.score_problem(value), problem)

    def test_level_score_heuristic_is_a_warning(self):
        self.assertTrue(a.level_score_warning("T", 5))
        self.assertTrue(a.level_score_warning("C", 8))
        self.assertFalse(a.level_score_warning("H", 6))
        self.assertFalse(a.level_score_warning("T", None))
