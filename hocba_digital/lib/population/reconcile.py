"""Identity reconciliation with the national population database (CSDLQG về dân cư).

The school sends its pupil list (:func:`write_request`), the population
database answers with what it holds for each pupil (:func:`read_answer`), and
:func:`compare` says per pupil: matched, mismatched (which fields differ) or
not found.  The file layouts are in ``docs/reconciliation.md``.

Columns are found by their header text (case, accents, punctuation and spacing
do not matter), never by position.  A malformed answer raises one
:class:`AnswerFileError` naming the row and the column; nothing is returned
half read.  Pure Python (openpyxl), no Odoo.
"""

import csv
import datetime
import io
import unicodedata
import zipfile
from dataclasses import dataclass

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from ..rules import personal_id as pid
from ..workbooks.cells import put, put_row
from ..workbooks.results import cell_text, header_key
from ..workbooks.results import parse_date as parse_result_date

MATCHED, MISMATCHED, NOT_FOUND = "matched", "mismatched", "not_found"
FIELDS = ("name", "birth_date", "sex", "personal_id")  # compared, in this order
MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024
HEADER_SCAN_ROWS = 10

# Header texts written in the request (the school's list).
REQUEST_HEADERS = (
    ("stt", "STT"),
    ("ref", "Mã học sinh"),
    ("class_name", "Lớp"),
    ("name", "Họ và tên"),
    ("birth_date", "Ngày sinh"),
    ("sex", "Giới tính"),
    ("personal_id", "Số định danh cá nhân"),
    ("birth_place", "Nơi sinh"),
    ("hometown", "Quê quán"),
    ("ethnicity", "Dân tộc"),
)
POPULATION_SUFFIX = " (CSDLQG)"
# Header texts written in an answer (the request's identity columns echoed, then the
# population database's own values).
ANSWER_HEADERS = (
    ("stt", "STT"),
    ("ref", "Mã học sinh"),
    ("name", "Họ và tên"),
    ("birth_date", "Ngày sinh"),
    ("sex", "Giới tính"),
    ("personal_id", "Số định danh cá nhân"),
    ("status", "Kết quả đối soát"),
    ("pop_name", "Họ và tên" + POPULATION_SUFFIX),
    ("pop_birth_date", "Ngày sinh" + POPULATION_SUFFIX),
    ("pop_sex", "Giới tính" + POPULATION_SUFFIX),
    ("pop_personal_id", "Số định danh cá nhân" + POPULATION_SUFFIX),
    ("note", "Ghi chú"),
)
REQUIRED_ANSWER_COLUMNS = ("ref", "status", "pop_name", "pop_birth_date", "pop_sex", "pop_personal_id")
HEADER_TEXT = dict(ANSWER_HEADERS)

STATUS_FOUND, STATUS_NOT_FOUND = "Tìm thấy", "Không tìm thấy"
_STATUS_WORDS = {
    "tim thay": True,
    "da xac thuc": True,
    "sai thong tin": True,
    "co": True,
    "khong tim thay": False,
    "khong co": False,
    "khong co du lieu": False,
}
SEX_WORDS = {pid.MALE: "Nam", pid.FEMALE: "Nữ"}
_SEX_KEYS = {"nam": pid.MALE, "male": pid.MALE, "m": pid.MALE, "nu": pid.FEMALE, "female": pid.FEMALE, "f": pid.FEMALE}
# combining marks of the five Vietnamese tones (huyền, sắc, hỏi, ngã, nặng)
TONE_MARKS = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}


class AnswerFileError(Exception):
    """The answer file cannot be used.  ``reason`` is a code (see below); ``row``
    is the spreadsheet row (1-based, 0 for the whole file), ``column`` the column
    letter and ``header`` its header text when known, ``value`` the cell text,
    ``other_row`` the first row of a duplicate.

    Codes: ``too_large``, ``old_xls``, ``not_xlsx``, ``not_text``, ``no_header``,
    ``missing_column``, ``duplicate_column``, ``no_rows``, ``too_many_rows``,
    ``missing_ref``, ``unknown_status``, ``missing_value``, ``bad_birth_date``,
    ``bad_sex``, ``bad_personal_id``, ``duplicate_row``; callers add their own
    (``unknown_pupil``)."""

    def __init__(self, reason, row=0, column="", header="", value="", other_row=0):
        super().__init__("%s at row %s column %s (%s): %r" % (reason, row, column, header, value))
        self.reason, self.row, self.column, self.header = reason, row, column, header
        self.value, self.other_row = value, other_row


@dataclass(frozen=True)
class Identity:
    """What identifies a pupil: full name, birth date, sex (``pid.MALE`` /
    ``pid.FEMALE``) and the 12-digit personal ID (or None)."""

    name: str
    birth_date: datetime.date
    sex: str
    personal_id: str = None


@dataclass(frozen=True)
class AnswerRow:
    """One pupil of an answer: ``ref`` is the pupil code the school sent;
    ``found`` is None when the population database has no record, else its
    :class:`Identity`; ``columns`` maps field keys to column letters."""

    row: int
    ref: str
    found: Identity = None
    note: str = ""
    columns: dict = None


@dataclass(frozen=True)
class Difference:
    field: str
    ours: object
    theirs: object


@dataclass(frozen=True)
class Outcome:
    state: str
    differences: tuple = ()

    @property
    def fields(self):
        return tuple(d.field for d in self.differences)


# ---- Comparing ----


def name_key(name):
    """Comparable form of a Vietnamese full name.

    NFC, no case, single spaces, and the tone mark taken off the letter it sits
    on, so the old and new placements ("Hoà" / "Hòa", "Thuỷ" / "Thủy") compare
    equal; every other accent and the letter đ still count ("Anh" ≠ "Ánh").
    """
    words = []
    for word in unicodedata.normalize("NFC", name or "").casefold().split():
        decomposed = unicodedata.normalize("NFD", word)
        tones = "".join(ch for ch in decomposed if ch in TONE_MARKS)
        letters = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONE_MARKS))
        words.append(letters + ("/" + tones if tones else ""))
    return " ".join(words)


def clean_name(name):
    return " ".join(unicodedata.normalize("NFC", name or "").split())


def compare(ours, found):
    """The :class:`Outcome` of the school's :class:`Identity` against the
    population database's (``None``: not found)."""
    if found is None:
        return Outcome(NOT_FOUND)
    differences = []
    if name_key(ours.name) != name_key(found.name):
        differences.append(Difference("name", clean_name(ours.name), clean_name(found.name)))
    if ours.birth_date != found.birth_date:
        differences.append(Difference("birth_date", ours.birth_date, found.birth_date))
    if ours.sex != found.sex:
        differences.append(Difference("sex", ours.sex, found.sex))
    if pid.normalize(ours.personal_id) != pid.normalize(found.personal_id):
        differences.append(Difference("personal_id", pid.normalize(ours.personal_id), pid.normalize(found.personal_id)))
    return Outcome(MISMATCHED if differences else MATCHED, tuple(differences))


# ---- Cell values ----


def parse_date(value):
    """A date from a date cell or text in dd/mm/yyyy (also with - or .) or yyyy-mm-dd;
    ValueError otherwise (a bare number too: nothing says it is a date)."""
    return parse_result_date(value)


def parse_sex(value):
    sex = _SEX_KEYS.get(header_key(value))
    if sex is None:
        raise ValueError(value)
    return sex


def parse_personal_id(value):
    """12 digits, spaces and dots allowed.  A number cell lost its leading zero
    in a spreadsheet program: it is padded back to 12 digits."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 0 < value < 10**12:
            return "%012d" % int(value)
        raise ValueError(value)
    number = pid.normalize(cell_text(value))
    if not number or not number.isascii() or not number.isdigit() or len(number) != 12:
        raise ValueError(value)
    return number


# ---- Reading an answer ----


def _column_kind(key):
    """Which answer column a header key names, or None (ignored)."""
    population = "csdl" in key or "dan cu" in key
    if key in ("stt", "so tt", "tt"):
        return "stt"
    if key.startswith("ket qua"):
        return "status"
    if key.startswith("ghi chu"):
        return "note"
    if key in ("ma hoc sinh", "ma hs", "ma so hoc sinh") or (key.startswith("ma dinh danh") and "ca nhan" not in key):
        return "ref"
    field = None
    if key.startswith(("ho va ten", "ho ten")):
        field = "name"
    elif key.startswith("ngay sinh"):
        field = "birth_date"
    elif key.startswith("gioi tinh"):
        field = "sex"
    elif key.startswith(("so dinh danh", "ma dinh danh ca nhan", "so ddcn", "so cccd")):
        field = "personal_id"
    if field is None:
        return None
    return "pop_" + field if population else field


def _sheet_rows(file_bytes, filename):
    """The rows of the answer (lists of cell values).  Raises AnswerFileError
    for a file that is no spreadsheet at all."""
    if len(file_bytes) > MAX_BYTES:
        raise AnswerFileError("too_large")
    name = (filename or "").lower()
    if file_bytes[:4] == b"\xd0\xcf\x11\xe0":
        raise AnswerFileError("old_xls")
    if file_bytes[:2] == b"PK" or name.endswith((".xlsx", ".xlsm")):
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(file_bytes), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
            raise AnswerFileError("not_xlsx") from None
        try:
            sheet = _answer_sheet(workbook)
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
        return rows
    return _csv_rows(file_bytes)


def _answer_sheet(workbook):
    for sheet in workbook.worksheets:
        for cells in sheet.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True):
            kinds = {_column_kind(header_key(v)) for v in cells if v is not None}
            if "ref" in kinds and "status" in kinds:
                return sheet
    return workbook.worksheets[0]


def _csv_rows(file_bytes):
    if file_bytes.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = file_bytes.decode(encoding)
    except UnicodeDecodeError:
        raise AnswerFileError("not_text") from None
    if "\x00" in text:
        raise AnswerFileError("not_text")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _find_columns(rows):
    """``(header row index, {kind: column index})``."""
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        kinds = [_column_kind(header_key(v)) if v not in (None, "") else None for v in cells]
        if "ref" not in kinds or "status" not in kinds:
            continue
        columns = {}
        for col, kind in enumerate(kinds):
            if kind is None:
                continue
            if kind in columns:
                raise AnswerFileError("duplicate_column", index + 1, get_column_letter(col + 1), cell_text(cells[col]))
            columns[kind] = col
        for kind in REQUIRED_ANSWER_COLUMNS:
            if kind not in columns:
                raise AnswerFileError("missing_column", index + 1, "", HEADER_TEXT[kind])
        return index, columns
    raise AnswerFileError("no_header")


def read_answer(file_bytes, filename=None):
    """The :class:`AnswerRow` list of an answer file (xlsx, or CSV in UTF-8 / UTF-16
    with comma, semicolon or tab).  Raises :class:`AnswerFileError` at the first
    problem."""
    rows = _sheet_rows(file_bytes, filename)
    header_index, columns = _find_columns(rows)
    letters = {kind: get_column_letter(col + 1) for kind, col in columns.items()}
    answers, seen = [], {}
    for index in range(header_index + 1, len(rows)):
        cells = rows[index]
        values = {kind: cells[col] if col < len(cells) else None for kind, col in columns.items()}
        texts = {kind: cell_text(value) for kind, value in values.items()}
        number = index + 1
        if not any(texts[k] for k in texts if k != "stt"):
            continue  # an empty or footer row

        def fail(reason, kind, **kw):
            raise AnswerFileError(
                reason,
                number,
                letters.get(kind, ""),
                cell_text(rows[header_index][columns[kind]]) if kind in columns else HEADER_TEXT.get(kind, ""),
                texts.get(kind, ""),
                **kw,
            )

        ref = texts["ref"]
        if not ref:
            fail("missing_ref", "ref")
        if ref in seen:
            fail("duplicate_row", "ref", other_row=seen[ref])
        seen[ref] = number
        found = _STATUS_WORDS.get(header_key(texts["status"]))
        if found is None:
            fail("unknown_status", "status")
        identity = None
        if found:
            parsed = {}
            for field, parse in (
                ("name", clean_name),
                ("birth_date", parse_date),
                ("sex", parse_sex),
                ("personal_id", parse_personal_id),
            ):
                kind = "pop_" + field
                if not texts[kind]:
                    fail("missing_value", kind)
                try:
                    parsed[field] = parse(values[kind])
                except ValueError:
                    fail("bad_" + field, kind)
            identity = Identity(**parsed)
        answers.append(AnswerRow(number, ref, identity, texts.get("note", ""), letters))
        if len(answers) > MAX_ROWS:
            raise AnswerFileError("too_many_rows", number)
    if not answers:
        raise AnswerFileError("no_rows", header_index + 1)
    return answers


# ---- Writing ----


def _sheet(title, heading, subtitle, headers):
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = title
    put(ws, 1, 1, heading).font = Font(bold=True, size=13)
    put(ws, 2, 1, subtitle)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, text in enumerate(headers, start=1):
        cell = put(ws, 4, col, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = box
        ws.column_dimensions[get_column_letter(col)].width = max(8, min(30, len(text) + 4))
    ws.freeze_panes = "A5"
    return workbook, ws


def _save(workbook, ws):
    # identifiers and dates stay text, so no spreadsheet program drops a leading zero
    for row in ws.iter_rows(min_row=5):
        for cell in row:
            cell.number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _date_text(value):
    return value.strftime("%d/%m/%Y") if value else ""


def write_request(pupils, school_name="", school_code="", day=None):
    """The school's list for the population database, as xlsx bytes.

    ``pupils``: dicts with ``ref``, ``class_name``, ``name``, ``birth_date``,
    ``sex``, ``personal_id``, ``birth_place``, ``hometown``, ``ethnicity``.
    """
    subtitle = "%s%s — %s" % (
        school_name,
        " (%s)" % school_code if school_code else "",
        _date_text(day or datetime.date.today()),
    )
    workbook, ws = _sheet(
        "DoiSoat",
        "DANH SÁCH HỌC SINH ĐỐI SOÁT VỚI CSDL QUỐC GIA VỀ DÂN CƯ",
        subtitle,
        [text for _key, text in REQUEST_HEADERS],
    )
    for number, pupil in enumerate(pupils, start=1):
        values = dict(
            pupil, stt=number, birth_date=_date_text(pupil.get("birth_date")), sex=SEX_WORDS.get(pupil.get("sex"), "")
        )
        put_row(ws, 4 + number, [values.get(key) or "" for key, _header in REQUEST_HEADERS])
    return _save(workbook, ws)


def write_answer(results, source="CSDL quốc gia về dân cư"):
    """An answer file as the population database would send it, as xlsx bytes
    (used by the sandbox and the demo).  ``results``: ``(sent, found)`` pairs,
    ``sent`` a dict with ``ref`` and the :class:`Identity` fields the school
    sent, ``found`` an :class:`Identity` or None."""
    workbook, ws = _sheet(
        "KetQua", "KẾT QUẢ ĐỐI SOÁT THÔNG TIN HỌC SINH", source, [text for _key, text in ANSWER_HEADERS]
    )
    for number, (sent, found) in enumerate(results, start=1):
        row = [
            number,
            sent["ref"],
            sent.get("name") or "",
            _date_text(sent.get("birth_date")),
            SEX_WORDS.get(sent.get("sex"), ""),
            sent.get("personal_id") or "",
        ]
        if found is None:
            row += [STATUS_NOT_FOUND, "", "", "", "", ""]
        else:
            row += [STATUS_FOUND, found.name, _date_text(found.birth_date), SEX_WORDS[found.sex], found.personal_id, ""]
        put_row(ws, 4 + number, row)
    return _save(workbook, ws)
