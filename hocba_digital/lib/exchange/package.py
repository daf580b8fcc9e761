"""The package of one issued transcript version, as sent to the transcript store.
No Odoo import here.  The contract is ``docs/exchange.md``.

A package is a ZIP (stored, not compressed, so the same version always gives
the same bytes and a retry under the same idempotency key sends exactly what
the receiver may already hold) of three members:

* ``manifest.json``: what the receiver files the package under (school, year,
  class, pupil identifiers, document id, version, the version it replaces) and
  the SHA-256 and size of each file;
* ``transcript.xml``: the signed XML (XAdES), as issued;
* ``transcript.pdf``: the signed PDF (PAdES), as issued.

Input of :func:`build` and :func:`validate` (plain data)::

    {"xml": b"...", "pdf": b"...",                  # the issued files
     "document_id": "9f0c...", "version": 2,        # the version's identity
     "replaces": {"document_id": "...", "version": 1} or None,
     "issued_at": "2026-05-30T03:15:00Z",
     "xml_sha256": "...", "pdf_sha256": "..."}      # recorded at issue (optional)

The school, year, class and pupil identifiers are copied from the signed XML,
so the manifest can never disagree with the document it describes.  Only the
MOET code (mã định danh Bộ GD&ĐT) and the school's register code identify the
pupil; the personal identification number stays inside the signed XML, where
the store reads it if it must (see the contract).
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from ..documents import xml_profile
from ..signing import verification

FORMAT = "hocba-package/1"
MEDIA_TYPE = "application/zip"
MANIFEST = "manifest.json"
XML_NAME = "transcript.xml"
PDF_NAME = "transcript.pdf"
MEMBERS = {XML_NAME: "application/xml", PDF_NAME: "application/pdf"}
MAX_PACKAGE = 20 * 1024 * 1024
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the bytes depend on the content only
MAX_REASONS = 8


class PackageError(ValueError):
    """The package cannot be built or read; ``reasons`` says why."""

    def __init__(self, reasons):
        self.reasons = list(reasons) if isinstance(reasons, (list, tuple)) else [reasons]
        super().__init__("; ".join(self.reasons))


@dataclass(frozen=True)
class Package:
    body: bytes
    manifest: dict
    sha256: str

    @property
    def document_id(self):
        return self.manifest["document"]["id"]


def sha256(data):
    return hashlib.sha256(data or b"").hexdigest()


def idempotency_key(document_id):
    """The key a package is always sent under: one per issued version, derived
    from its document id so that a package made again has the same key."""
    return "hocba-%s" % document_id


# ---------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------
def _header(xml):
    try:
        parsed = xml_profile.parse(xml)
    except (ValueError, TypeError) as exc:  # XmlProfileError is a ValueError
        raise PackageError("the XML cannot be read: %s" % exc) from None
    return parsed.get("header") or {}, parsed.get("pupil") or {}


def manifest(data, header=None, pupil=None):
    """The manifest of ``data`` (see the module docstring)."""
    if header is None:
        header, pupil = _header(data["xml"])
    school = header.get("school") or {}
    replaces = data.get("replaces")
    files = [
        {"name": name, "media_type": MEMBERS[name], "size": len(content), "sha256": sha256(content)}
        for name, content in ((XML_NAME, data["xml"]), (PDF_NAME, data.get("pdf")))
        if content
    ]
    return {
        "format": FORMAT,
        "school": {"code": school.get("code"), "name": school.get("name"), "authority": school.get("authority")},
        "school_year": header.get("school_year"),
        "class_name": header.get("class_name"),
        "grade": header.get("grade"),
        "pupil": {"moet_code": pupil.get("moet_code"), "school_code": pupil.get("school_code")},
        "document": {
            "id": data["document_id"],
            "version": data["version"],
            "issued_at": data.get("issued_at"),
            "profile": xml_profile.DEFAULT_PROFILE,
            "replaces": {"id": replaces["document_id"], "version": replaces["version"]} if replaces else None,
        },
        "files": files,
    }


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def canonical_json(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def build(data):
    """The :class:`Package` of ``data``; the same data always gives the same bytes.
    Raises :class:`PackageError` when the XML cannot be read."""
    if not data.get("xml"):
        raise PackageError("the version has no signed XML")
    content = manifest(data)
    members = [(MANIFEST, canonical_json(content)), (XML_NAME, data["xml"])]
    if data.get("pdf"):
        members.append((PDF_NAME, data["pdf"]))
    body = _zip(members)
    return Package(body, content, sha256(body))


# ---------------------------------------------------------------------------
# checking before it leaves
# ---------------------------------------------------------------------------
def validate(data, trusted_roots, *, required_tiers=verification.DEFAULT_REQUIRED, at=None):
    """Why ``data`` must not be sent, ``[]`` when it may: both files present and
    as recorded at issue, the XML valid against its XSD and saying it is this
    version, a MOET code, and the XML and PDF signatures intact, trusted, with
    every required tier (``lib.verification.verify_document``)."""
    reasons = []
    xml, pdf = data.get("xml"), data.get("pdf")
    if not xml:
        return ["the version has no signed XML"]
    if not pdf:
        reasons.append("the version has no signed PDF")
    for name, content, recorded in ((XML_NAME, xml, data.get("xml_sha256")), (PDF_NAME, pdf, data.get("pdf_sha256"))):
        if content and recorded and sha256(content) != recorded:
            reasons.append("%s is not the file that was issued (its SHA-256 changed)" % name)
    errors = xml_profile.validate(xml)
    if errors:
        reasons.append("the XML does not follow its schema: %s" % "; ".join(str(e) for e in errors[:3]))
        return reasons[:MAX_REASONS]
    header, pupil = _header(xml)
    if header.get("document_id") != data["document_id"] or header.get("version") != data["version"]:
        reasons.append(
            "the XML is document %s version %s, not %s version %s"
            % (header.get("document_id"), header.get("version"), data["document_id"], data["version"])
        )
    replaces = (data.get("replaces") or {}).get("document_id")
    if (header.get("replaces") or None) != (replaces or None):
        reasons.append(
            "the XML replaces %s, the version record %s" % (header.get("replaces") or "nothing", replaces or "nothing")
        )
    if not (pupil.get("moet_code") or "").strip():
        reasons.append(
            "the signed transcript has no MOET code (mã định danh Bộ GD&ĐT), which "
            "the transcript store files pupils under: fill it on the pupil and issue "
            "a correction"
        )
    if not ((header.get("school") or {}).get("code") or "").strip():
        reasons.append("the signed transcript has no school code")
    for name, content in ((XML_NAME, xml), (PDF_NAME, pdf)):
        if not content:
            continue
        report = verification.verify_document(content, trusted_roots, required_tiers=required_tiers, at=at)
        if not report["verdict"]:
            reasons.append("%s: %s" % (name, report["verdict_text"]))
    return reasons[:MAX_REASONS]


# ---------------------------------------------------------------------------
# reading (the receiver's side)
# ---------------------------------------------------------------------------
REQUIRED = (("school", "code"), ("school_year",), ("pupil", "moet_code"), ("document", "id"), ("document", "version"))


def _get(mapping, path):
    for part in path:
        mapping = mapping.get(part) if isinstance(mapping, dict) else None
    return mapping


def read(body):
    """``(manifest, {name: bytes})`` of a package, or :class:`PackageError`
    listing every problem: not a ZIP, no or bad manifest, a member missing, extra
    or not matching its SHA-256, a required field empty."""
    if len(body) > MAX_PACKAGE:
        raise PackageError("the package is larger than %d bytes" % MAX_PACKAGE)
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        infos = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError):
        raise PackageError("the body is not a ZIP archive") from None
    if MANIFEST not in infos:
        raise PackageError("the package has no %s" % MANIFEST)
    if sum(info.file_size for info in infos.values()) > MAX_PACKAGE:
        raise PackageError("the package unpacks to more than %d bytes" % MAX_PACKAGE)
    try:
        content = json.loads(archive.read(MANIFEST))
    except ValueError:
        raise PackageError("%s is not JSON" % MANIFEST) from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise PackageError("%s is not a %s manifest" % (MANIFEST, FORMAT))
    problems = ["manifest: %s is missing" % ".".join(path) for path in REQUIRED if _get(content, path) in (None, "")]
    listed = {f.get("name"): f for f in content.get("files") or [] if isinstance(f, dict)}
    files = {}
    for name in MEMBERS:
        if name not in listed or name not in infos:
            problems.append("%s is missing" % name)
            continue
        files[name] = archive.read(name)
        if sha256(files[name]) != listed[name].get("sha256"):
            problems.append("%s does not match the SHA-256 of the manifest" % name)
    extra = set(infos) - set(MEMBERS) - {MANIFEST}
    if extra:
        problems.append("unexpected member(s): %s" % ", ".join(sorted(extra)))
    if problems:
        raise PackageError(problems)
    return content, files
