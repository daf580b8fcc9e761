"""Progress of the transcript roll-out, for the steering committee (pure layer).

No Odoo import here.  Three things, each from plain data:

* **figures**: the counts of one class (a dict with the keys of
  :data:`FIGURES`, as the ``hocba.progress`` view gives them), summed per
  grade and per school, as percentages, and the *stage* a class is at;
* **pace forecast**: from dated completion events (e.g. signatures per day)
  over the last ``window_days`` and the items still to do, the projected
  finish date and whether it misses a deadline (the plan's: every transcript
  signed and issued before 15 June, every package synced before 20 August);
* **who a class waits for**: the people whose work the class needs next, and
  who is late (a sheet past its due date and not submitted).

People are opaque values here (user ids in Odoo): this module only orders
and de-duplicates them.
"""

import datetime
import math
from dataclasses import dataclass

# The counts of one class; summing them gives a grade's or a school's.
FIGURES = (
    "classes",
    "pupils",
    "transcripts",
    "sheets_total",
    "sheets_submitted",
    "sheets_overdue",
    "locked",
    "approved",
    "subject_signatures",
    "subject_signatures_required",
    "signed_subject",
    "signed_homeroom",
    "signed_principal",
    "signed_seal",
    "issued",
)
# tier of the signing chain -> count of transcripts whose current version that
# tier signed ("subject": every subject of the transcript is signed)
TIER_FIGURES = (
    ("subject_teacher", "signed_subject"),
    ("homeroom_teacher", "signed_homeroom"),
    ("principal", "signed_principal"),
    ("seal", "signed_seal"),
)
# signatures after the subject teachers': homeroom teacher, principal, seal
LATER_TIERS = 3
# a pupil without a transcript yet still needs at least one subject and the
# three later signatures: the work of a class never looks done before it starts
UNITS_WITHOUT_TRANSCRIPT = 1 + LATER_TIERS

# Stages of a class, in the order of the plan.
NOT_PREPARED = "not_prepared"  # no transcript made yet
DATA_ENTRY = "data_entry"  # end-of-year sheets still to submit
CHECKING = "checking"  # everything submitted, the head of group has not locked
APPROVAL = "approval"  # locked, the vice principal has not approved
SIGNING = "signing"  # approved, not every transcript issued
ISSUED = "issued"  # every transcript issued
STAGES = (NOT_PREPARED, DATA_ENTRY, CHECKING, APPROVAL, SIGNING, ISSUED)

# Pace forecast: signatures of the last two weeks; a class with no progress is
# only called stalled in the last weeks before a deadline (work comes in bursts
# at the assessment periods, so a quiet fortnight in November says nothing).
WINDOW_DAYS = 14
WATCH_DAYS = 45

DONE = "done"  # nothing left
ON_TRACK = "on_track"  # at this pace, finished by the deadline
TOO_EARLY = "too_early"  # no progress yet, the deadline is still far
LATE = "late"  # at this pace, finished after the deadline
STALLED = "stalled"  # no progress in the window, the deadline is near
OVERDUE = "overdue"  # the deadline has passed, work is left
MISSES = frozenset({LATE, STALLED, OVERDUE})
# from the least to the most worrying, to tell the worse of two forecasts
SEVERITY = (DONE, ON_TRACK, TOO_EARLY, LATE, STALLED, OVERDUE)


# ---- figures ----


def total(rows):
    """The sum of :data:`FIGURES` over ``rows`` (missing or empty counts as 0)."""
    return {key: sum(row.get(key) or 0 for row in rows) for key in FIGURES}


def percent(part, whole):
    """``part`` of ``whole`` as a whole percentage, None when there is no whole."""
    if not whole:
        return None
    return int(math.floor(100.0 * (part or 0) / whole + 0.5))


def percentages(figures):
    """Percent done at each step: data entered (of the end-of-year sheets),
    locked and approved (of the classes), each tier signed and issued (of the
    transcripts)."""
    result = {
        "entered": percent(figures["sheets_submitted"], figures["sheets_total"]),
        "locked": percent(figures["locked"], figures["classes"]),
        "approved": percent(figures["approved"], figures["classes"]),
        "issued": percent(figures["issued"], figures["transcripts"]),
    }
    for _tier, key in TIER_FIGURES:
        result[key] = percent(figures[key], figures["transcripts"])
    return result


def stage(figures):
    """The stage of one class (see :data:`STAGES`)."""
    if not figures["transcripts"]:
        return NOT_PREPARED
    if figures["issued"] >= figures["transcripts"]:
        return ISSUED
    if figures["sheets_submitted"] < figures["sheets_total"]:
        return DATA_ENTRY
    if not figures["locked"]:
        return CHECKING
    if not figures["approved"]:
        return APPROVAL
    return SIGNING


def by_grade(rows, figures_of=None):
    """``[(grade, totals, rows)]`` in grade order, rows in the order given;
    ``figures_of(row)`` gives a row's figures (the row itself by default)."""
    figures_of = figures_of or (lambda row: row)
    grades = {}
    for row in rows:
        grades.setdefault(row["grade"], []).append(row)
    return [
        (grade, total([figures_of(row) for row in grade_rows]), grade_rows)
        for grade, grade_rows in sorted(grades.items())
    ]


def signing_work(figures):
    """``(done, required)`` signatures for every transcript to be issued:
    each transcript needs its subjects' signatures and the three later tiers'."""
    missing_transcripts = max((figures["pupils"] or 0) - figures["transcripts"], 0)
    required = (
        figures["subject_signatures_required"]
        + LATER_TIERS * figures["transcripts"]
        + UNITS_WITHOUT_TRANSCRIPT * missing_transcripts
    )
    done = (
        figures["subject_signatures"]
        + figures["signed_homeroom"]
        + figures["signed_principal"]
        + figures["signed_seal"]
    )
    return min(done, required), required


# ---- pace forecast ----


@dataclass(frozen=True)
class Forecast:
    """Where a piece of work will be at its deadline, at the current pace."""

    deadline: datetime.date
    today: datetime.date
    remaining: int
    per_day: float  # items done per day over the window
    finish: datetime.date  # projected finish; None when there is no pace
    status: str

    @property
    def misses(self):
        return self.status in MISSES

    @property
    def days_left(self):
        return (self.deadline - self.today).days

    @property
    def days_late(self):
        """Days after the deadline the work is projected to end (0 when it is not)."""
        if self.finish and self.finish > self.deadline:
            return (self.finish - self.deadline).days
        return 0


def pace(events, today, window_days=WINDOW_DAYS):
    """Items done per day over the ``window_days`` ending with ``today``.

    ``events``: ``(day, count)`` pairs (several pairs may share a day); days
    outside the window are ignored.
    """
    start = today - datetime.timedelta(days=window_days - 1)
    done = sum(count for day, count in events if start <= day <= today)
    return done / float(window_days)


def forecast(events, remaining, today, deadline, window_days=WINDOW_DAYS, watch_days=WATCH_DAYS):
    """The :class:`Forecast` of ``remaining`` items due on ``deadline``.

    At ``pace(events)`` items a day, the last item is done
    ``ceil(remaining / pace)`` days after ``today``.  Without any progress in
    the window there is no finish date: the work is *stalled* when the
    deadline is ``watch_days`` away or closer, else it is *too early* to tell.
    """
    per_day = pace(events, today, window_days)
    if remaining <= 0:
        return Forecast(deadline, today, 0, per_day, None, DONE)
    finish = None
    if per_day > 0:
        finish = today + datetime.timedelta(days=math.ceil(remaining / per_day - 1e-9))
    if today > deadline:
        status = OVERDUE
    elif finish:
        status = LATE if finish > deadline else ON_TRACK
    else:
        status = STALLED if (deadline - today).days <= watch_days else TOO_EARLY
    return Forecast(deadline, today, remaining, per_day, finish, status)


def chained(first, *later):
    """A stage that cannot end before the stages it needs: ``first`` and
    ``later`` share one deadline; the result ends with the last of them (no
    date when one of them, not done, has none) and is as bad as the worst."""
    forecasts = (first,) + later
    bad = worst(forecasts)
    if any(f.status != DONE and not f.finish for f in forecasts):
        finish = None
    else:
        finish = max((f.finish for f in forecasts if f.finish), default=None)
    return Forecast(first.deadline, first.today, bad.remaining, bad.per_day, finish, bad.status)


def worst(forecasts):
    """The most worrying of ``forecasts`` (None when there is none)."""
    forecasts = [f for f in forecasts if f]
    return max(forecasts, key=lambda f: SEVERITY.index(f.status)) if forecasts else None


# ---- who a class waits for ----


def ordered_people(*groups):
    """Every person of ``groups`` once, in the order first met."""
    seen, people = set(), []
    for group in groups:
        for person in group or ():
            if person and person not in seen:
                seen.add(person)
                people.append(person)
    return people


def late_at_data_entry(sheets, today):
    """``{person: number of overdue sheets}`` from ``(person, due date, submitted)``
    or ``(person, due date, submitted, count)`` tuples: a sheet not submitted
    after its due date makes its teacher late (``None``: a sheet nobody is
    assigned to, still late)."""
    late = {}
    for person, due, submitted, *count in sheets:
        if due and due < today and not submitted:
            late[person or None] = late.get(person or None, 0) + (count[0] if count else 1)
    return late


def waiting_for(class_stage, *, preparers=(), entering=(), reviewers=(), approvers=(), signers=()):
    """The people a class waits for at ``class_stage``, most blocking first.

    ``preparers``: who makes its transcripts (the homeroom teacher);
    ``entering``: teachers whose end-of-year sheet is not submitted;
    ``reviewers``: the heads of subject group who lock the class;
    ``approvers``: the vice principals who approve it; ``signers``: whose
    signature its transcripts wait for now (subject teachers sign as soon as
    their own sheet is submitted, so signers can be waited for at any stage).
    """
    if class_stage == ISSUED:
        return []
    first = {NOT_PREPARED: preparers, DATA_ENTRY: entering, CHECKING: reviewers, APPROVAL: approvers}.get(
        class_stage, ()
    )
    return ordered_people(first, signers)
