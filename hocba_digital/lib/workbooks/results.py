"""Read and write the sector database's results workbook ("Kết quả học tập", C1, TT27).

The file imported on truong.csdl.moet.gov.vn for one class and one period:
three header rows, then one row per pupil::

    STT | Mã lớp | Mã học sinh | Họ tên | Ngày sinh | Môn học và hoạt động giáo dục ...
                                                  | Tiếng Việt                 | Đạo đức ...
                                                  | Mức đạt được | Điểm KTĐK   | Mức đạt được ...
    ... | Năng lực cốt lõi (chung, đặc thù) | Phẩm chất chủ yếu | Hoàn thành chương trình
    lớp học | Lên lớp | Xếp loại

Template versions add, drop and move columns, so columns are found by their
header text (case, spacing, accents and the i/y spelling variants do not
matter), never by position; unknown columns are ignored.

Pure Python (openpyxl), no Odoo: the ORM layer matches pupils, writes the
values and words the reason codes of :class:`CellError`.
"""

import datetime
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

import openpyxl
from openpyxl.utils import get_column_letter

from ..rules import assessment, catalogue

# Our subject codes -> header labels of the template (first = the one written).
SUBJECT_LABELS = {
    "TV": ("Tiếng Việt",),
    "TOAN": ("Toán",),
    "NN1": ("Ngoại ngữ", "Ngoại ngữ 1", "Tiếng Anh"),
    "LSDL": ("Lịch sử và Địa lí", "Lịch sử - Địa lí", "Lịch sử Địa lí"),
    "KH": ("Khoa học",),
    "TIN": ("TH-CN (Tin học)", "Tin học và Công nghệ (Tin học)", "Tin học"),
    "CNGHE": ("TH-CN (Công nghệ)", "Tin học và Công nghệ (Công nghệ)", "Công nghệ"),
    "DD": ("Đạo đức",),
    "TNXH": ("Tự nhiên và Xã hội",),
    "GDTC": ("Giáo dục thể chất",),
    "AN": ("Âm nhạc", "Nghệ thuật (Âm nhạc)"),
    "MT": ("Mĩ thuật", "Nghệ thuật (Mĩ thuật)"),
    "HDTN": ("Hoạt động trải nghiệm",),
    "TDT": ("Tiếng dân tộc", "Tiếng dân tộc thiểu số"),
}

# Codes of catalogue.TRAITS -> header labels of the template.
TRAIT_LABELS = {
    "yeu_nuoc": ("Yêu nước",),
    "nhan_ai": ("Nhân ái",),
    "cham_chi": ("Chăm chỉ",),
    "trung_thuc": ("Trung thực",),
    "trach_nhiem": ("Trách nhiệm",),
    "tu_chu": ("Tự chủ và tự học",),
    "giao_tiep": ("Giao tiếp và hợp tác",),
    "giai_quyet": ("Giải quyết vấn đề và sáng tạo",),
    "ngon_ngu": ("Ngôn ngữ",),
    "tinh_toan": ("Tính toán",),
    "khoa_hoc": ("Khoa học",),
    "cong_nghe": ("Công nghệ",),
    "tin_hoc": ("Tin học",),
    "tham_mi": ("Thẩm mĩ",),
    "the_chat": ("Thể chất",),
}
assert set(TRAIT_LABELS) == {code for code, *_rest in catalogue.TRAITS}

HEADER_SCAN_ROWS = 15

# Header texts written by write_ministry_results.
H_STT, H_CLASS, H_CODE, H_NAME, H_BIRTH = "STT", "Mã lớp", "Mã học sinh", "Họ tên", "Ngày sinh"
H_SUBJECTS = "Môn học và hoạt động giáo dục"
H_LEVEL, H_SCORE = "Mức đạt được", "Điểm KTĐK"
H_COMPETENCIES, H_GENERAL, H_SPECIFIC = "Năng lực cốt lõi", "Năng lực chung", "Năng lực đặc thù"
H_QUALITIES = "Phẩm chất chủ yếu"
H_COMPLETES, H_PROMOTED, H_RESULT = "Hoàn thành chương trình lớp học", "Lên lớp", "Xếp loại"

# Level codes, with the words a teacher may type instead.
SUBJECT_LEVEL_WORDS = {"t": "T", "h": "H", "c": "C", "hoàn thành tốt": "T", "hoàn thành": "H", "chưa hoàn thành": "C"}
TRAIT_LEVEL_WORDS = {"t": "T", "đ": "Đ", "d": "Đ", "c": "C", "tốt": "T", "đạt": "Đ", "cần cố gắng": "C"}
RESULT_WORDS = {
    "htxs": "HTXS",
    "htt": "HTT",
    "ht": "HT",
    "cht": "CHT",
    "hoàn thành xuất sắc": "HTXS",
    "hoàn thành tốt": "HTT",
    "hoàn thành": "HT",
    "chưa hoàn thành": "CHT",
}
MARK_WORDS = {"x": True, "có": True, "1": True}

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class CellError:
    """One bad cell (or row, or file when ``row``/``column`` are empty).

    ``reason`` is a code: ``not_xlsx``, ``no_header``, ``duplicate_column``,
    ``unknown_level``, ``unknown_result``, ``bad_mark``, ``bad_date``,
    ``no_pupil``, or a code of :func:`assessment.score_problem`.  Callers add
    their own codes (unknown pupil, refusals...) and may put a worded
    explanation in ``detail``.
    """

    sheet: str
    row: int
    column: str
    value: object
    reason: str
    detail: str = ""


@dataclass
class ResultRow:
    """One pupil line of the workbook, values already checked and canonical.

    ``subjects``: subject code -> (level or None, score text or None);
    ``traits``: trait code -> level or None; an empty or bad cell gives None.
    ``columns`` maps ``"code"``, ``"class_code"``, ``"name"``, ``"birth_date"``,
    ``("subject", code, "level"|"score")`` and ``("trait", code)`` to the
    column letter, so a caller can point at the cell it refuses.
    """

    sheet: str
    row: int
    codes: tuple = ()
    class_code: str = None
    name: str = None
    birth_date: datetime.date = None
    subjects: dict = field(default_factory=dict)
    traits: dict = field(default_factory=dict)
    completes: bool = None
    promoted: bool = None
    result: str = None
    columns: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False)  # key of columns -> cell text


# ---- Header text ----

_TOKEN = re.compile(r"[a-z0-9]+")
_SPELLING = {"my": "mi", "ly": "li", "ki": "ky"}


def header_key(text):
    """Comparable form of a header: no case, accents, punctuation or extra spaces.

    'TH - CN (Tin học)' and 'th-cn (tin hoc)' give 'th cn tin hoc'; 'Mỹ thuật'
    and 'Mĩ thuật' give 'mi thuat'.
    """
    if text is None:
        return ""
    text = str(text).replace("&", " và ").casefold().replace("đ", "d")
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(_SPELLING.get(token, token) for token in _TOKEN.findall(text))


def _labels(names):
    """{header key: code} from a mapping code -> label or labels."""
    keys = {}
    for code, labels in names.items():
        for label in (labels,) if isinstance(labels, str) else labels:
            keys.setdefault(header_key(label), code)
    return keys


def _identity(key):
    """Which identity column a header key names, or None."""
    if key in ("stt", "so tt", "tt"):
        return "stt"
    if key.startswith("ma lop"):
        return "class_code"
    if key.startswith("ma dinh danh") and "ca nhan" not in key:
        return "code"
    if key in ("ma hoc sinh", "ma hs", "ma so hoc sinh"):
        return "code"
    if key.startswith(("ho ten", "ho va ten")):
        return "name"
    if key in ("ngay sinh", "ngay thang nam sinh"):
        return "birth_date"
    if key.startswith("hoan thanh chuong trinh"):
        return "completes"
    if key == "len lop":
        return "promoted"
    if key.startswith("xep loai"):
        return "result"
    return None


def _is_score_header(key):
    return key.startswith("diem")


def _is_level_header(key):
    return key.startswith("muc dat") or key == "muc"


def _is_trait_context(key):
    return key.startswith(("nang luc", "pham chat"))


def _is_subject_context(key):
    return _is_level_header(key) or _is_score_header(key) or key.startswith("mon hoc")


# ---- Reading ----


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.strftime("%d/%m/%Y")
    return unicodedata.normalize("NFC", str(value)).strip()


def _header_grid(ws, first, last):
    """{(row, col): text} of the header block, merged values copied to every cell."""
    grid = {}
    for row in ws.iter_rows(min_row=first, max_row=last):
        for cell in row:
            if cell.value is not None and str(cell.value).strip():
                grid[(cell.row, cell.column)] = str(cell.value)
    for merged in ws.merged_cells.ranges:
        if merged.max_row < first or merged.min_row > last:
            continue
        value = ws.cell(merged.min_row, merged.min_col).value
        if value is None:
            continue
        for r in range(max(merged.min_row, first), min(merged.max_row, last) + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[(r, c)] = str(value)
    return grid


def _find_header(ws):
    """Row number of the header row (it names the pupil and the pupil code), or None."""
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, HEADER_SCAN_ROWS)):
        kinds = {_identity(header_key(cell.value)) for cell in row if cell.value is not None}
        if "name" in kinds and "code" in kinds:
            return row[0].row
    return None


def _header_end(ws, first, known):
    """Last header row: the bottom of the cells merged down from the header row,
    then any following row with header words and no pupil (a sub-header row)."""
    last = first
    for merged in ws.merged_cells.ranges:
        if merged.min_row == first:
            last = max(last, merged.max_row)
    pupil_cols = [c.column for c in ws[first] if _identity(header_key(c.value)) in ("name", "code")]
    while last < first + 4 and last < ws.max_row:
        cells = ws[last + 1]
        if any(cells[c - 1].value not in (None, "") for c in pupil_cols if c <= len(cells)):
            break  # a pupil: the data starts here
        texts = [header_key(c.value) for c in cells if c.value is not None]
        if not any(
            k in known or _is_level_header(k) or _is_score_header(k) or _is_trait_context(k) or _is_subject_context(k)
            for k in texts
        ):
            break
        last += 1
    return last


def _column_map(ws, first, last, subject_keys, trait_keys, errors):
    """{key: column number} (key as in ``ResultRow.columns``) from the header block."""
    grid = _header_grid(ws, first, last)
    columns = {}
    for col in sorted({c for _r, c in grid}):
        path = []
        for r in range(first, last + 1):
            key = header_key(grid.get((r, col)))
            if key and key not in path:
                path.append(key)
        key = None
        identities = [i for i in map(_identity, path) if i]
        subject_codes = [subject_keys[k] for k in path if k in subject_keys]
        trait_codes = [trait_keys[k] for k in path if k in trait_keys]
        trait_context = any(map(_is_trait_context, path))
        subject_context = any(map(_is_subject_context, path))
        if identities:
            key = identities[-1]
        elif subject_codes and (not trait_codes or (subject_context and not trait_context)):
            kind = "score" if any(map(_is_score_header, path)) else "level"
            key = ("subject", subject_codes[-1], kind)
        elif trait_codes and (not subject_codes or trait_context):
            key = ("trait", trait_codes[-1])
        if key is None:
            continue  # a column this importer does not know: ignored
        if key == "code" and "code" in columns:
            key = ("code", col)  # both "Mã học sinh" and "Mã định danh": keep both
        if key in columns:
            errors.append(
                CellError(
                    ws.title,
                    last,
                    get_column_letter(col),
                    grid.get((last, col)) or grid.get((first, col)),
                    "duplicate_column",
                )
            )
            continue
        columns[key] = col
    return columns


def parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _level(value, words):
    text = cell_text(value)
    return words.get(text.casefold()) if text else None


def read_ministry_results(file_bytes, subject_names=None, trait_names=None):
    """Read a results workbook.

    ``subject_names``/``trait_names``: our code -> header label(s); default
    :data:`SUBJECT_LABELS` and :data:`TRAIT_LABELS`.  Every sheet with a
    header row is read.  Returns ``(rows, errors)``: a list of
    :class:`ResultRow` (empty and bad cells give None values) and a list of
    :class:`CellError`, one per bad cell.  Whether a pupil exists is the
    caller's business.
    """
    subject_keys = _labels(subject_names or SUBJECT_LABELS)
    trait_keys = _labels(trait_names or TRAIT_LABELS)
    known = set(subject_keys) | set(trait_keys)
    errors, rows = [], []
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(file_bytes), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        return [], [CellError("", 0, "", "", "not_xlsx")]
    found = False
    for ws in workbook.worksheets:
        first = _find_header(ws)
        if first is None:
            continue
        found = True
        last = _header_end(ws, first, known)
        columns = _column_map(ws, first, last, subject_keys, trait_keys, errors)
        letters = {key: get_column_letter(col) for key, col in columns.items()}
        for cells in ws.iter_rows(min_row=last + 1, max_row=ws.max_row):
            values = {key: cells[col - 1].value if col - 1 < len(cells) else None for key, col in columns.items()}
            row = _read_row(ws.title, cells[0].row, values, letters, errors)
            if row is not None:
                rows.append(row)
    if not found:
        errors.append(CellError("", 0, "", "", "no_header"))
    return rows, errors


def _read_row(sheet, number, values, letters, errors):
    """One ResultRow, or None for an empty or footer row."""

    def error(key, reason):
        errors.append(CellError(sheet, number, letters[key], cell_text(values[key]), reason))

    row = ResultRow(sheet, number, columns=letters, raw={key: cell_text(value) for key, value in values.items()})
    row.codes = tuple(
        row.raw[k] for k in values if (k == "code" or (isinstance(k, tuple) and k[0] == "code")) and row.raw[k]
    )
    row.name = " ".join(row.raw.get("name", "").split()) or None
    row.class_code = row.raw.get("class_code") or None
    marks = [
        k
        for k in values
        if isinstance(k, tuple) and k[0] in ("subject", "trait") or k in ("completes", "promoted", "result")
    ]
    if not row.codes and not row.name:
        if any(row.raw[k] for k in marks):
            key = "name" if "name" in letters else "code"
            errors.append(CellError(sheet, number, letters.get(key, ""), "", "no_pupil"))
        return None

    if row.raw.get("birth_date"):
        try:
            row.birth_date = parse_date(values["birth_date"])
        except ValueError:
            error("birth_date", "bad_date")
    for key, value in values.items():
        if not isinstance(key, tuple) or key[0] not in ("subject", "trait"):
            continue
        text = row.raw[key]
        if key[0] == "trait":
            level = _level(value, TRAIT_LEVEL_WORDS)
            if text and not level:
                error(key, "unknown_level")
            row.traits[key[1]] = level
            continue
        level, score = row.subjects.get(key[1], (None, None))
        if key[2] == "level":
            level = _level(value, SUBJECT_LEVEL_WORDS)
            if text and not level:
                error(key, "unknown_level")
        else:
            problem = assessment.score_problem(value.strip() if isinstance(value, str) else value)
            if problem:
                error(key, problem)
            else:
                score = assessment.normalize_score(value)
        row.subjects[key[1]] = (level, score)
    for key, attr in (("completes", "completes"), ("promoted", "promoted")):
        if key in values:
            text = row.raw[key]
            if text and text.casefold() not in MARK_WORDS:
                error(key, "bad_mark")
            setattr(row, attr, bool(text) and text.casefold() in MARK_WORDS)
    if row.raw.get("result"):
        row.result = RESULT_WORDS.get(row.raw["result"].casefold())
        if not row.result:
            error("result", "unknown_result")
    return row
