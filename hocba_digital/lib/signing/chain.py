"""The order of the tier signatures on one transcript, and what each covers.

No Odoo import here.  The chain of Circular 27 / the school's plan:

1. each subject teacher signs the block of their subject (``subject-<code>``),
   as soon as their end-of-year results are submitted;
2. the homeroom teacher signs the whole record (``data``) and every subject
   signature, once every subject is signed and their own part is submitted;
3. the principal signs, after the vice principal approved the class;
4. the school seal signs last; the version is then issued.

A signature covers the element Ids it references.  When the data of one
subject changes, the signature of that subject and every signature made over
``data`` (homeroom, principal, seal) stop matching; the other subjects' keep
theirs.  :func:`invalidated_by` says which.
"""

from dataclasses import dataclass, field

SUBJECT, HOMEROOM, PRINCIPAL, SEAL = "subject_teacher", "homeroom_teacher", "principal", "seal"
ORDER = (SUBJECT, HOMEROOM, PRINCIPAL, SEAL)
DATA_ID = "data"
# ClaimedRole written in each XAdES signature (what a validator shows)
CLAIMED_ROLES = {
    SUBJECT: "Giáo viên bộ môn",
    HOMEROOM: "Giáo viên chủ nhiệm",
    PRINCIPAL: "Hiệu trưởng",
    SEAL: "Con dấu của nhà trường",
}
PDF_FIELDS = {HOMEROOM: "sig_homeroom", PRINCIPAL: "sig_principal", SEAL: "sig_seal"}


def wrapper_id(tier, subject_code=None):
    """The Id of a tier's signature wrapper in the XML: fixed, so a document
    never holds two signatures for the same place."""
    if tier == SUBJECT:
        if not subject_code:
            raise ValueError("a subject signature needs the subject code")
        return "sig-subject-%s" % subject_code
    if tier not in ORDER:
        raise ValueError("unknown tier %r" % tier)
    return "sig-%s" % {HOMEROOM: "homeroom", PRINCIPAL: "principal", SEAL: "seal"}[tier]


def subject_block_id(subject_code):
    return "subject-%s" % subject_code


def references(tier, subject_code=None, earlier=()):
    """Element Ids a tier signs: its subject block, or ``data`` plus every
    earlier signature wrapper (so removing or swapping one is detected)."""
    if tier == SUBJECT:
        return [subject_block_id(subject_code)]
    return [DATA_ID] + list(earlier)


@dataclass
class ChainState:
    """What is known of one transcript when someone wants to sign it."""

    subjects: tuple = ()  # codes of every subject row of the transcript
    ready_subjects: frozenset = frozenset()  # end-of-year results submitted
    signed_subjects: frozenset = frozenset()  # valid subject signatures
    homeroom_ready: bool = False  # traits submitted, result computed
    class_approved: bool = False  # vice principal approved the class
    signed: frozenset = frozenset()  # tiers other than SUBJECT with a valid signature
    issued: bool = False
    extra: dict = field(default_factory=dict)


def refusal(tier, state, subject_code=None):
    """None when ``tier`` may sign now, else ``(code, details)``.

    Codes: ``issued``, ``already_signed``, ``unknown_subject``,
    ``subject_not_ready``, ``subjects_unsigned`` (details: the codes),
    ``homeroom_not_ready``, ``homeroom_unsigned``, ``not_approved``,
    ``principal_unsigned``, ``unknown_tier``.
    """
    if tier not in ORDER:
        return ("unknown_tier", tier)
    if state.issued:
        return ("issued", None)
    if tier == SUBJECT:
        if subject_code not in state.subjects:
            return ("unknown_subject", subject_code)
        if subject_code in state.signed_subjects:
            return ("already_signed", subject_code)
        if subject_code not in state.ready_subjects:
            return ("subject_not_ready", subject_code)
        return None
    if tier in state.signed:
        return ("already_signed", tier)
    if tier == HOMEROOM:
        missing = [code for code in state.subjects if code not in state.signed_subjects]
        if missing:
            return ("subjects_unsigned", missing)
        if not state.homeroom_ready:
            return ("homeroom_not_ready", None)
        return None
    if tier == PRINCIPAL:
        if HOMEROOM not in state.signed:
            return ("homeroom_unsigned", None)
        if not state.class_approved:
            return ("not_approved", None)
        return None
    if PRINCIPAL not in state.signed:
        return ("principal_unsigned", None)
    return None


def invalidated_by(changed_subjects=(), data_changed=False):
    """Which signatures a change breaks: ``(subject codes, tiers)``.

    ``changed_subjects``: subjects whose block changed; ``data_changed``:
    anything in ``data`` changed (a subject block is part of ``data``, so a
    changed subject always breaks the tiers over ``data``).
    """
    changed_subjects = frozenset(changed_subjects)
    tiers = (HOMEROOM, PRINCIPAL, SEAL) if (changed_subjects or data_changed) else ()
    return changed_subjects, tiers
