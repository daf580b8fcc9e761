import datetime

from odoo.tests import BaseCase, tagged

from ..lib.rules import progress

D = datetime.date
SIGNING = D(2036, 6, 15)


def figures(**values):
    row = dict.fromkeys(progress.FIGURES, 0)
    row.update(classes=1, **values)
    return row


@tagged("post_install", "-at_install")
class TestProgressFigures(BaseCase):
    """Figures per class, grade and school from plain rows (no database)."""

    def test_stage_follows_the_chain(self):
        self.assertEqual(progress.stage(figures(pupils=30)), progress.NOT_PREPARED)
        self.assertEqual(
            progress.stage(figures(transcripts=30, sheets_total=12, sheets_submitted=11)), progress.DATA_ENTRY
        )
        done = dict(transcripts=30, sheets_total=12, sheets_submitted=12)
        self.assertEqual(progress.stage(figures(**done)), progress.CHECKING)
        self.assertEqual(progress.stage(figures(locked=1, **done)), progress.APPROVAL)
        self.assertEqual(progress.stage(figures(locked=1, approved=1, issued=29, **done)), progress.SIGNING)
        self.assertEqual(progress.stage(figures(locked=1, approved=1, issued=30, **done)), progress.ISSUED)

    def test_totals_and_percentages_per_grade(self):
        rows = [
            dict(
                figures(
                    pupils=30,
                    transcripts=30,
                    sheets_total=12,
                    sheets_submitted=12,
                    locked=1,
                    signed_homeroom=30,
                    issued=15,
                ),
                grade="3",
            ),
            dict(figures(pupils=31, transcripts=31, sheets_total=12, sheets_submitted=3), grade="3"),
            dict(figures(pupils=33, transcripts=0), grade="1"),
        ]
        grades = progress.by_grade(rows)
        self.assertEqual([g for g, _totals, _rows in grades], ["1", "3"])
        grade3 = grades[1][1]
        self.assertEqual(
            (
                grade3["classes"],
                grade3["pupils"],
                grade3["sheets_submitted"],
                grade3["sheets_total"],
                grade3["locked"],
                grade3["issued"],
            ),
            (2, 61, 15, 24, 1, 15),
        )
        pct = progress.percentages(grade3)
        self.assertEqual(
            (pct["entered"], pct["locked"], pct["approved"], pct["signed_homeroom"], pct["issued"]), (63, 50, 0, 49, 25)
        )
        self.assertIsNone(progress.percentages(grades[0][1])["issued"])  # no transcript yet
        self.assertEqual(progress.total(rows)["pupils"], 94)
        self.assertEqual(
            progress.by_grade([{"grade": "2", "f": figures(pupils=4)}], lambda row: row["f"])[0][1]["pupils"], 4
        )

    def test_signing_work_counts_every_signature_still_needed(self):
        # 2 transcripts of 11 subjects: 22 + 3 x 2 = 28 signatures; 11 + 1 made
        done, required = progress.signing_work(
            figures(
                pupils=2,
                transcripts=2,
                subject_signatures_required=22,
                subject_signatures=11,
                signed_subject=1,
                signed_homeroom=1,
            )
        )
        self.assertEqual((done, required), (12, 28))
        # a pupil without a transcript still counts: work never looks done before it starts
        self.assertEqual(progress.signing_work(figures(pupils=3)), (0, 12))


@tagged("post_install", "-at_install")
class TestProgressForecast(BaseCase):
    """The pace forecast with known dates."""

    def test_pace_counts_only_the_window(self):
        events = [(D(2036, 5, 22), 100), (D(2036, 5, 23), 7), (D(2036, 6, 5), 7)]
        self.assertEqual(progress.pace(events, D(2036, 6, 5)), 1.0)  # 14 over 14 days
        self.assertEqual(progress.pace(events, D(2036, 6, 5), window_days=7), 1.0)

    def test_late_on_track_and_exactly_on_the_deadline(self):
        today = D(2036, 6, 5)
        events = [(D(2036, 6, 1), 10), (D(2036, 6, 3), 18)]  # 2 a day
        late = progress.forecast(events, 30, today, SIGNING)
        self.assertEqual(
            (late.status, late.finish, late.days_late, late.days_left), (progress.LATE, D(2036, 6, 20), 5, 10)
        )
        self.assertTrue(late.misses)
        exact = progress.forecast(events, 20, today, SIGNING)
        self.assertEqual((exact.status, exact.finish), (progress.ON_TRACK, SIGNING))
        self.assertFalse(exact.misses)
        self.assertEqual(progress.forecast(events, 1, today, SIGNING).finish, D(2036, 6, 6))

    def test_without_progress_stalled_near_the_deadline_only(self):
        stalled = progress.forecast([], 14, D(2036, 6, 1), SIGNING)
        self.assertEqual((stalled.status, stalled.finish), (progress.STALLED, None))
        self.assertTrue(stalled.misses)
        early = progress.forecast([], 14, D(2036, 3, 1), SIGNING)
        self.assertEqual(early.status, progress.TOO_EARLY)
        self.assertFalse(early.misses)
        # the watch starts WATCH_DAYS before the deadline
        watch = SIGNING - datetime.timedelta(days=progress.WATCH_DAYS)
        self.assertEqual(progress.forecast([], 1, watch, SIGNING).status, progress.STALLED)
        self.assertEqual(
            progress.forecast([], 1, watch - datetime.timedelta(days=1), SIGNING).status, progress.TOO_EARLY
        )

    def test_overdue_and_done(self):
        events = [(D(2036, 6, 14), 70)]
        overdue = progress.forecast(events, 3, D(2036, 6, 16), SIGNING)
        self.assertEqual((overdue.status, overdue.days_left), (progress.OVERDUE, -1))
        self.assertTrue(overdue.misses)
        done = progress.forecast(events, 0, D(2036, 6, 16), SIGNING)
        self.assertEqual((done.status, done.misses), (progress.DONE, False))

    def test_chained_stages_end_with_the_last(self):
        sync = D(2036, 8, 20)
        today = D(2036, 6, 5)
        issuing = progress.forecast([(today, 14)], 10, today, sync)  # 1 a day: 15 June
        syncing = progress.forecast([(today, 7)], 36, today, sync)  # 0.5 a day: 16 Aug
        both = progress.chained(issuing, syncing)
        self.assertEqual((both.status, both.finish), (progress.ON_TRACK, D(2036, 8, 16)))
        slow = progress.forecast([(today, 2)], 20, today, sync)  # 140 days
        self.assertEqual(progress.chained(issuing, slow).status, progress.LATE)
        unknown = progress.chained(progress.forecast([], 0, today, sync), progress.forecast([], 5, today, sync))
        self.assertEqual((unknown.status, unknown.finish), (progress.TOO_EARLY, None))
        self.assertEqual(progress.worst([None, issuing, slow]), slow)
        self.assertIsNone(progress.worst([]))


@tagged("post_install", "-at_install")
class TestProgressPeople(BaseCase):
    """Who a class waits for, and who is late at data entry."""

    def test_late_at_data_entry(self):
        today = D(2036, 1, 20)
        sheets = [
            ("hoa", D(2035, 11, 10), False),
            ("hoa", D(2036, 1, 17), False, 3),
            ("nam", D(2035, 11, 10), True),
            ("lan", D(2036, 3, 20), False),
            (None, D(2035, 11, 10), False, 2),
            ("mai", D(2036, 1, 20), False),
        ]
        self.assertEqual(progress.late_at_data_entry(sheets, today), {"hoa": 4, None: 2})

    def test_waiting_for_by_stage(self):
        people = dict(
            preparers=["home"],
            entering=["subj", "home"],
            reviewers=["head"],
            approvers=["vice"],
            signers=["subj", "principal"],
        )
        self.assertEqual(progress.waiting_for(progress.NOT_PREPARED, **people), ["home", "subj", "principal"])
        self.assertEqual(progress.waiting_for(progress.DATA_ENTRY, **people), ["subj", "home", "principal"])
        self.assertEqual(progress.waiting_for(progress.CHECKING, **people), ["head", "subj", "principal"])
        self.assertEqual(progress.waiting_for(progress.APPROVAL, **people), ["vice", "subj", "principal"])
        self.assertEqual(progress.waiting_for(progress.SIGNING, **people), ["subj", "principal"])
        self.assertEqual(progress.waiting_for(progress.ISSUED, **people), [])
