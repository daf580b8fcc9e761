"""The transcript as XML: versioned profiles (XSD + mapping), build, validate, parse.

No Odoo import here.  A *profile* is one XML format of the transcript: an XSD
file plus the mapping between the plain data below and the XML tree.  The
module ships its own profile ``hocba-transcript-1.0`` (namespace
``urn:hocba-digital:transcript:1.0``); the Ministry's official format
(Decision 3016/QĐ-BGDĐT, not public when this was written) can be installed
later as another profile without touching this code: see
``docs/xml-format.md``.

Data of one transcript (a plain ``dict``; optional keys may be missing or
``None``; every text is ``str``, kept exactly as given)::

    {
      "header": {
        "document_id": "9f0c…",          # UUID (lowercase text) of this issued version
        "version": 1,                    # 1, 2, … one per issued version
        "replaces": None,                # document_id of the superseded version
        "created": "2026-05-30T10:15:00+07:00",   # ISO 8601 with time zone
        "school": {"code": "79000001", "name": "…", "authority": "Sở GD&ĐT …"},
        "school_year": "2025-2026",
        "class_name": "4A",
        "grade": 4,                      # 1..5
      },
      "pupil": {
        "full_name", "sex" ("male"/"female"), "birth_date" ("YYYY-MM-DD"),
        "birth_place", "hometown", "address", "ethnicity",
        "nationality" (ISO 3166 alpha-2, "VN"), "personal_id" (12 digits),
        "moet_code", "school_code", "register_number",
        "father_name", "mother_name", "guardian_name",
      },
      "health": {"height_cm": "132.5", "weight_kg": "28.0"} or None,
      "attendance": {"excused": 2, "unexcused": 0},
      "subjects": [{"code": "TOAN", "name": "Toán", "kind": "subject",
                    "assessments": [{"period": "end_year", "level": "T",
                                     "score": 9, "comment": "…"}]}],
      "qualities": [{"code": "yeu_nuoc", "name": "Yêu nước",
                     "assessments": [{"period": "end_year", "level": "T", "comment": "…"}]}],
      "competencies": [{"code": "tu_chu", "name": "…", "kind": "general",
                        "assessments": [...]}],
      "result": {"computed": "HT", "override": None, "override_reason": None,
                 "final": "HT", "comment": "…"},
      "rewards": [{"kind": "excellent" | "exemplary" | "other", "text": "…"}],
      "completion": {"grade": True, "primary": False},
      "promotion": {"decision": "promote" | "repeat", "note": "…"} or None,
      "signatures": [{"id": "sig-1", "tier": "subject_teacher", "subject": "TOAN",
                      "content": b"<ds:Signature …>…</ds:Signature>"}],
    }

Lists are written in the order given (the caller sorts subjects by their row
order in the transcript, periods by ``catalogue.PERIODS``); numbers may be
given as ``int``/``float``/``Decimal``/``str`` and come back from
:func:`parse` as text (heights, weights) or ``int`` (scores, days, grade,
version).  ``build(parse(x)) == x`` for every ``x`` made by :func:`build`.
"""

import os
import pathlib
import re
import threading
from dataclasses import dataclass

from lxml import etree

DEFAULT_PROFILE = "hocba-transcript-1.0"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
# the XSDs ship in the addon's data/ folder, four levels above this module
PROFILES_DIR = str(pathlib.Path(__file__).resolve().parents[3] / "data" / "xml_profiles")
MAX_BYTES = 5 * 1024 * 1024  # a transcript is ~30 KB; refuse anything absurd


class XmlProfileError(ValueError):
    """The XML cannot be read at all (malformed, hostile, unknown profile)."""


@dataclass(frozen=True)
class XmlError:
    """One validation error: where (an element path) and why."""

    path: str
    reason: str

    def __str__(self):
        return "%s: %s" % (self.path, self.reason)


@dataclass(frozen=True)
class Profile:
    """An installed XML profile.

    ``build_tree(data) -> lxml root element`` and ``parse_tree(root) -> data``
    are the mapping; ``check(root) -> [XmlError]`` adds the rules an XSD 1.0
    cannot say (optional).
    """

    id: str
    version: str
    namespace: str
    xsd_path: str
    build_tree: object
    parse_tree: object
    check: object = None
    description: str = ""

    @property
    def key(self):
        return "%s-%s" % (self.id, self.version)


_REGISTRY = {}
_SCHEMAS = {}
_FAST = threading.local()
_LOCK = threading.Lock()


def register(profile):
    """Install ``profile`` (replaces one with the same id and version)."""
    if not os.path.isfile(profile.xsd_path):
        raise XmlProfileError("Profile %s: XSD file not found: %s" % (profile.key, profile.xsd_path))
    with _LOCK:
        _REGISTRY[profile.key] = profile
        _SCHEMAS.pop(profile.key, None)
    return profile


def get_profile(key=DEFAULT_PROFILE):
    try:
        return _REGISTRY[key]
    except KeyError:
        raise XmlProfileError(
            "Unknown XML profile %r; installed: %s" % (key, ", ".join(sorted(_REGISTRY)) or "none")
        ) from None


def profiles():
    """Keys of the installed profiles, sorted."""
    return sorted(_REGISTRY)


def profile_of(root):
    """The installed profile whose namespace is the one of ``root``."""
    namespace = etree.QName(root).namespace
    for key in sorted(_REGISTRY):
        if _REGISTRY[key].namespace == namespace:
            return _REGISTRY[key]
    raise XmlProfileError("No installed XML profile for namespace %r" % namespace)


def schema(key=DEFAULT_PROFILE):
    """The loaded ``xmlschema.XMLSchema`` of a profile (loaded once, ~0.5 s)."""
    import xmlschema  # imported late: only validation needs it

    profile = get_profile(key)
    with _LOCK:
        if key not in _SCHEMAS:
            _SCHEMAS[key] = xmlschema.XMLSchema(profile.xsd_path)
        return _SCHEMAS[key]


# ---------------------------------------------------------------------------
# Safe parsing


def safe_parser():
    """An lxml parser that resolves no entity, loads no DTD and reaches no network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


def safe_parse(xml_bytes):
    """Parse ``xml_bytes`` refusing DTDs and entities; return the root element.

    Raises :class:`XmlProfileError` with a clear message for hostile or
    malformed input; nothing is ever expanded or fetched.
    """
    if isinstance(xml_bytes, str):
        raise XmlProfileError("XML must be given as bytes (UTF-8), not text")
    if not isinstance(xml_bytes, (bytes, bytearray)):
        raise XmlProfileError("XML must be given as bytes")
    if len(xml_bytes) > MAX_BYTES:
        raise XmlProfileError("XML document too large (%d bytes, at most %d)" % (len(xml_bytes), MAX_BYTES))
    head = bytes(xml_bytes).replace(b"\x00", b"").upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise XmlProfileError(
            "XML refused: it contains a DTD or entity declaration (<!DOCTYPE>/<!ENTITY>), "
            "which transcripts never have; entities are not expanded and nothing is fetched"
        )
    try:
        root = etree.fromstring(bytes(xml_bytes), safe_parser())
    except etree.XMLSyntaxError as error:
        raise XmlProfileError("XML is not well-formed: %s" % error) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlProfileError("XML refused: it contains a DTD")
    for node in root.iter(etree.Entity):
        raise XmlProfileError("XML refused: it contains an entity reference &%s;" % node.name)
    return root


# ---------------------------------------------------------------------------
# Public API


def build(data, profile=DEFAULT_PROFILE):
    """The XML (UTF-8 bytes, with declaration) of ``data`` in ``profile``.

    Deterministic: the same data gives the same bytes.  The data is not
    validated here: call :func:`validate` on the result.
    """
    root = get_profile(profile).build_tree(data)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8") + b"\n"


def validate(xml_bytes, profile=None, within=None):
    """Errors of ``xml_bytes`` against a profile's XSD and rules, ``[]`` if valid.

    ``profile`` defaults to the one the document's namespace belongs to.
    ``within`` (an ``Id``) keeps only the errors inside that element: a subject
    teacher answers for their block while the rest is still being filled in.
    Hostile or unreadable input gives one error at path ``/``.

    libxml2 (lxml) decides, in well under a millisecond; xmlschema, a hundred
    times slower, is only asked to describe the errors it found.
    """
    try:
        root = safe_parse(xml_bytes)
        prof = get_profile(profile) if profile else profile_of(root)
    except XmlProfileError as error:
        return [XmlError("/", str(error))]
    if etree.QName(root).namespace != prof.namespace:
        return [
            XmlError(
                "/",
                "namespace %r is not the one of profile %s (%r)"
                % (etree.QName(root).namespace, prof.key, prof.namespace),
            )
        ]
    block = None
    if within is not None:
        found = root.xpath("//*[@Id=$i]", i=within)
        if not found:
            return [XmlError("/", "no element with Id %r" % within)]
        block = found[0]
    fast = _fast_schema(prof)
    errors = []
    if not fast.validate(root) and (
        block is None or _inside([entry.path for entry in fast.error_log], root.getroottree().getpath(block))
    ):
        for err in schema(prof.key).iter_errors(root):
            error = XmlError(*_describe(err))
            if error not in errors:  # a value breaking two facets is reported once
                errors.append(error)
    if not errors and prof.check:
        errors += prof.check(root)
    if block is not None:
        errors = [e for e in errors if _inside([e.path], _named_path(block))]
    return errors


def _fast_schema(profile):
    """The profile's XSD compiled by libxml2, one per thread (a validator keeps
    its error log, so it is not shared between threads)."""
    cache = _FAST.__dict__.setdefault("schemas", {})
    key = (profile.key, profile.xsd_path)  # a profile registered again is compiled again
    if key not in cache:
        import xmlschema

        # xmlschema checks ds:Signature against the XMLDSig schema it ships
        # (the profile's xs:any is lax); libxml2 must know that schema too
        dsig = os.path.join(os.path.dirname(xmlschema.__file__), "schemas", "DSIG", "xmldsig-core-schema.xsd")
        both = (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
            '<xs:import namespace="%s" schemaLocation="%s"/>'
            '<xs:import namespace="%s" schemaLocation="%s"/></xs:schema>'
        ) % (profile.namespace, pathlib.Path(profile.xsd_path).as_uri(), DSIG_NS, pathlib.Path(dsig).as_uri())
        cache[key] = etree.XMLSchema(etree.fromstring(both))
    return cache[key]


def _inside(paths, prefix):
    return any(p == prefix or p.startswith(prefix + "/") for p in paths)


def _named_path(element):
    """The path of ``element`` as xmlschema writes it in its errors, e.g.
    ``/HocBa/Data/Subjects/Subject[3]`` (an index only among same-named siblings)."""
    steps = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        same = parent.findall(element.tag) if parent is not None else [element]
        steps.append("%s[%d]" % (name, same.index(element) + 1) if len(same) > 1 else name)
        element = parent
    return "/" + "/".join(reversed(steps))


def parse(xml_bytes):
    """The plain data of a transcript XML (see the module docstring).

    Expects a valid document; raises :class:`XmlProfileError` if unreadable.
    """
    root = safe_parse(xml_bytes)
    return profile_of(root).parse_tree(root)


_ATTRIBUTE_REASON = re.compile(r"^attribute ([\w:{}/.#-]+)=(.*?): (.*)$", re.S)


def _describe(error):
    """(path, reason) of an xmlschema error, in plain words for the common facets.

    An attribute error gets the attribute in the path (``…/Signature[1]/@tier``).
    """
    path = (error.path or "/").replace("{%s}" % DSIG_NS, "ds:")
    reason = (error.reason or error.message or "invalid").replace("{%s}" % DSIG_NS, "ds:")
    reason = re.sub(r"\{[^}]*\}", "", reason)  # the profile's own namespace
    attribute = _ATTRIBUTE_REASON.match(reason)
    if attribute:
        path += "/@" + attribute.group(1)
        reason = attribute.group(3)
    validator = getattr(error, "validator", None)
    facet = type(validator).__name__ if validator is not None else ""
    if path.endswith("/Score"):
        reason = "value must be a whole number between 1 and 10 (got '%s')" % (error.obj,)
    elif facet == "XsdEnumerationFacets":
        reason = "value '%s' is not one of %s" % (error.obj, ", ".join(str(v) for v in validator.enumeration))
    elif facet == "XsdPatternFacets" and path.endswith("/PersonalId"):
        reason = "personal ID must be exactly 12 digits (got '%s')" % (error.obj,)
    return path, reason
