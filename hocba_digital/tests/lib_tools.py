"""Helpers the tests of lib/ use to look at what lib/ produced: the rows of a
written workbook, cost totals, the words pdftotext finds in a signature box.

Not a test module (Odoo runs ``test_*`` modules only); no database here.
"""

import collections
import io

import openpyxl
from lxml import etree

from ..lib.documents.transcript_layout import SIGNATURE_FIELDS


def read_sheet(data, sheet_title):
    """The rows of one sheet of a written workbook as lists of values."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [list(row) for row in workbook[sheet_title[:31]].iter_rows(values_only=True)]


def totals_by(costs, *attributes):
    """{(value, ...): total amount} of ``costs`` grouped by ``attributes``
    (``year`` is the year of the cost's date)."""
    totals = collections.defaultdict(int)
    for cost in costs:
        key = tuple(cost.date.year if name == "year" else getattr(cost, name) for name in attributes)
        totals[key] += cost.amount
    return dict(totals)


def text_in_boxes(bbox_html, fields=None, page_height=842.0):
    """Words of ``pdftotext -bbox`` output lying in a field box of their page.

    Returns ``[(field name, word)]``; a field with ``"page": -1`` is on the
    last page of the output.
    """
    fields = SIGNATURE_FIELDS if fields is None else fields
    root = etree.fromstring(
        bbox_html.encode("utf-8") if isinstance(bbox_html, str) else bbox_html, etree.HTMLParser(encoding="utf-8")
    )
    pages = root.findall(".//page")
    hits = []
    for field in fields:
        page = pages[field.get("page", -1)]
        height = float(page.get("height") or page_height)
        x1, y1, x2, y2 = field["box"]
        for word in page.findall("word"):
            left, right = float(word.get("xmin")), float(word.get("xmax"))
            # pdftotext measures from the top
            bottom, top = height - float(word.get("ymax")), height - float(word.get("ymin"))
            if left < x2 and right > x1 and bottom < y2 and top > y1:
                hits.append((field["name"], word.text))
    return hits
