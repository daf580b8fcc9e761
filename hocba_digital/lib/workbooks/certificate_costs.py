"""The accountant's workbook: certificate cost lines and the renewal forecast.

Plain rows in, xlsx bytes out; headers and labels come translated from the caller.
"""

import dataclasses
import io

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from .cells import put

MONEY_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"


@dataclasses.dataclass
class Sheet:
    """``columns``: ``(key, header, kind)`` with kind "text", "date" or "money";
    ``rows``: dicts by key; ``total_key``: the money column summed on a last
    row labelled ``total_label`` (none when empty)."""

    title: str
    columns: list
    rows: list
    total_key: str = None
    total_label: str = "Total"


def write_cost_workbook(sheets, title=None):
    """The workbook of ``sheets`` (:class:`Sheet`) as xlsx bytes; ``title`` is
    written above the first sheet's table."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, sheet in enumerate(sheets):
        columns, rows, total_key = sheet.columns, sheet.rows, sheet.total_key
        ws = workbook.create_sheet(sheet.title[:31])
        first = 1
        if title and index == 0:
            put(ws, 1, 1, title).font = Font(bold=True, size=13)
            first = 3
        for col, (_key, header, _kind) in enumerate(columns, start=1):
            cell = put(ws, first, col, header)
            cell.font, cell.alignment, cell.border = bold, centre, box
        for row_index, row in enumerate(rows, start=first + 1):
            for col, (key, _header, kind) in enumerate(columns, start=1):
                cell = put(ws, row_index, col, row.get(key))
                cell.border = box
                if kind == "money":
                    cell.number_format = MONEY_FORMAT
                elif kind == "date":
                    cell.number_format = DATE_FORMAT
        if total_key:
            total_row = first + len(rows) + 1
            keys = [key for key, _header, _kind in columns]
            total_col = keys.index(total_key) + 1
            put(ws, total_row, 1, sheet.total_label).font = bold
            total = put(ws, total_row, total_col, sum(row.get(total_key) or 0 for row in rows))
            total.font, total.number_format = bold, MONEY_FORMAT
        for col, (_key, header, kind) in enumerate(columns, start=1):
            width = 16 if kind in ("money", "date") else max(14, min(40, len(header) + 4))
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = ws.cell(first + 1, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
