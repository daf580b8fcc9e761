"""One entry point to verify an issued transcript, PDF or XML.  No Odoo import here.

``verify_document(data, trusted_roots)`` tells PDF from XML by the bytes, gives
an error entry (never an exception) for anything else, truncated or hostile,
and returns a JSON-serialisable report: ``kind``, ``verdict``, ``verdict_text``,
``signatures`` (id, signer, tier, role, time, intact, chain_ok, revocation,
timestamp, covers, ok, errors, warnings), ``missing_tiers``, ``errors``,
``pupil_name``, ``school_year``, ``document_id``, ``version`` and, for a PDF,
``embedded_xml`` and ``unsigned_fields``.

PDF tiers come from the signature fields (``signing_chain.PDF_FIELDS``);
subject teachers sign the XML only.  The PDF embeds the XML as the homeroom
teacher signed it, so a tier counts as signed when the PDF or its embedded XML
holds it, and the embedded XML must be valid too.  Revocation is judged *at
signing time* by ``revocation(cert, issuer, when) -> "good" | "revoked" |
"unknown"`` (see ``crl_revocation``, ``ocsp_revocation``): signed after the
revocation fails, before stays good, "unknown" does not fail.  The pupil's
personal identification number is never read.
"""

import base64
import datetime
import logging
from io import BytesIO

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from lxml import etree

from ..documents import xml_profile
from . import chain as signing_chain
from . import pades, pades_verify, revocation_client, xades_verify

UTC = datetime.timezone.utc
DEFAULT_REQUIRED = (signing_chain.HOMEROOM, signing_chain.PRINCIPAL, signing_chain.SEAL)
MAX_PDF = 50 * 1024 * 1024
STATUSES = ("good", "revoked", "unknown")
_PDF_TIERS = {field: tier for tier, field in signing_chain.PDF_FIELDS.items()}
_DS = xades_verify.DS_NS
_logger = logging.getLogger(__name__)
# what parsing hostile bytes raises where no narrower check caught it first
_MALFORMED = pades_verify.PDF_VALIDATION_ERRORS + (etree.LxmlError, InvalidSignature, UnsupportedAlgorithm)


class _Refused(Exception):
    """Input that cannot be verified at all (the message goes to the report)."""


# ---------------------------------------------------------------------------
# revocation sources
# ---------------------------------------------------------------------------
def crl_revocation(*crls):
    """A revocation callable from CRLs (PEM or DER): only a CRL of the
    certificate's issuer, signed by ``issuer``, is believed (out of date or
    not: it still tells what was revoked before it was issued)."""
    loaded = [revocation_client.load_crl(c) for c in crls]

    def check(cert, issuer, when):
        for crl in loaded:
            outcome = revocation_client.status_from_crl(crl, cert, issuer, at=when, require_fresh=False)
            if outcome.conclusive:
                return outcome.status
        return "unknown"

    return check


class RevocationUnavailable(Exception):
    """The OCSP responder could not give a usable answer (reported as a warning)."""


# "unknown" for these is an answer; for the others the check itself failed
_QUIET_UNKNOWN = {"no_issuer", "no_source", "ocsp_refused", "ocsp_unknown"}


def ocsp_revocation(url=None, timeout=10):
    """A revocation callable asking an OCSP responder (``url``, default the
    certificate's AIA) through ``revocation_client``: nonce, serial and
    responder signature checked there."""

    def check(cert, issuer, when):
        with revocation_client.RevocationClient(timeout=timeout, retries=0, cache=None, ocsp_url=url) as client:
            outcome = client.check(cert, issuer, at=when, methods=("ocsp",))
        if outcome.status == "unknown" and outcome.reason not in _QUIET_UNKNOWN:
            raise RevocationUnavailable(
                "%s (%s)" % (revocation_client.REASONS[outcome.reason], outcome.detail or outcome.url)
            )
        return outcome.status

    return check


def _revocation_status(revocation, cert, issuer, when, errors, warnings):
    """Status at ``when``; a check that cannot be made is "unknown" (a warning,
    as without any revocation source), only "revoked" fails."""
    if revocation is None or cert is None:
        return "unknown"
    try:
        status = revocation(cert, issuer, when)
    except (RevocationUnavailable, requests.RequestException, OSError, ValueError) as exc:  # down, garbled
        warnings.append("revocation check failed: %s" % (exc or type(exc).__name__))
        return "unknown"
    except Exception as exc:  # noqa: BLE001 - a bug of the given check: seen, yet still a report
        _logger.exception("verification: the revocation check %r failed", revocation)
        warnings.append("revocation check failed: %s" % (exc or type(exc).__name__))
        return "unknown"
    if status not in STATUSES:
        warnings.append("revocation check answered %r" % (status,))
        return "unknown"
    if status == "revoked":
        errors.append("the certificate was revoked before the signing time")
    return status


def _issuer_of(cert, candidates):
    for candidate in candidates:
        if candidate.subject == cert.issuer:
            try:
                cert.verify_directly_issued_by(candidate)
                return candidate
            except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
                # not signed by this key, or a key of another type: keep looking
                continue
    return None


# ---------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------
def _roots(trusted_roots):
    if isinstance(trusted_roots, (bytes, str, x509.Certificate)) or hasattr(trusted_roots, "cert"):
        trusted_roots = [trusted_roots]
    return xades_verify.load_certs(trusted_roots)


def sniff(data):
    """ "pdf", "xml" or None, from the first bytes."""
    head = bytes(data[:1024])
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"%PDF-"):
        return "pdf"
    if stripped.startswith(b"<"):
        return "xml"
    return "pdf" if b"%PDF-" in head else None


def _check_input(data):
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise _Refused("expected the document as bytes, got %s" % type(data).__name__)
    if not data.strip():
        raise _Refused("the document is empty")
    kind = sniff(data)
    if kind is None:
        raise _Refused("this is neither a PDF nor an XML document")
    if kind == "pdf":
        if len(data) > MAX_PDF:
            raise _Refused("the PDF is too large (%d bytes)" % len(data))
        if b"%%EOF" not in data[-1024:]:
            raise _Refused("the PDF is truncated or incomplete (no %%EOF marker at its end)")
    return kind, data


# ---------------------------------------------------------------------------
# XML
# ---------------------------------------------------------------------------
def _key_info_certs(root, signature_id):
    found = root.xpath(
        "//ds:Signature[@Id=$i]/ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces={"ds": _DS}, i=signature_id
    )
    certs = []
    for node in found:
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode("".join((node.text or "").split()))))
        except ValueError:
            continue
    return certs


def _xml_checks(root, reports):
    """Structure rules the signatures alone do not enforce; {wrapper id: [errors]}."""
    ids = {}
    for node in root.xpath("//*[@Id]"):
        ids[node.get("Id")] = ids.get(node.get("Id"), 0) + 1
    data = next((c for c in root if isinstance(c.tag, str) and etree.QName(c).localname == "Data"), None)
    data_id = data.get("Id") if data is not None else signing_chain.DATA_ID
    in_data = {n.get("Id") for n in data.xpath("descendant-or-self::*[@Id]")} if data is not None else set()
    problems, earlier = {}, []
    for report in reports:
        errors = problems.setdefault(report.wrapper_id or report.signature_id, [])
        for ref in report.covers:
            if ids.get(ref, 0) != 1:
                errors.append(
                    "covers #%s, which is %s in the document" % (ref, "absent" if not ids.get(ref) else "ambiguous")
                )
        # the wrapper's tier attribute is not signed by its own signature: the
        # signed ClaimedRole must agree with it (as the signing service writes it)
        role = report.claimed_role or ""
        if role not in (report.tier, signing_chain.CLAIMED_ROLES.get(report.tier)) and not role.startswith(
            "%s:" % report.tier
        ):
            errors.append("its signed role %r does not match its tier %r" % (role, report.tier))
        if report.tier == signing_chain.SUBJECT:
            if not set(report.covers) & in_data:
                errors.append("a subject teacher's signature covers none of the transcript data")
        else:
            if data_id not in report.covers:
                errors.append("does not cover the transcript data (#%s)" % data_id)
            uncovered = [w for w in earlier if w not in report.covers]
            if uncovered:
                errors.append("does not cover the earlier signature(s) %s" % ", ".join(uncovered))
        if report.wrapper_id:
            earlier.append(report.wrapper_id)
    return problems


def _verify_xml(data, roots, required, revocation, at):
    result = _new_report("xml")
    try:
        root = xml_profile.safe_parse(data)
    except xml_profile.XmlProfileError as exc:
        raise _Refused(str(exc)) from None
    try:
        parsed = xml_profile.parse(data)
        header = parsed.get("header") or {}
        result.update(
            pupil_name=(parsed.get("pupil") or {}).get("full_name"),
            school_year=header.get("school_year"),
            document_id=header.get("document_id"),
            version=header.get("version"),
        )
    except (ValueError, TypeError) as exc:  # unknown profile, not a transcript (XmlProfileError)
        result["errors"].append("not a transcript XML: %s" % exc)
    reports = xades_verify.verify(root, roots, at=at)
    problems = _xml_checks(root, reports)
    for report in reports:
        errors = list(report.errors) + problems.get(report.wrapper_id or report.signature_id, [])
        warnings, issuer = [], None
        if report.certificate is not None:
            issuer = _issuer_of(report.certificate, _key_info_certs(root, report.signature_id) + roots)
        status = _revocation_status(
            revocation,
            report.certificate,
            issuer,
            report.signing_time or at or datetime.datetime.now(UTC),
            errors,
            warnings,
        )
        result["signatures"].append(
            {
                "id": report.wrapper_id or report.signature_id,
                "signer": report.signer_cn,
                "tier": report.tier,
                "role": report.claimed_role,
                "time": _iso(report.signing_time),
                "intact": report.intact,
                "chain_ok": report.chain_ok,
                "revocation": status,
                "timestamp": False,
                "covers": list(report.covers),
                "errors": [str(e) for e in errors],
                "warnings": warnings,
                "ok": bool(report.intact and report.chain_ok and status != "revoked" and not errors),
            }
        )
    tiers = {s["tier"] for s in result["signatures"]}
    result["missing_tiers"] = [t for t in _dedupe((signing_chain.SUBJECT,) + tuple(required)) if t not in tiers]
    return result


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------
def _pdf_certs(data):
    """{field name: (signer certificate, other embedded certificates)}."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    found = {}
    for emb in PdfFileReader(BytesIO(data), strict=False).embedded_signatures:
        if emb.sig_object_type == "/DocTimeStamp":
            continue
        load = x509.load_der_x509_certificate
        found[emb.field_name] = (load(emb.signer_cert.dump()), [load(c.dump()) for c in emb.other_embedded_certs])
    return found


def _verify_pdf(data, roots, required, revocation, at):

    result = _new_report("pdf")
    roots_pem = [c.public_bytes(serialization.Encoding.PEM) for c in roots]
    checked = pades_verify.verify(data, roots_pem) if roots_pem else None
    if checked is None:
        raise _Refused("no trusted root given")
    result["errors"] += [str(e) for e in checked["errors"]]
    result["unsigned_fields"] = list(checked["empty_fields"])
    if checked["modified_after_last_signature"]:
        result["errors"].append("the PDF was changed after its last signature")
    certs = {}
    if revocation is not None:
        try:
            certs = _pdf_certs(data)
        except pades_verify.PDF_READ_ERRORS as exc:
            result["errors"].append("cannot read the signers' certificates: %s" % exc)
    for sig in checked["signatures"]:
        errors = [] if sig.get("bottom_line") else [str(sig.get("error") or sig.get("summary") or "invalid")]
        warnings = []
        leaf, others = certs.get(sig["field"], (None, []))
        when = sig.get("signing_time") or at or datetime.datetime.now(UTC)
        status = _revocation_status(
            revocation, leaf, _issuer_of(leaf, others + roots) if leaf else None, when, errors, warnings
        )
        result["signatures"].append(
            {
                "id": sig["field"],
                "signer": sig.get("signer_cn"),
                "tier": _PDF_TIERS.get(sig["field"], ""),
                "role": None,
                "time": _iso(sig.get("signing_time")),
                "intact": bool(sig.get("intact")),
                "chain_ok": bool(sig.get("valid")),
                "revocation": status,
                "timestamp": bool(sig.get("timestamp")),
                "covers": [],
                "errors": errors,
                "warnings": warnings,
                "ok": bool(sig.get("bottom_line")) and status != "revoked",
            }
        )
    pdf_ok = bool(checked["verdict"])
    pdf_tiers = {s["tier"] for s in result["signatures"]}
    try:
        files = pades.attachments(data)
    except pades_verify.PDF_READ_ERRORS as exc:
        files = {}
        result["errors"].append("cannot read the embedded files: %s" % exc)
    xml_files = sorted(n for n, content in files.items() if sniff(content) == "xml")
    if len(xml_files) > 1:
        result["errors"].append("several XML files are embedded (%s): expected one" % ", ".join(xml_files))
    xml_tiers = set()
    if xml_files:
        embedded = _verify_any(files[xml_files[0]], roots, [t for t in required if t not in pdf_tiers], revocation, at)
        embedded["file"] = xml_files[0]
        result["embedded_xml"] = embedded
        xml_tiers = {s["tier"] for s in embedded["signatures"]}
        for key in ("pupil_name", "school_year", "document_id", "version"):
            result[key] = embedded.get(key)
        if not embedded["verdict"]:
            result["errors"].append("the embedded XML %s is not valid: %s" % (xml_files[0], embedded["verdict_text"]))
    wanted = ((signing_chain.SUBJECT,) if xml_files else ()) + tuple(required)
    result["missing_tiers"] = [t for t in _dedupe(wanted) if t not in pdf_tiers | xml_tiers]
    if not pdf_ok and not result["errors"] and all(s["ok"] for s in result["signatures"]):
        result["errors"].append("the PDF signatures do not hold")
    return result


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def _new_report(kind):
    return {
        "kind": kind,
        "verdict": False,
        "verdict_text": "",
        "signatures": [],
        "missing_tiers": [],
        "errors": [],
        "pupil_name": None,
        "school_year": None,
        "document_id": None,
        "version": None,
    }


def _iso(when):
    return when.isoformat() if isinstance(when, datetime.datetime) else None


def _dedupe(items):
    return list(dict.fromkeys(items))


def _conclude(result):
    sigs = result["signatures"]
    bad = [s for s in sigs if not s["ok"]]
    result["verdict"] = bool(
        result["kind"] and sigs and not bad and not result["missing_tiers"] and not result["errors"]
    )
    what = "PDF" if result["kind"] == "pdf" else "XML" if result["kind"] else "document"
    if result["verdict"]:
        extra = ""
        if result.get("embedded_xml"):
            extra = " and its embedded XML (%d)" % len(result["embedded_xml"]["signatures"])
        result["verdict_text"] = (
            "Valid: the %s's %d signature(s)%s are intact and trusted, and every "
            "required tier has signed." % (what, len(sigs), extra)
        )
        return result
    problems, by_reason = [], {}
    for sig in bad:
        reason = (
            "broken (the signed content changed)"
            if not sig["intact"]
            else "made after the certificate was revoked"
            if sig["revocation"] == "revoked"
            else "not trusted"
            if not sig["chain_ok"]
            else (sig["errors"] or ["invalid"])[0]
        )
        by_reason.setdefault(reason, []).append("%s (%s)" % (sig["id"], sig["signer"] or sig["tier"] or "?"))
    for reason, names in by_reason.items():
        problems.append("signature%s %s: %s" % ("s" if len(names) > 1 else "", ", ".join(names), reason))
    if result["missing_tiers"]:
        problems.append("missing tier(s): %s" % ", ".join(result["missing_tiers"]))
    if not sigs and result["kind"]:
        problems.append("the %s carries no signature" % what)
    problems += result["errors"][:2]
    result["verdict_text"] = "Not valid: %s." % "; ".join(problems or ["unknown reason"]).rstrip(".")
    return result


def _verify_any(data, roots, required, revocation, at):
    try:
        kind, data = _check_input(data)
        if not roots:
            raise _Refused("no trusted root given")
        verify = _verify_pdf if kind == "pdf" else _verify_xml
        result = verify(data, roots, tuple(required), revocation, at)
    except _Refused as exc:
        result = _new_report(None)
        result["errors"].append(str(exc))
    except _MALFORMED as exc:  # hostile or broken input must give a report, not a crash
        result = _new_report(None)
        result["errors"].append("the document could not be verified: %s: %s" % (type(exc).__name__, exc))
    except Exception as exc:  # noqa: BLE001 - a bug: logged with its traceback, still a report
        _logger.exception("verification: unexpected error verifying a %d-byte document", len(data or b""))
        result = _new_report(None)
        result["errors"].append("the document could not be verified: %s: %s" % (type(exc).__name__, exc))
    return _conclude(result)


def verify_document(data, trusted_roots, *, required_tiers=DEFAULT_REQUIRED, revocation=None, at=None):
    """Verify a transcript PDF or XML (see the module docstring); never raises
    for bad input.  ``trusted_roots``: certificates (objects, PEM/DER bytes,
    ``pki_factory.Issued``).  ``at``: validation time of the XML certificate
    chains (default now); PDF chains are checked as of now by pyHanko."""
    try:
        roots = _roots(trusted_roots)
    except (ValueError, TypeError) as exc:
        result = _new_report(None)
        result["errors"].append("unreadable trusted roots: %s" % exc)
        return _conclude(result)
    return _verify_any(data, roots, required_tiers, revocation, at)
