"""Fixed vocabularies of Circular 27/2020 and of the school organisation."""
import re

GRADES = ("1", "2", "3", "4", "5")

# Periodic assessment points (Art. 7): mid-term 1, end of term 1, mid-term 2, end of year.
PERIODS = ("mid_term1", "end_term1", "mid_term2", "end_year")

SUBJECT_KINDS = ("subject", "activity")

# Staff tiers, in signing order; the last three stand beside the chain.
TIERS = ("subject_teacher", "homeroom_teacher", "head_of_group", "vice_principal",
         "principal", "it_officer", "clerk", "accountant")

_GRADE_IN_NAME = re.compile(r"\d")


def grade_from_class_name(name):
    """First digit of a class name ('1A' -> '1', 'L2B' -> '2', '5/3' -> '5')."""
    match = _GRADE_IN_NAME.search(name or "")
    if not match or match.group() not in GRADES:
        return None
    return match.group()


def class_name(grade, section):
    return "%s%s" % (grade or "", (section or "").strip().upper())
