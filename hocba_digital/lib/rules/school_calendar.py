"""School-year arithmetic: names, default deadlines, the year a date falls in."""

import datetime

# The school's own plan: every transcript signed before 15 June, every signed
# package synced to the Department and the Ministry before 20 August.
SIGNING_DEADLINE = (6, 15)
SYNC_DEADLINE = (8, 20)
# The Ministry's calendar opens the year in early September; grade 1 may
# return up to two weeks earlier, so August belongs to the coming year.
FIRST_MONTH = 8


def year_name(date_start, date_end):
    return "%d-%d" % (date_start.year, date_end.year)


def default_deadlines(date_end):
    """Signing and sync deadlines of the school year that ends on ``date_end``."""
    year = date_end.year
    return (datetime.date(year, *SIGNING_DEADLINE), datetime.date(year, *SYNC_DEADLINE))


def bounds_for(day):
    """Typical ``(start, term 1 end, end)`` of the school year ``day`` falls in."""
    first = day.year if day.month >= FIRST_MONTH else day.year - 1
    return (datetime.date(first, 9, 5), datetime.date(first + 1, 1, 17), datetime.date(first + 1, 5, 31))


def check_dates(date_start, term1_end, date_end, signing_deadline, sync_deadline):
    """Return the codes of the date rules that are broken (empty list when fine)."""
    problems = []
    if date_start and date_end and date_start >= date_end:
        problems.append("start_after_end")
    if term1_end and date_start and date_end and not date_start < term1_end < date_end:
        problems.append("term1_outside")
    if signing_deadline and date_start and signing_deadline <= date_start:
        problems.append("signing_before_start")
    if signing_deadline and sync_deadline and sync_deadline < signing_deadline:
        problems.append("sync_before_signing")
    return problems


def default_mid_terms(date_start, term1_end):
    """Mid-term assessments, halfway through each term (the term 2 length is assumed
    to match term 1); ``(None, None)`` while the dates are not known."""
    if not date_start or not term1_end:
        return None, None
    half = (term1_end - date_start) / 2
    return date_start + half, term1_end + half
