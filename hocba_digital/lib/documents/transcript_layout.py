"""Layout of the printed transcript (học bạ số PDF).  No Odoo import here.

The QWeb template ``hocba_digital.report_transcript_document`` prints one
transcript from the plain data of its XML (see :mod:`.xml_profile`).  This
module holds what the template needs besides the data: the Vietnamese wording
of the codes, the formatting of dates, which part goes on which page, and the
signature boxes the template leaves blank on the last page.

The printed transcript follows the paper form of Circular 27/2020 (Appendix 1),
so its text is Vietnamese whatever the user's language.
"""

import base64
import datetime
import math

# Pre-made PAdES fields (``pades.prepare``): PDF points from the bottom-left of
# the last page (A4, 595 x 842).  Measured on the rendered PDF with
# ``pdftotext -bbox`` on the corner markers the template prints in each box when
# a document asks for ``show_field_markers`` (the test re-measures them).  The
# boxes are 52 x 30 mm at fixed places of the last page, whatever the data.
SIGNATURE_FIELDS = [
    {"name": "sig_homeroom", "page": -1, "box": (62.4, 240.9, 209.8, 326.0)},
    {"name": "sig_principal", "page": -1, "box": (232.4, 240.9, 379.8, 326.0)},
    {"name": "sig_seal", "page": -1, "box": (402.5, 240.9, 549.9, 326.0), "lock": True},
]

# wkhtmltopdf built on an unpatched Qt (Debian's) ignores --dpi and
# --disable-smart-shrinking and prints 1 mm of CSS as 0.768 mm of paper; the
# template zooms by the inverse so that its mm are the paper's.  A build "with
# patched qt" prints CSS mm as paper mm and needs no zoom.
UNPATCHED_QT_ZOOM = 1.302


def css_zoom(wkhtmltopdf_version):
    """Zoom of the template for the output of ``wkhtmltopdf --version``."""
    return 1.0 if "patched qt" in (wkhtmltopdf_version or "").lower() else UNPATCHED_QT_ZOOM


# Which PAdES field each signature block of the template is, in print order.
BLOCKS = (
    ("homeroom_teacher", "sig_homeroom", "GIÁO VIÊN CHỦ NHIỆM", "(Ký, ghi rõ họ tên)"),
    ("principal", "sig_principal", "HIỆU TRƯỞNG", "(Ký, ghi rõ họ tên)"),
    ("seal", "sig_seal", "DẤU CỦA NHÀ TRƯỜNG", "(Chữ ký số của nhà trường)"),
)

RESULTS = {"HTXS": "Hoàn thành xuất sắc", "HTT": "Hoàn thành tốt", "HT": "Hoàn thành", "CHT": "Chưa hoàn thành"}
SEXES = {"male": "Nam", "female": "Nữ"}
NATIONALITIES = {"VN": "Việt Nam"}
REWARDS = {
    "excellent": "Học sinh Xuất sắc",
    "exemplary": "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện",
}
PROMOTIONS = {"promote": "Được lên lớp", "repeat": "Ở lại lớp"}

# Room for sections 4-6 above the "Xác nhận" block of the last page, and a
# cautious estimate of how much a text takes (11 pt serif on 180 mm).
_RESULTS_ROOM_MM = 140
_LINE_MM = 5.6
_HEADING_MM = 9
_CHARS_PER_LINE = 70

_DSIG = "{http://www.w3.org/2000/09/xmldsig#}"


def _moment(value):
    """A date / date-time from ISO text (or the object itself); None if unreadable."""
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def date_text(value):
    """``dd/mm/yyyy`` of an ISO date or date-time (text or object); '' if empty."""
    if not value:
        return ""
    moment = _moment(value)
    return moment.strftime("%d/%m/%Y") if moment else value


def datetime_text(value):
    """``dd/mm/yyyy HH:MM`` of an ISO date-time, as written (its own time zone)."""
    if not value:
        return ""
    moment = _moment(value)
    if moment is None:
        return value
    if not isinstance(moment, datetime.datetime):
        return date_text(moment)
    return moment.strftime("%d/%m/%Y %H:%M")


def _lines(text):
    return max(1, math.ceil(len(text or "") / _CHARS_PER_LINE))


def render_options(doc):
    """How to lay ``doc`` out: ``{"results_on_last_page": bool}``.

    Sections 4-6 normally stand on the last page above the signatures, as on
    the paper form; when they would not fit (long comments or many rewards)
    they close the year page instead, and the last page keeps the signatures
    only, so the signature boxes never move.
    """
    result = doc.get("result") or {}
    height = 3 * _HEADING_MM + _LINE_MM * (
        1
        + (_lines(result.get("comment")) if result.get("comment") else 0)
        + (_lines(result.get("override_reason")) if result.get("override") else 0)
        + sum(_lines(reward.get("text")) for reward in doc.get("rewards") or ())
        + 1
        + 2
        + (_lines((doc.get("promotion") or {}).get("note")) + 1 if doc.get("promotion") else 0)
    )
    return {"results_on_last_page": height <= _RESULTS_ROOM_MM}


def _end_of_year(item):
    for mark in item.get("assessments") or ():
        if mark.get("period") == "end_year":
            return mark
    return {}


def signer_name(content):
    """Common name of the signing certificate in a ``ds:Signature`` (bytes), or None."""
    if not content:
        return None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from .xml_profile import XmlProfileError, safe_parse

    try:
        root = safe_parse(content)
    except XmlProfileError:
        return None
    node = root.find(".//%sX509Certificate" % _DSIG)
    if node is None or not (node.text or "").strip():
        return None
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split())))
    except ValueError:
        return None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else None


def _subject_signers(doc, subjects):
    """[(subject name, signer name)] in row order: given names first, else the certificates'."""
    given = doc.get("subject_signers") or {}
    found = {}
    for signature in doc.get("signatures") or ():
        if signature.get("tier") == "subject_teacher" and signature.get("subject"):
            name = signer_name(signature.get("content"))
            if name:
                found.setdefault(signature["subject"], name)
    rows = []
    for subject in subjects:
        name = given.get(subject["code"]) or found.get(subject["code"])
        if name:
            rows.append((subject["name"], name))
    return rows


def _traits(items):
    rows = []
    for item in items or ():
        mark = _end_of_year(item)
        rows.append({"name": item.get("name"), "level": mark.get("level") or "", "comment": mark.get("comment") or ""})
    return rows


def prepare(doc):
    """What the template prints for one transcript, from its data ``doc``."""
    header = doc.get("header") or {}
    pupil = doc.get("pupil") or {}
    grade = header.get("grade")
    subjects = []
    for subject in doc.get("subjects") or ():
        mark = _end_of_year(subject)
        score = mark.get("score")
        subjects.append(
            {
                "code": subject.get("code"),
                "name": subject.get("name"),
                "level": mark.get("level") or "",
                "score": "" if score in (None, "") else str(score),
                "comment": mark.get("comment") or "",
            }
        )
    competencies = doc.get("competencies") or ()
    result = doc.get("result") or {}
    final = result.get("final")
    rewards = []
    for reward in doc.get("rewards") or ():
        label, text = REWARDS.get(reward.get("kind")), reward.get("text")
        rewards.append("%s: %s" % (label, text) if label and text else label or text or "")
    completion = doc.get("completion") or {}
    completes = []
    if completion.get("grade"):
        completes.append("Hoàn thành chương trình lớp %s." % (grade or ""))
    else:
        completes.append("Chưa hoàn thành chương trình lớp %s." % (grade or ""))
    if completion.get("primary"):
        completes.append("Hoàn thành chương trình tiểu học.")
    promotion = doc.get("promotion") or {}
    blocks = []
    given_blocks = doc.get("signature_blocks") or {}
    for key, field, title, hint in BLOCKS:
        given = given_blocks.get(key) or {}
        blocks.append(
            {
                "key": key,
                "field": field,
                "title": title,
                "hint": hint,
                "name": given.get("name") or "",
                "time": datetime_text(given.get("time")),
            }
        )
    school = header.get("school") or {}
    return {
        "header": header,
        "school": school,
        "pupil": pupil,
        "sex": SEXES.get(pupil.get("sex"), pupil.get("sex") or ""),
        "birth_date": date_text(pupil.get("birth_date")),
        "nationality": NATIONALITIES.get(pupil.get("nationality"), pupil.get("nationality") or ""),
        "health": doc.get("health") or {},
        "attendance": doc.get("attendance") or {},
        "subjects": subjects,
        "subject_signers": _subject_signers(doc, subjects),
        "qualities": _traits(doc.get("qualities")),
        "general": _traits([c for c in competencies if c.get("kind") == "general"]),
        "specific": _traits([c for c in competencies if c.get("kind") != "general"]),
        "result_text": RESULTS.get(final, final or ""),
        "result_code": final or "",
        "override": bool(result.get("override")),
        "computed_text": RESULTS.get(result.get("computed"), result.get("computed") or ""),
        "override_reason": result.get("override_reason") or "",
        "result_comment": result.get("comment") or "",
        "rewards": rewards,
        "completion": completes,
        "promotion": PROMOTIONS.get(promotion.get("decision"), promotion.get("decision") or ""),
        "promotion_note": promotion.get("note") or "",
        "blocks": blocks,
        "verify_url": doc.get("verify_url") or "",
        "created": datetime_text(header.get("created")),
        "options": render_options(doc),
        "markers": bool(doc.get("show_field_markers")),
    }
