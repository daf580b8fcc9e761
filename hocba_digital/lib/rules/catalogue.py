"""Fixed vocabularies of Circular 27/2020 and of the school organisation."""

import re

GRADES = ("1", "2", "3", "4", "5")

# Periodic assessment points (Art. 7): mid-term 1, end of term 1, mid-term 2, end of year.
PERIODS = ("mid_term1", "end_term1", "mid_term2", "end_year")

SUBJECT_KINDS = ("subject", "activity")

# Staff tiers, in signing order; the last three stand beside the chain.
TIERS = (
    "subject_teacher",
    "homeroom_teacher",
    "head_of_group",
    "vice_principal",
    "principal",
    "it_officer",
    "clerk",
    "accountant",
)

_GRADE_IN_NAME = re.compile(r"\d")


def grade_from_class_name(name):
    """First digit of a class name ('1A' -> '1', 'L2B' -> '2', '5/3' -> '5')."""
    match = _GRADE_IN_NAME.search(name or "")
    if not match or match.group() not in GRADES:
        return None
    return match.group()


def class_name(grade, section):
    return "%s%s" % (grade or "", (section or "").strip().upper())


# Qualities and competencies assessed T/Đ/C by the homeroom teacher (Art. 6-7):
# (code, kind, English name, first grade that has it).  Informatics and
# technology only start in grade 3, so grades 1-2 have 5 specific competencies.
TRAITS = (
    ("yeu_nuoc", "quality", "Patriotism", "1"),
    ("nhan_ai", "quality", "Kindness", "1"),
    ("cham_chi", "quality", "Diligence", "1"),
    ("trung_thuc", "quality", "Honesty", "1"),
    ("trach_nhiem", "quality", "Responsibility", "1"),
    ("tu_chu", "general", "Self-reliance and self-learning", "1"),
    ("giao_tiep", "general", "Communication and cooperation", "1"),
    ("giai_quyet", "general", "Problem solving and creativity", "1"),
    ("ngon_ngu", "specific", "Language", "1"),
    ("tinh_toan", "specific", "Numeracy", "1"),
    ("khoa_hoc", "specific", "Science", "1"),
    ("cong_nghe", "specific", "Technology", "3"),
    ("tin_hoc", "specific", "Informatics", "3"),
    ("tham_mi", "specific", "Aesthetics", "1"),
    ("the_chat", "specific", "Physical", "1"),
)


def traits_of_grade(grade):
    """Codes of the qualities and competencies assessed in ``grade``."""
    return [code for code, _kind, _name, first in TRAITS if grade and grade >= first]
