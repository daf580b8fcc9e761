"""Circular 27/2020 assessment rules: levels, test scores, the year result (Art. 9).

Works on plain values so it can be tested without a database.  Results and
reasons are codes with parameters; the ORM layer words them.
"""

from dataclasses import dataclass, field

SUBJECT_LEVELS = ("T", "H", "C")  # Hoàn thành tốt / Hoàn thành / Chưa hoàn thành
TRAIT_LEVELS = ("T", "Đ", "C")  # Tốt / Đạt / Cần cố gắng
RESULTS = ("HTXS", "HTT", "HT", "CHT")  # best first

# Minimum end-of-year test score for each result (Art. 9.2).
MIN_SCORE = {"HTXS": 9, "HTT": 7, "HT": 5}


@dataclass(frozen=True)
class SubjectMark:
    """End-of-year assessment of one subject or activity."""

    name: str
    level: str = None
    score: int = None
    score_required: bool = False


@dataclass(frozen=True)
class TraitMark:
    """End-of-year assessment of one quality or competency."""

    name: str
    level: str = None


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class YearResult:
    result: str  # one of RESULTS, or None when data is missing
    reasons: tuple = ()  # why not the next result up (or what is missing)


def score_problem(value):
    """Why ``value`` is not a valid periodic test score (whole number 1-10), or None."""
    if value is None or value is False or value == "":
        return None
    if isinstance(value, bool):
        return "not_whole"
    if isinstance(value, float):
        if not value.is_integer():
            return "not_whole"
        value = int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return "not_a_number"
        if not number.is_integer():
            return "not_whole"
        value = int(number)
    if not isinstance(value, int):
        return "not_a_number"
    if value < 1:
        return "below_one"
    if value > 10:
        return "above_ten"
    return None


def normalize_score(value):
    """The canonical text of a valid score ('7' for 7, ' 7,0 ' or 7.0), None if empty.

    Call only after ``score_problem`` returned None.
    """
    if value is None or value is False or (isinstance(value, str) and not value.strip()):
        return None
    return str(int(float(str(value).strip().replace(",", "."))))


def year_result(subjects, traits):
    """Apply Art. 9.2 to the end-of-year marks of one pupil.

    ``subjects``: iterable of :class:`SubjectMark` (the subjects the pupil takes);
    ``traits``: iterable of :class:`TraitMark` (5 qualities and the grade's
    competencies).  Returns a :class:`YearResult`.
    """
    subjects, traits = list(subjects), list(traits)
    missing = [Reason("missing_level", {"name": s.name}) for s in subjects if not s.level]
    missing += [Reason("missing_score", {"name": s.name}) for s in subjects if s.score_required and s.score is None]
    missing += [Reason("missing_level", {"name": t.name}) for t in traits if not t.level]
    if missing:
        return YearResult(None, tuple(missing))

    scores = [(s.name, s.score) for s in subjects if s.score is not None]
    not_t_subjects = [s for s in subjects if s.level != "T"]
    not_t_traits = [t for t in traits if t.level != "T"]
    c_subjects = [s for s in subjects if s.level == "C"]
    c_traits = [t for t in traits if t.level == "C"]

    def below(minimum):
        return [Reason("score_below", {"name": n, "score": v, "minimum": minimum}) for n, v in scores if v < minimum]

    level_reasons = [Reason("subject_not_t", {"name": s.name, "level": s.level}) for s in not_t_subjects] + [
        Reason("trait_not_t", {"name": t.name, "level": t.level}) for t in not_t_traits
    ]
    if not level_reasons and not below(MIN_SCORE["HTXS"]):
        return YearResult("HTXS")
    if not level_reasons and not below(MIN_SCORE["HTT"]):
        return YearResult("HTT", tuple(below(MIN_SCORE["HTXS"])))
    ht_blockers = (
        [Reason("subject_c", {"name": s.name}) for s in c_subjects]
        + [Reason("trait_c", {"name": t.name}) for t in c_traits]
        + below(MIN_SCORE["HT"])
    )
    if not ht_blockers:
        return YearResult("HT", tuple(level_reasons + below(MIN_SCORE["HTT"])))
    return YearResult("CHT", tuple(ht_blockers))


def completes_grade(result):
    """Art. 11: HTXS, HTT and HT complete the grade's programme."""
    return result in ("HTXS", "HTT", "HT")


def proposed_rewards(result):
    """Art. 13: every HTXS pupil is proposed for 'Học sinh Xuất sắc'.

    'Học sinh Tiêu biểu' needs the homeroom teacher's judgement (outstanding in a
    subject or clear progress, recognised by the class), so it is never automatic.
    """
    return ("excellent",) if result == "HTXS" else ()


def level_score_warning(level, score):
    """A level that looks inconsistent with the score (a heuristic, never a rule)."""
    if level is None or score is None:
        return False
    return (level == "T" and score < 7) or (level == "C" and score >= 5)
