"""Transfer packages: a pupil's signed transcripts, moved from one school to another.
No Odoo import here.

A package is a ZIP file holding ``manifest.json`` and, unchanged, every signed
file of every issued (or superseded) version of the pupil's transcripts::

    manifest.json
    documents/<school year>/<document id>.xml    the signed XML (the legal record)
    documents/<school year>/<document id>.pdf    the signed PDF, when there is one

The manifest says what the package holds and what each file's SHA-256 is::

    {"format": "hocba-transfer-package", "format_version": 1,
     "created": "2026-06-20T09:00:00+07:00",
     "school": {"name", "code", "authority"},        # the sending school
     "pupil": {"full_name", "birth_date", "sex", "moet_code", "school_code"},
     "documents": [{"path", "kind": "xml" | "pdf", "sha256", "size",
                    "document_id", "version", "state": "issued" | "superseded",
                    "school_year", "class_name", "grade", "issued_at",
                    "replaces", "school": {"name", "code"}}]}

The pupil's personal identification number is not in the manifest: the
manifest is not signed, so it would only add one more unprotected copy of
it.  The signed XML carries it; the receiving school compares it with its own
record of the pupil (``inspect(..., expected_pupil=...)``) without printing it.

Nothing in the manifest is believed: ``inspect`` checks every hash, verifies
every file with the given ``verify`` callable (``verification.verify_document``
against the receiving school's trusted roots), checks that what the manifest
says matches what the signed XML says, and gives one verdict for the whole
package.  A package with any problem is refused as a whole.
"""

import datetime
import hashlib
import io
import json
import logging
import re
import unicodedata
import zipfile
import zlib

from . import xml_profile

_logger = logging.getLogger(__name__)
# what zipfile raises on a hostile archive: BadZipFile (and LargeZipFile), a bad
# deflate stream, a truncated member, an unsupported compression method
_UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    NotImplementedError,
    OSError,
)

FORMAT = "hocba-transfer-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("xml", "pdf")
STATES = ("issued", "superseded")
MAX_FILES = 400
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_MANIFEST_BYTES = 2 * 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_PATH = re.compile(r"^documents/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+\.(xml|pdf)$")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _safe(text):
    return _SAFE.sub("_", str(text or "")).strip("._") or "x"


def _zip_time(created):
    when = datetime.datetime.fromisoformat(created) if created else datetime.datetime(2000, 1, 1)
    return max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))


# ---------------------------------------------------------------------------
# build (sending school)
# ---------------------------------------------------------------------------
def build(school, pupil, documents, created=None):
    """The package (ZIP bytes) and its manifest (dict).

    ``school``: the sending school ``{"name", "code", "authority"}``;
    ``pupil``: ``{"full_name", "birth_date", "sex", "moet_code", "school_code"}``
    (anything else is left out); ``documents``: dicts with ``data`` (bytes,
    written unchanged), ``kind`` and the manifest keys listed in the module
    docstring (``school`` only when another school issued the document).
    """
    created = created or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    entries, files = [], []
    for doc in documents:
        data = doc["data"]
        if doc["kind"] not in KINDS:
            raise ValueError("unknown kind %r" % doc["kind"])
        path = "documents/%s/%s.%s" % (_safe(doc.get("school_year")), _safe(doc["document_id"]), doc["kind"])
        if any(e["path"] == path for e in entries):
            raise ValueError("two files would be %s" % path)
        entry = {"path": path, "kind": doc["kind"], "sha256": sha256(data), "size": len(data)}
        for key in ("document_id", "version", "state", "school_year", "class_name", "grade", "issued_at", "replaces"):
            entry[key] = doc.get(key)
        entry["school"] = doc.get("school") or {k: school.get(k) for k in ("name", "code")}
        entries.append(entry)
        files.append((path, data))
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": created,
        "school": {k: school.get(k) for k in ("name", "code", "authority")},
        "pupil": {k: pupil.get(k) for k in ("full_name", "birth_date", "sex", "moet_code", "school_code")},
        "documents": entries,
    }
    buffer = io.BytesIO()
    stamp = _zip_time(created)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo(MANIFEST, stamp),
            json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"),
            zipfile.ZIP_DEFLATED,
        )
        for path, data in files:
            archive.writestr(zipfile.ZipInfo(path, stamp), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue(), manifest


# ---------------------------------------------------------------------------
# read and inspect (receiving school)
# ---------------------------------------------------------------------------
class _Refused(Exception):
    """The package cannot be read at all."""


def read(data):
    """(manifest, {path: bytes}, errors): the package opened with limits on
    size and count, the manifest checked for shape; never raises."""
    try:
        return _read(data)
    except _Refused as exc:
        return None, {}, [str(exc)]
    except _UNREADABLE_ZIP as exc:  # hostile or broken input: a report, not a crash
        return None, {}, ["the package cannot be read: %s: %s" % (type(exc).__name__, exc)]
    except Exception as exc:  # noqa: BLE001 - a bug, but still a report, not a crash
        _logger.exception("transfer package: unexpected error reading a package")
        return None, {}, ["the package cannot be read: %s: %s" % (type(exc).__name__, exc)]


def _read(data):
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise _Refused("the package is empty")
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    except zipfile.BadZipFile:
        raise _Refused("the package is not a ZIP file") from None
    infos = archive.infolist()
    if len(infos) > MAX_FILES + 1:
        raise _Refused("the package holds too many files (%d)" % len(infos))
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise _Refused("the package is too large once unpacked")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise _Refused("the package holds the same file name twice")
    if MANIFEST not in names:
        raise _Refused("the package has no %s" % MANIFEST)
    errors, files = [], {}
    for info in infos:
        if info.flag_bits & 0x1:
            raise _Refused("the package holds an encrypted file (%s)" % info.filename)
        limit = MAX_MANIFEST_BYTES if info.filename == MANIFEST else MAX_FILE_BYTES
        if info.file_size > limit:
            raise _Refused("%s is too large" % info.filename)
        if info.filename != MANIFEST and not _PATH.match(info.filename):
            errors.append("unexpected file in the package: %s" % info.filename)
            continue
        with archive.open(info) as handle:
            content = handle.read(limit + 1)
        if len(content) > limit:
            raise _Refused("%s is too large" % info.filename)
        files[info.filename] = content
    try:
        manifest = json.loads(files.pop(MANIFEST).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused("the manifest is not valid JSON: %s" % exc) from None
    errors += _manifest_errors(manifest)
    return manifest, files, errors


def _manifest_errors(manifest):
    if not isinstance(manifest, dict):
        raise _Refused("the manifest is not a JSON object")
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _Refused("not a transfer package of format %s version %s" % (FORMAT, FORMAT_VERSION))
    documents = manifest.get("documents")
    if not isinstance(documents, list) or not documents:
        raise _Refused("the manifest lists no document")
    if not isinstance(manifest.get("school"), dict) or not isinstance(manifest.get("pupil"), dict):
        raise _Refused("the manifest does not name the school and the pupil")
    errors, seen = [], set()
    for index, entry in enumerate(documents, 1):
        if not isinstance(entry, dict):
            raise _Refused("document %d of the manifest is not an object" % index)
        path = entry.get("path")
        where = path or "document %d" % index
        if not isinstance(path, str) or not _PATH.match(path):
            errors.append("%s: not a valid file name in a package" % where)
        elif path in seen:
            errors.append("%s: listed twice in the manifest" % where)
        seen.add(path)
        if entry.get("kind") not in KINDS or (
            isinstance(path, str) and not path.endswith("." + str(entry.get("kind")))
        ):
            errors.append("%s: unknown or inconsistent kind %r" % (where, entry.get("kind")))
        if entry.get("state") not in STATES:
            errors.append("%s: state %r is neither issued nor superseded" % (where, entry.get("state")))
        if not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256") or "")):
            errors.append("%s: no SHA-256 in the manifest" % where)
        if not entry.get("document_id") or not isinstance(entry.get("version"), int):
            errors.append("%s: no document id or version number in the manifest" % where)
    return errors


def normalize_name(name):
    return " ".join(unicodedata.normalize("NFC", str(name or "")).casefold().split())


def inspect(data, verify, expected_pupil=None):
    """The report of a received package: ``verdict`` (True only when every
    check passed), ``errors`` (package-level), ``school`` and ``pupil`` (as
    the manifest says), ``sha256`` of the package, and ``documents``: per
    manifest entry its ``path``, ``kind``, ``sha256`` (expected), ``actual_sha256``,
    ``hash_ok``, ``verification`` (the ``verify`` report), the signed ``header``
    (from the XML), ``errors`` and ``ok``.

    ``verify(bytes) -> report`` is ``verification.verify_document`` bound to
    the receiving school's trusted roots.  ``expected_pupil``:
    ``{"full_name", "birth_date", "personal_id"}`` of the receiving school's
    pupil; each given value must equal the signed XML's (the personal ID is
    compared, never printed)."""
    manifest, files, errors = read(data)
    report = {
        "verdict": False,
        "errors": list(errors),
        "documents": [],
        "sha256": sha256(data) if isinstance(data, (bytes, bytearray)) else None,
        "school": (manifest or {}).get("school") or {},
        "pupil": (manifest or {}).get("pupil") or {},
        "created": (manifest or {}).get("created"),
    }
    if manifest is None:
        return report
    entries = [e for e in manifest["documents"] if isinstance(e, dict)]
    listed = {e.get("path") for e in entries}
    for path in sorted(set(files) - listed):
        report["errors"].append("%s is in the package but not in the manifest" % path)
    signed_by_id = {}
    for entry in entries:
        doc = _inspect_entry(entry, files.get(entry.get("path")), verify)
        report["documents"].append(doc)
        if doc["kind"] == "xml" and doc["header"]:
            signed_by_id[doc["header"].get("document_id")] = doc
    _cross_check(report, entries, signed_by_id, expected_pupil)
    report["verdict"] = not report["errors"] and all(d["ok"] for d in report["documents"])
    return report


def _inspect_entry(entry, content, verify):
    doc = {
        "path": entry.get("path"),
        "kind": entry.get("kind"),
        "sha256": entry.get("sha256"),
        "actual_sha256": None,
        "hash_ok": False,
        "verification": None,
        "header": None,
        "pupil": None,
        "errors": [],
        "ok": False,
        "manifest": {
            k: entry.get(k)
            for k in (
                "document_id",
                "version",
                "state",
                "school_year",
                "class_name",
                "grade",
                "issued_at",
                "replaces",
                "school",
            )
        },
    }
    if content is None:
        doc["errors"].append("the file is missing from the package")
        return doc
    doc["actual_sha256"] = sha256(content)
    doc["hash_ok"] = doc["actual_sha256"] == entry.get("sha256")
    if not doc["hash_ok"]:
        doc["errors"].append("its SHA-256 does not match the manifest")
    if entry.get("kind") == "xml":
        try:
            parsed = xml_profile.parse(content)
            doc["header"], doc["pupil"] = parsed.get("header") or {}, parsed.get("pupil") or {}
        except (ValueError, TypeError) as exc:  # XmlProfileError is a ValueError
            doc["errors"].append("not a transcript XML: %s" % exc)
    checked = verify(content)
    doc["verification"] = checked
    if not checked.get("verdict"):
        doc["errors"].append("its signatures do not verify: %s" % checked.get("verdict_text"))
    for key in ("document_id", "version", "school_year"):
        said, signed = entry.get(key), checked.get(key)
        if signed is not None and said != signed:
            doc["errors"].append(
                "the manifest says %s %r, the signed document %r" % (key.replace("_", " "), said, signed)
            )
    doc["ok"] = not doc["errors"]
    return doc


def _cross_check(report, entries, signed_by_id, expected_pupil):
    """Checks across files: every document has its signed XML, one pupil
    throughout, states agree with the signed ``Replaces`` links."""
    errors = report["errors"]
    replaced = {doc["header"].get("replaces") for doc in signed_by_id.values()} - {None, ""}
    names = {normalize_name(doc["pupil"].get("full_name")) for doc in signed_by_id.values()}
    if len(names) > 1:
        errors.append("the documents are about more than one pupil")
    said_name = normalize_name(report["pupil"].get("full_name"))
    if names and said_name not in names:
        errors.append("the manifest names another pupil than the signed documents")
    for entry, doc in zip(entries, report["documents"]):
        document_id = entry.get("document_id")
        if document_id not in signed_by_id:
            doc["errors"].append("the package has no signed XML of document %s" % document_id)
        elif entry.get("state") == "superseded" and document_id not in replaced:
            doc["errors"].append("said superseded, but no document in the package replaces it")
        elif entry.get("state") == "issued" and document_id in replaced:
            doc["errors"].append("said issued, but a newer document in the package replaces it")
        doc["ok"] = not doc["errors"]
    if expected_pupil:
        _check_pupil(errors, signed_by_id.values(), expected_pupil)


def _check_pupil(errors, signed, expected):
    for doc in signed:
        pupil = doc["pupil"]
        if expected.get("full_name") and normalize_name(pupil.get("full_name")) != normalize_name(
            expected["full_name"]
        ):
            errors.append("the documents are about %s, not %s" % (pupil.get("full_name"), expected["full_name"]))
        elif expected.get("birth_date") and pupil.get("birth_date") and pupil["birth_date"] != expected["birth_date"]:
            errors.append("the documents give another birth date than the pupil's record")
        elif (
            expected.get("personal_id") and pupil.get("personal_id") and pupil["personal_id"] != expected["personal_id"]
        ):
            errors.append("the documents give another personal ID than the pupil's record")
        else:
            continue
        return
