"""Writing cells so that no exported text ever becomes a formula.

openpyxl turns a string starting with ``=`` into a formula; a spreadsheet
program may also run text starting with ``+``, ``-``, ``@`` (or a tab or a
carriage return) as one.  A pupil's birth place ``=HYPERLINK(...)`` pointing at
the personal-ID column must come out as the text it is.  Every writer of
the addon sets its cells through :func:`put`: a string keeps its visible
text, typed as a string (``data_type`` "s"); numbers, dates and None are
written as they are.
"""

TEXT = "s"


def set_value(cell, value):
    """Give ``cell`` ``value``; a string is always text, never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = TEXT
    return cell


def put(ws, row, column, value=None):
    """The cell of ``ws`` at ``row``, ``column``, holding ``value`` (see :func:`set_value`)."""
    return set_value(ws.cell(row, column), value)


def put_row(ws, row, values):
    """Write ``values`` from column A of ``row``."""
    for column, value in enumerate(values, start=1):
        put(ws, row, column, value)
