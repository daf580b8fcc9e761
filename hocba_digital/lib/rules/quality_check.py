"""The data-quality check run before a class is locked (pure layer).

Input is plain data per pupil; output is a list of :class:`Finding`, blocking
errors and warnings, each tied to a pupil (or to the class) with a code and
parameters the ORM layer words.
"""

from dataclasses import dataclass, field

from . import assessment, personal_id

BLOCKING = "blocking"
WARNING = "warning"


@dataclass(frozen=True)
class PupilData:
    name: str
    personal_id: str = None
    sex: str = None
    birth_year: int = None
    # (subject name, period, level, score, score required) per assessed subject
    subject_marks: tuple = ()
    # (trait name, level, comment) at the end of the year
    trait_marks: tuple = ()
    stored_result: str = None
    override_reason: str = None
    year_result: object = None  # assessment.YearResult computed from the marks


@dataclass(frozen=True)
class Finding:
    severity: str
    pupil: str
    code: str
    params: dict = field(default_factory=dict)


def check_pupil(pupil):
    findings = []

    def add(severity, code, **params):
        findings.append(Finding(severity, pupil.name, code, params))

    for subject, period, level, score, required, comment in pupil.subject_marks:
        if not level:
            add(BLOCKING, "missing_level", subject=subject, period=period)
        if required and score is None:
            add(BLOCKING, "missing_score", subject=subject, period=period)
        problem = assessment.score_problem(score)
        if problem:
            add(BLOCKING, "score_invalid", subject=subject, period=period, score=score)
        elif assessment.level_score_warning(level, score):
            add(WARNING, "level_vs_score", subject=subject, period=period, level=level, score=score)
        if level and not (comment or "").strip():
            add(WARNING, "empty_comment", subject=subject, period=period)
    for trait, level, comment in pupil.trait_marks:
        if not level:
            add(BLOCKING, "missing_trait_level", trait=trait)
        elif not (comment or "").strip():
            add(WARNING, "empty_trait_comment", trait=trait)
    computed = pupil.year_result
    if (
        computed is not None
        and computed.result
        and pupil.stored_result
        and pupil.stored_result != computed.result
        and not pupil.override_reason
    ):
        add(BLOCKING, "result_inconsistent", stored=pupil.stored_result, computed=computed.result)
    if pupil.personal_id:
        errors = personal_id.errors(personal_id.check(pupil.personal_id, pupil.sex, pupil.birth_year))
        if errors:
            add(BLOCKING, "personal_id_invalid", issue=errors[0].code)
    else:
        add(WARNING, "personal_id_missing")
    return findings


def check_class(pupils):
    findings = []
    for pupil in pupils:
        findings.extend(check_pupil(pupil))
    return findings


def summary(findings):
    """``(blocking count, warning count)``."""
    blocking = sum(1 for f in findings if f.severity == BLOCKING)
    return blocking, len(findings) - blocking
