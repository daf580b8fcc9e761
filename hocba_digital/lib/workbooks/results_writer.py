"""Write the sector database's results workbook ("Kết quả học tập", C1, TT27).

The layout is the template's (three header rows, merged group and subject
headers), so :func:`result_workbook.read_ministry_results` reads it back.
"""

import io

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from ..rules import catalogue
from .cells import put
from .results import (
    H_BIRTH,
    H_CLASS,
    H_CODE,
    H_COMPETENCIES,
    H_COMPLETES,
    H_GENERAL,
    H_LEVEL,
    H_NAME,
    H_PROMOTED,
    H_QUALITIES,
    H_RESULT,
    H_SCORE,
    H_SPECIFIC,
    H_STT,
    H_SUBJECTS,
    SUBJECT_LABELS,
    TRAIT_LABELS,
)


def write_ministry_results(
    rows, subjects, traits, sheet_title="KQHT", subject_names=None, trait_names=None, with_year_end=True
):
    """The results workbook of one class and period, as xlsx bytes.

    ``rows``: :class:`ResultRow` objects or dicts with the same keys (``codes``
    or ``code``, ``class_code``, ``name``, ``birth_date``, ``subjects``,
    ``traits``, ``completes``, ``promoted``, ``result``); ``subjects``: the
    ``(code, has_score)`` columns to write, in order; ``traits``: the trait
    codes to write (catalogue order is kept: general and specific
    competencies, then the qualities).  The layout is the template's: three
    header rows, merged group and subject headers; :func:`read_ministry_results`
    reads it back.
    """
    subject_names = subject_names or SUBJECT_LABELS
    trait_names = trait_names or TRAIT_LABELS

    def label(names, code):
        value = names[code]
        return value if isinstance(value, str) else value[0]

    kinds = {code: kind for code, kind, *_rest in catalogue.TRAITS}
    wanted = set(traits)
    general = [c for c, k, *_r in catalogue.TRAITS if k == "general" and c in wanted]
    specific = [c for c, k, *_r in catalogue.TRAITS if k == "specific" and c in wanted]
    qualities = [c for c, k, *_r in catalogue.TRAITS if k == "quality" and c in wanted]
    assert not wanted - set(kinds), "unknown trait codes"

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet_title
    bold = Font(bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)

    def head(row, col, text, last_row=None, last_col=None):
        put(ws, row, col, text)
        if (last_row or row) != row or (last_col or col) != col:
            ws.merge_cells(start_row=row, start_column=col, end_row=last_row or row, end_column=last_col or col)

    layout = []  # (key, col) of the data columns
    col = 1
    for key, text in (
        ("stt", H_STT),
        ("class_code", H_CLASS),
        ("code", H_CODE),
        ("name", H_NAME),
        ("birth_date", H_BIRTH),
    ):
        head(1, col, text, last_row=3)
        layout.append((key, col))
        col += 1
    if subjects:
        start = col
        for code, has_score in subjects:
            head(2, col, label(subject_names, code), last_col=col + (1 if has_score else 0))
            head(3, col, H_LEVEL)
            layout.append((("subject", code, "level"), col))
            col += 1
            if has_score:
                head(3, col, H_SCORE)
                layout.append((("subject", code, "score"), col))
                col += 1
        head(1, start, H_SUBJECTS, last_col=col - 1)
    if general or specific:
        start = col
        for group, codes in ((H_GENERAL, general), (H_SPECIFIC, specific)):
            if not codes:
                continue
            head(2, col, group, last_col=col + len(codes) - 1)
            for code in codes:
                head(3, col, label(trait_names, code))
                layout.append((("trait", code), col))
                col += 1
        head(1, start, H_COMPETENCIES, last_col=col - 1)
    if qualities:
        head(1, col, H_QUALITIES, last_col=col + len(qualities) - 1)
        for code in qualities:
            head(2, col, label(trait_names, code), last_row=3)
            layout.append((("trait", code), col))
            col += 1
    if with_year_end:
        for key, text in (("completes", H_COMPLETES), ("promoted", H_PROMOTED), ("result", H_RESULT)):
            head(1, col, text, last_row=3)
            layout.append((key, col))
            col += 1
    last_col = col - 1
    for r in range(1, 4):
        for c in range(1, last_col + 1):
            cell = ws.cell(r, c)
            cell.font, cell.alignment, cell.border = bold, centre, box

    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            row = {
                "codes": row.codes,
                "class_code": row.class_code,
                "name": row.name,
                "birth_date": row.birth_date,
                "subjects": row.subjects,
                "traits": row.traits,
                "completes": row.completes,
                "promoted": row.promoted,
                "result": row.result,
            }
        codes = row.get("codes") or ((row["code"],) if row.get("code") else ())
        r = number + 3
        for key, c in layout:
            if key == "stt":
                value = number
            elif key == "code":
                value = codes[0] if codes else None
            elif key == "birth_date":
                value = row.get("birth_date")
                value = value.strftime("%d/%m/%Y") if value else None
            elif key in ("completes", "promoted"):
                value = "x" if row.get(key) else None
            elif isinstance(key, tuple) and key[0] == "subject":
                level, score = (row.get("subjects") or {}).get(key[1]) or (None, None)
                value = level if key[2] == "level" else (int(score) if score else None)
            elif isinstance(key, tuple):
                value = (row.get("traits") or {}).get(key[1])
            else:
                value = row.get(key)
            cell = put(ws, r, c, value if value not in ("", False) else None)
            cell.border = box
            if not (isinstance(key, str) and key == "name"):
                cell.alignment = Alignment(horizontal="center")
    for key, c in layout:
        width = (
            26 if key == "name" else 14 if key in ("code", "birth_date", "class_code") else 6 if key == "stt" else 10
        )
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = ws.cell(4, 6)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
