"""Profile ``hocba-transcript-1.0``: hocba_digital's own transcript XML.

The mapping between the plain data documented in :mod:`.xml_profile` and the
tree of ``data/xml_profiles/hocba-transcript-1.0.xsd``, plus the rules the XSD
cannot say.  Another profile (the Ministry's, once published) is another
module like this one, registered the same way.
"""

import copy
import os
from decimal import Decimal, InvalidOperation

from lxml import etree

from .registry import PROFILES_DIR, Profile, XmlError, XmlProfileError, register, safe_parse

# ---------------------------------------------------------------------------
# Profile hocba-transcript 1.0

NS_1_0 = "urn:hocba-digital:transcript:1.0"
PERIOD_ORDER = ("mid_term1", "end_term1", "mid_term2", "end_year")

_PUPIL_FIELDS = (
    ("FullName", "full_name"),
    ("Sex", "sex"),
    ("BirthDate", "birth_date"),
    ("BirthPlace", "birth_place"),
    ("Hometown", "hometown"),
    ("Address", "address"),
    ("Ethnicity", "ethnicity"),
    ("Nationality", "nationality"),
    ("PersonalId", "personal_id"),
    ("MoetCode", "moet_code"),
    ("SchoolPupilCode", "school_code"),
    ("RegisterNumber", "register_number"),
    ("FatherName", "father_name"),
    ("MotherName", "mother_name"),
    ("GuardianName", "guardian_name"),
)


def _q(tag):
    return "{%s}%s" % (NS_1_0, tag)


def _empty(value):
    return value is None or value is False or (isinstance(value, str) and value == "")


def _text(value):
    """Canonical text of a value: bool -> true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _decimal_text(value):
    """Height/weight as text with one decimal ('132.5', '28.0'); other text as is."""
    if isinstance(value, str):
        return value
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.1")))
    except InvalidOperation:
        return str(value)


def _sub(parent, tag, value=None, required=False, **attrs):
    """Append ``<tag>value</tag>``; skipped when the value is empty and not required."""
    if _empty(value) and not required:
        return None
    child = etree.SubElement(parent, _q(tag))
    for name in sorted(attrs):
        if not _empty(attrs[name]):
            child.set(name, _text(attrs[name]))
    if not _empty(value):
        child.text = _text(value)
    return child


def _build_1_0(data):
    get = data.get
    header = get("header") or {}
    nsmap = {None: NS_1_0}
    root = etree.Element(_q("HocBa"), nsmap=nsmap)
    body = etree.SubElement(root, _q("Data"))
    body.set("Id", "data")

    head = etree.SubElement(body, _q("Header"))
    _sub(head, "ProfileId", "hocba-transcript", True)
    _sub(head, "ProfileVersion", "1.0", True)
    _sub(head, "DocumentId", header.get("document_id"), True)
    _sub(head, "Version", header.get("version"), True)
    _sub(head, "Replaces", header.get("replaces"))
    _sub(head, "Created", header.get("created"), True)
    school = header.get("school") or {}
    school_el = _sub(head, "School", required=True)
    _sub(school_el, "Code", school.get("code"), True)
    _sub(school_el, "Name", school.get("name"), True)
    _sub(school_el, "Authority", school.get("authority"))
    _sub(head, "SchoolYear", header.get("school_year"), True)
    _sub(head, "Class", header.get("class_name"), True)
    _sub(head, "Grade", header.get("grade"), True)

    pupil = get("pupil") or {}
    pupil_el = _sub(body, "Pupil", required=True)
    for tag, key in _PUPIL_FIELDS:
        _sub(pupil_el, tag, pupil.get(key), tag in ("FullName", "Sex", "BirthDate"))

    # Odoo stores 0 for an empty float: 0 means "not measured"
    health = {key: value for key, value in (get("health") or {}).items() if not _empty(value) and value != 0}
    if health.get("height_cm") or health.get("weight_kg"):
        health_el = _sub(body, "Health", required=True)
        for key, tag in (("height_cm", "Height"), ("weight_kg", "Weight")):
            if key in health:
                _sub(health_el, tag, _decimal_text(health[key]))

    attendance = get("attendance") or {}
    attendance_el = _sub(body, "Attendance", required=True)
    _sub(attendance_el, "Excused", attendance.get("excused") or 0, True)
    _sub(attendance_el, "Unexcused", attendance.get("unexcused") or 0, True)

    subjects_el = _sub(body, "Subjects", required=True)
    for subject in get("subjects") or ():
        subject_el = etree.SubElement(subjects_el, _q("Subject"))
        subject_el.set("Id", "subject-%s" % subject.get("code"))
        subject_el.set("code", _text(subject.get("code")))
        subject_el.set("kind", _text(subject.get("kind") or "subject"))
        _sub(subject_el, "Name", subject.get("name"), True)
        for mark in subject.get("assessments") or ():
            mark_el = _sub(subject_el, "Assessment", required=True, period=mark.get("period"))
            _sub(mark_el, "Level", mark.get("level"), True)
            _sub(mark_el, "Score", mark.get("score"))
            _sub(mark_el, "Comment", mark.get("comment"))

    for group, tag, with_kind in (("qualities", "Quality", False), ("competencies", "Competency", True)):
        group_el = _sub(body, group.capitalize(), required=True)
        for trait in get(group) or ():
            attrs = {"code": trait.get("code")}
            if with_kind:
                attrs["kind"] = trait.get("kind")
            trait_el = _sub(group_el, tag, required=True, **attrs)
            _sub(trait_el, "Name", trait.get("name"), True)
            for mark in trait.get("assessments") or ():
                mark_el = _sub(trait_el, "Assessment", required=True, period=mark.get("period"))
                _sub(mark_el, "Level", mark.get("level"), True)
                _sub(mark_el, "Comment", mark.get("comment"))

    result = get("result") or {}
    result_el = _sub(body, "Result", required=True)
    _sub(result_el, "Computed", result.get("computed"))
    if not _empty(result.get("override")):
        _sub(result_el, "Override", result.get("override"), True)
        _sub(result_el, "OverrideReason", result.get("override_reason"), True)
    _sub(result_el, "Final", result.get("final"), True)
    _sub(result_el, "Comment", result.get("comment"))

    rewards_el = _sub(body, "Rewards", required=True)
    for reward in get("rewards") or ():
        _sub(rewards_el, "Reward", reward.get("text"), required=True, kind=reward.get("kind"))

    completion = get("completion") or {}
    completion_el = _sub(body, "Completion", required=True)
    _sub(completion_el, "Grade", "true" if completion.get("grade") else "false", True)
    _sub(completion_el, "Primary", "true" if completion.get("primary") else "false", True)

    promotion = get("promotion")
    if promotion and not _empty(promotion.get("decision")):
        promotion_el = _sub(body, "Promotion", required=True)
        _sub(promotion_el, "Decision", promotion.get("decision"), True)
        _sub(promotion_el, "Note", promotion.get("note"))

    # readable, and fixed: indentation is part of the signed bytes of Data
    etree.indent(body, space="  ", level=1)
    body.text = "\n    "
    body.tail = "\n  "
    root.text = "\n  "

    signatures_el = etree.SubElement(root, _q("Signatures"))
    signatures_el.tail = "\n"
    for signature in get("signatures") or ():
        # wrappers are appended as given: never re-indented, which would
        # change the bytes a ds:Signature covers
        wrapper = etree.SubElement(signatures_el, _q("Signature"))
        wrapper.set("Id", _text(signature.get("id")))
        wrapper.set("tier", _text(signature.get("tier")))
        if not _empty(signature.get("subject")):
            wrapper.set("subject", _text(signature.get("subject")))
        content = signature.get("content")
        if content:
            wrapper.append(safe_parse(content))
    return root


def _child_text(parent, tag):
    if parent is None:
        return None
    child = parent.find(_q(tag))
    if child is None:
        return None
    return child.text or ""


def _int(value):
    return None if value is None else int(value)


def _marks(element, with_score):
    marks = []
    for mark_el in element.findall(_q("Assessment")):
        mark = {"period": mark_el.get("period"), "level": _child_text(mark_el, "Level")}
        if with_score:
            mark["score"] = _int(_child_text(mark_el, "Score"))
        mark["comment"] = _child_text(mark_el, "Comment")
        marks.append(mark)
    return marks


def _parse_1_0(root):
    body = root.find(_q("Data"))
    if body is None:
        raise XmlProfileError("/HocBa: no Data element")
    head = body.find(_q("Header"))
    school_el = head.find(_q("School")) if head is not None else None
    data = {
        "header": {
            "document_id": _child_text(head, "DocumentId"),
            "version": _int(_child_text(head, "Version")),
            "replaces": _child_text(head, "Replaces"),
            "created": _child_text(head, "Created"),
            "school": {
                "code": _child_text(school_el, "Code"),
                "name": _child_text(school_el, "Name"),
                "authority": _child_text(school_el, "Authority"),
            },
            "school_year": _child_text(head, "SchoolYear"),
            "class_name": _child_text(head, "Class"),
            "grade": _int(_child_text(head, "Grade")),
        },
    }
    pupil_el = body.find(_q("Pupil"))
    data["pupil"] = {key: _child_text(pupil_el, tag) for tag, key in _PUPIL_FIELDS}
    health_el = body.find(_q("Health"))
    data["health"] = (
        None
        if health_el is None
        else {
            "height_cm": _child_text(health_el, "Height"),
            "weight_kg": _child_text(health_el, "Weight"),
        }
    )
    attendance_el = body.find(_q("Attendance"))
    data["attendance"] = {
        "excused": _int(_child_text(attendance_el, "Excused")),
        "unexcused": _int(_child_text(attendance_el, "Unexcused")),
    }
    data["subjects"] = [
        {
            "code": el.get("code"),
            "name": _child_text(el, "Name"),
            "kind": el.get("kind"),
            "assessments": _marks(el, True),
        }
        for el in body.iterfind("%s/%s" % (_q("Subjects"), _q("Subject")))
    ]
    data["qualities"] = [
        {"code": el.get("code"), "name": _child_text(el, "Name"), "assessments": _marks(el, False)}
        for el in body.iterfind("%s/%s" % (_q("Qualities"), _q("Quality")))
    ]
    data["competencies"] = [
        {
            "code": el.get("code"),
            "name": _child_text(el, "Name"),
            "kind": el.get("kind"),
            "assessments": _marks(el, False),
        }
        for el in body.iterfind("%s/%s" % (_q("Competencies"), _q("Competency")))
    ]
    result_el = body.find(_q("Result"))
    data["result"] = {
        key: _child_text(result_el, tag)
        for tag, key in (
            ("Computed", "computed"),
            ("Override", "override"),
            ("OverrideReason", "override_reason"),
            ("Final", "final"),
            ("Comment", "comment"),
        )
    }
    data["rewards"] = [
        {"kind": el.get("kind"), "text": el.text} for el in body.iterfind("%s/%s" % (_q("Rewards"), _q("Reward")))
    ]
    completion_el = body.find(_q("Completion"))
    data["completion"] = {
        "grade": _child_text(completion_el, "Grade") in ("true", "1"),
        "primary": _child_text(completion_el, "Primary") in ("true", "1"),
    }
    promotion_el = body.find(_q("Promotion"))
    data["promotion"] = (
        None
        if promotion_el is None
        else {
            "decision": _child_text(promotion_el, "Decision"),
            "note": _child_text(promotion_el, "Note"),
        }
    )
    signatures = []
    for wrapper in root.iterfind("%s/%s" % (_q("Signatures"), _q("Signature"))):
        inner = [child for child in wrapper if isinstance(child.tag, str)]
        signatures.append(
            {
                "id": wrapper.get("Id"),
                "tier": wrapper.get("tier"),
                "subject": wrapper.get("subject"),
                "content": _detached(inner[0]) if inner else None,
            }
        )
    data["signatures"] = signatures
    return data


def _detached(element):
    """Bytes of ``element`` alone, without the transcript's default namespace it inherits."""
    clone = copy.deepcopy(element)
    etree.cleanup_namespaces(clone, keep_ns_prefixes=[p for p in element.nsmap if p])
    return etree.tostring(clone, encoding="UTF-8", with_tail=False)


def _element_path(element):
    """``/HocBa/Data/Subjects/Subject[3]`` style path of ``element``."""
    steps = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == element.tag]
            if len(same) > 1:
                name += "[%d]" % (same.index(element) + 1)
        steps.append(name)
        element = parent
    return "/" + "/".join(reversed(steps))


def _check_1_0(root):
    """Rules of profile 1.0 that XSD 1.0 cannot express."""
    errors = []
    body = root.find(_q("Data"))
    for subject in body.iterfind("%s/%s" % (_q("Subjects"), _q("Subject"))):
        if subject.get("Id") != "subject-%s" % subject.get("code"):
            errors.append(XmlError(_element_path(subject), "Id must be 'subject-%s'" % subject.get("code")))
    for group, tag in (("Subjects", "Subject"), ("Qualities", "Quality"), ("Competencies", "Competency")):
        seen = set()
        for item in body.iterfind("%s/%s" % (_q(group), _q(tag))):
            if item.get("code") in seen:
                errors.append(XmlError(_element_path(item), "code %r appears twice" % item.get("code")))
            seen.add(item.get("code"))
            periods = [m.get("period") for m in item.findall(_q("Assessment"))]
            if periods != sorted(set(periods), key=PERIOD_ORDER.index):
                errors.append(
                    XmlError(
                        _element_path(item),
                        "assessments must be one per period, in the order %s" % ", ".join(PERIOD_ORDER),
                    )
                )
    result = body.find(_q("Result"))
    override = _child_text(result, "Override")
    expected = override or _child_text(result, "Computed")
    if expected and _child_text(result, "Final") != expected:
        errors.append(
            XmlError(
                _element_path(result.find(_q("Final"))),
                "must equal the override, or the computed result when there is no override (%s)" % expected,
            )
        )
    subject_codes = {s.get("code") for s in body.iterfind("%s/%s" % (_q("Subjects"), _q("Subject")))}
    for wrapper in root.iterfind("%s/%s" % (_q("Signatures"), _q("Signature"))):
        subject = wrapper.get("subject")
        if wrapper.get("tier") == "subject_teacher":
            if subject not in subject_codes:
                errors.append(
                    XmlError(
                        _element_path(wrapper),
                        "a subject teacher's signature names a subject of this transcript (subject=%r)" % subject,
                    )
                )
        elif subject:
            errors.append(XmlError(_element_path(wrapper), "only a subject teacher's signature names a subject"))
    return errors


register(
    Profile(
        id="hocba-transcript",
        version="1.0",
        namespace=NS_1_0,
        xsd_path=os.path.join(PROFILES_DIR, "hocba-transcript-1.0.xsd"),
        build_tree=_build_1_0,
        parse_tree=_parse_1_0,
        check=_check_1_0,
        description="hocba_digital's own transcript format (Circular 27/2020, Appendix 1); "
        "stands in for the Ministry's format of Decision 3016/QĐ-BGDĐT.",
    )
)
