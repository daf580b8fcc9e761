"""Verification of the transcript PDF's PAdES signatures.  No Odoo import here.

``verify(pdf_bytes, trusted_roots_pem)`` returns::

    {"verdict": bool, "signatures": [report, ...], "timestamps": [...],
     "empty_fields": [...], "modified_after_last_signature": bool,
     "updates_after_last_signature": bool, "errors": [...]}

Each ``report`` holds: ``field``, ``signer_cn``, ``signing_time`` (from the
timestamp token when there is one, else what the signer claims), ``intact``,
``valid`` (signature value correct *and* chain to a trusted root),
``trusted``, ``coverage``, ``modification_level``, ``timestamp`` (present),
``timestamp_ok``, ``docmdp_level``, ``fieldmdp`` (a FieldMDP lock is in
force), ``docmdp_ok`` (the later changes respect DocMDP / the field lock),
``bottom_line`` (pyHanko's overall judgment) and ``summary``.

The verdict is True only when there is at least one signature, every
signature's ``bottom_line`` holds, and nothing but signatures, form filling
or DSS / document-timestamp data changed after the last signature: pyHanko
reports an overlay drawn in a later update with ``valid=True`` and only
``bottom_line=False`` for the earlier signatures, and the content after the
*last* signature is not covered by any signature at all.
"""

from io import BytesIO

from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as hk_fields
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathError, ValidationError

from .aio import run_sync

# what may change after the last signature without making the document suspicious
_ACCEPTABLE_LATER = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)


def _roots(trusted_roots_pem):
    if isinstance(trusted_roots_pem, (bytes, str)):
        trusted_roots_pem = [trusted_roots_pem]
    roots = []
    for pem in trusted_roots_pem:
        if isinstance(pem, str):
            pem = pem.encode()
        roots.extend(load_certs_from_pemder_data(pem))
    return roots


# what pyHanko (and asn1crypto under it) raise on a hostile or broken PDF: its own
# PdfError (PdfReadError, PdfStrictReadError), ValueError (SignatureValidationError
# too), and TypeError / KeyError / IndexError from objects of the wrong type or missing
PDF_READ_ERRORS = (PdfError, ValueError, TypeError, KeyError, IndexError)
# ... and, validating a signature, the certificate path errors of pyhanko_certvalidator
PDF_VALIDATION_ERRORS = PDF_READ_ERRORS + (ValidationError, PathError)


def _context(roots, allow_fetching):
    return ValidationContext(trust_roots=roots, allow_fetching=allow_fetching, revocation_mode="soft-fail")


def _cn(cert):
    if cert is None:
        return None
    try:
        return cert.subject.native.get("common_name")
    except (ValueError, TypeError):  # pragma: no cover - exotic names asn1crypto cannot decode
        return None


def _name(value):
    return getattr(value, "name", None) if value is not None else None


def _report(emb, status):
    ts = status.timestamp_validity
    return {
        "field": emb.field_name,
        "signer_cn": _cn(status.signing_cert),
        "signing_time": ts.timestamp if ts else status.signer_reported_dt,
        "intact": bool(status.intact),
        "valid": bool(status.valid and status.trusted),
        "trusted": bool(status.trusted),
        "coverage": _name(status.coverage),
        "modification_level": _name(status.modification_level),
        "timestamp": ts is not None,
        "timestamp_ok": bool(ts and ts.intact and ts.valid and ts.trusted) if ts else None,
        "docmdp_level": _name(emb.docmdp_level),
        "fieldmdp": emb.fieldmdp is not None,
        "docmdp_ok": status.docmdp_ok,
        "bottom_line": bool(status.bottom_line),
        "summary": status.summary(),
    }


async def async_verify(pdf_bytes, trusted_roots_pem, *, allow_fetching=False, tsa_roots_pem=None):
    """See the module docstring."""
    roots = _roots(trusted_roots_pem)
    ts_roots = _roots(tsa_roots_pem) if tsa_roots_pem else roots
    result = {
        "verdict": False,
        "signatures": [],
        "timestamps": [],
        "empty_fields": [],
        "modified_after_last_signature": False,
        "updates_after_last_signature": False,
        "errors": [],
    }
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        result["empty_fields"] = [name for name, _v, _r in hk_fields.enumerate_sig_fields(reader, filled_status=False)]
        embedded = list(reader.embedded_signatures)
    except PDF_READ_ERRORS as exc:  # unreadable / broken file
        result["errors"].append("unreadable PDF: %s" % exc)
        return result
    last_regular = None
    for emb in embedded:
        try:
            if emb.sig_object_type == "/DocTimeStamp":
                status = await async_validate_pdf_timestamp(emb, validation_context=_context(ts_roots, allow_fetching))
                result["timestamps"].append(
                    {
                        "field": emb.field_name,
                        "time": status.timestamp,
                        "intact": bool(status.intact),
                        "valid": bool(status.valid and status.trusted),
                        "modification_level": _name(status.modification_level),
                        "bottom_line": bool(status.bottom_line),
                    }
                )
                continue
            status = await async_validate_pdf_signature(
                emb,
                signer_validation_context=_context(roots, allow_fetching),
                ts_validation_context=_context(ts_roots, allow_fetching),
            )
        except PDF_VALIDATION_ERRORS as exc:  # a broken signature must not break the report
            result["errors"].append("%s: %s" % (emb.field_name, exc))
            result["signatures"].append(
                {"field": emb.field_name, "bottom_line": False, "intact": False, "valid": False, "error": str(exc)}
            )
            continue
        result["signatures"].append(_report(emb, status))
        last_regular = status
    if last_regular is not None:
        later = last_regular.coverage != SignatureCoverageLevel.ENTIRE_FILE
        level = last_regular.modification_level
        result["updates_after_last_signature"] = later
        result["modified_after_last_signature"] = later and level not in _ACCEPTABLE_LATER
    result["verdict"] = bool(
        result["signatures"]
        and not result["errors"]
        and all(s["bottom_line"] for s in result["signatures"])
        and all(t["bottom_line"] for t in result["timestamps"])
        and not result["modified_after_last_signature"]
    )
    return result


def verify(pdf_bytes, trusted_roots_pem, *, allow_fetching=False, tsa_roots_pem=None):
    """Synchronous ``async_verify``."""
    return run_sync(
        async_verify(pdf_bytes, trusted_roots_pem, allow_fetching=allow_fetching, tsa_roots_pem=tsa_roots_pem)
    )
