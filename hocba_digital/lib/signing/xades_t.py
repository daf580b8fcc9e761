"""XAdES-T: RFC 3161 signature time-stamps on the tier signatures of :mod:`.xades`.

No Odoo import here.

``add_signature_timestamp`` asks a TSA for a token over the canonical
``ds:SignatureValue`` of one ``ds:Signature`` (ETSI EN 319 132-1, 5.3
SignatureTimeStamp) and stores it as an *unsigned* property::

    <xades:QualifyingProperties Target="#sig-1-ds">
      <xades:SignedProperties Id="...">...</xades:SignedProperties>
      <xades:UnsignedProperties>
        <xades:UnsignedSignatureProperties>
          <xades:SignatureTimeStamp Id="sig-1-ds-ts">
            <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
            <xades:EncapsulatedTimeStamp>(base64 DER TimeStampToken)</xades:EncapsulatedTimeStamp>
          ...

Nothing the signature signs changes (its references cover SignedProperties and
KeyInfo, not the QualifyingProperties), so its own verification still passes.
But a *later* tier covers the whole wrapper: time-stamp a signature before the
next tier signs over it (a signature already covered by another one is refused).

``signature_timestamps`` checks every such token: imprint = hash of the
canonical SignatureValue, CMS signature, TSA certificate (time-stamping EKU)
chaining to the given roots (pyHanko's token validation, no network fetching).
"""

import hashlib
import os
from base64 import b64decode, b64encode

import requests
from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.util import ds_tag, xades_tag

from .aio import run_sync
from .xades import EXC_C14N, NSMAP, parse_xml
from .xades_verify import load_certs

# what asn1crypto raises reading hostile DER: ValueError (binascii.Error too) for
# bytes that do not parse, TypeError / KeyError for a structure of another type
ASN1_ERRORS = (ValueError, TypeError, KeyError)

EXC_C14N_URI = EXC_C14N.value
C14N_URI = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"  # XMLDSig default
_C14N = {  # algorithm URI -> (exclusive, with_comments)
    EXC_C14N_URI: (True, False),
    EXC_C14N_URI + "WithComments": (True, True),
    C14N_URI: (False, False),
    C14N_URI + "#WithComments": (False, True),
}
_TS_PATH = (
    "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/"
    "xades:UnsignedSignatureProperties/xades:SignatureTimeStamp"
)


class XadesTimestampError(Exception):
    """A signature time-stamp could not be obtained."""


class TsaUnreachable(XadesTimestampError):
    """No answer from the TSA (connection refused / dropped, timeout)."""


class TsaRefused(XadesTimestampError):
    """The TSA answered with an HTTP error or a PKIStatus other than granted."""


class TsaBadAnswer(XadesTimestampError):
    """The TSA's answer is unreadable or does not match the request (nonce, imprint)."""


class _TimeStampResp(core.Sequence):
    # asn1crypto's TimeStampResp requires the token, which a refusal lacks
    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def _signature(root, signature_id):
    found = root.xpath("//ds:Signature[@Id=$i]", namespaces=NSMAP, i=signature_id)
    if len(found) != 1:
        raise ValueError("expected one ds:Signature with Id %r, found %d" % (signature_id, len(found)))
    return found[0]


def _signature_value_c14n(signature, algorithm=EXC_C14N_URI):
    if algorithm not in _C14N:
        raise ValueError("unsupported canonicalization %s" % algorithm)
    value = signature.find("ds:SignatureValue", namespaces=NSMAP)
    if value is None:
        raise ValueError("the ds:Signature has no SignatureValue")
    exclusive, comments = _C14N[algorithm]
    return etree.tostring(value, method="c14n", exclusive=exclusive, with_comments=comments)


def _covering_signatures(root, signature):
    """Ids of other ds:Signatures whose references include ``signature``'s
    QualifyingProperties (adding an unsigned property would break them)."""
    props = signature.find("ds:Object/xades:QualifyingProperties", namespaces=NSMAP)
    holders = {node.get("Id") for node in [props, *props.iterancestors()] if node.get("Id")}
    covering = []
    for other in root.iter(ds_tag("Signature")):
        if other is signature:
            continue
        for uri in other.xpath("ds:SignedInfo/ds:Reference/@URI", namespaces=NSMAP):
            if uri == "" or (uri.startswith("#") and uri[1:] in holders):
                covering.append(other.get("Id") or "?")
                break
    return covering


def request_token(data, timestamper_url, *, timeout=20, session=None):
    """RFC 3161 token (asn1crypto ``cms.ContentInfo``) over SHA-256(``data``)."""
    digest = hashlib.sha256(data).digest()
    nonce = int.from_bytes(os.urandom(8), "big")
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()
    try:
        answer = (session or requests).post(
            timestamper_url, data=query, timeout=timeout, headers={"Content-Type": "application/timestamp-query"}
        )
    except requests.RequestException as exc:
        raise TsaUnreachable("TSA %s unreachable: %s" % (timestamper_url, exc)) from exc
    if answer.status_code != 200:
        raise TsaRefused("TSA %s answered HTTP %d: %s" % (timestamper_url, answer.status_code, answer.text[:200]))
    try:
        response = _TimeStampResp.load(answer.content)
        status = response["status"]["status"].native
        texts = response["status"]["status_string"].native or []
        fail_info = sorted(response["status"]["fail_info"].native or ())
    except ASN1_ERRORS as exc:
        raise TsaBadAnswer("TSA %s answered something that is not a TimeStampResp" % timestamper_url) from exc
    if status not in ("granted", "granted_with_mods"):
        raise TsaRefused(
            "TSA %s refused the request (%s %s): %s" % (timestamper_url, status, ", ".join(fail_info), "; ".join(texts))
        )
    try:
        token = response["time_stamp_token"]
        info = token["content"]["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]
        got = (imprint["hash_algorithm"]["algorithm"].native, imprint["hashed_message"].native, info["nonce"].native)
    except ASN1_ERRORS as exc:
        raise TsaBadAnswer("TSA %s answered an unreadable time-stamp token" % timestamper_url) from exc
    if got[2] != nonce:
        raise TsaBadAnswer("TSA %s answered with nonce %r instead of %r" % (timestamper_url, got[2], nonce))
    if got[:2] != ("sha256", digest):
        raise TsaBadAnswer("TSA %s time-stamped another message imprint" % timestamper_url)
    return token


def add_signature_timestamp(xml_bytes, signature_id, timestamper_url, *, timeout=20, session=None):
    """Add a XAdES SignatureTimeStamp to the ds:Signature ``signature_id``; return the new document.

    Raises ``XadesTimestampError`` (``TsaUnreachable`` / ``TsaRefused`` /
    ``TsaBadAnswer``) when the TSA fails, ``ValueError`` when the signature
    is missing, has no QualifyingProperties, or is already covered by another
    signature (time-stamp before the next tier signs).
    """
    root = parse_xml(xml_bytes)
    signature = _signature(root, signature_id)
    props = signature.find("ds:Object/xades:QualifyingProperties", namespaces=NSMAP)
    if props is None:
        raise ValueError("ds:Signature %r has no xades:QualifyingProperties" % signature_id)
    covering = _covering_signatures(root, signature)
    if covering:
        raise ValueError(
            "ds:Signature %r is already covered by %s: adding a time-stamp would break it"
            % (signature_id, ", ".join(covering))
        )
    token = request_token(_signature_value_c14n(signature), timestamper_url, timeout=timeout, session=session)

    unsigned = props.find("xades:UnsignedProperties", namespaces=NSMAP)
    if unsigned is None:
        unsigned = etree.SubElement(props, xades_tag("UnsignedProperties"))
    usp = unsigned.find("xades:UnsignedSignatureProperties", namespaces=NSMAP)
    if usp is None:
        usp = etree.SubElement(unsigned, xades_tag("UnsignedSignatureProperties"))
    ts_id, n = "%s-ts" % signature_id, 1
    while root.xpath("//*[@Id=$i]", i=ts_id):
        n += 1
        ts_id = "%s-ts-%d" % (signature_id, n)
    stamp = etree.SubElement(usp, xades_tag("SignatureTimeStamp"), Id=ts_id)
    etree.SubElement(stamp, ds_tag("CanonicalizationMethod"), Algorithm=EXC_C14N_URI)
    etree.SubElement(stamp, xades_tag("EncapsulatedTimeStamp")).text = b64encode(token.dump()).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _roots(trusted_tsa_roots):
    """asn1crypto certificates from what ``xades_verify.verify`` accepts as roots."""
    return [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in load_certs(trusted_tsa_roots)]


def _check_token(stamp, signature, roots, at):
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.errors import PathError, ValidationError

    result = {"time": None, "ok": False, "errors": []}
    method = stamp.find("ds:CanonicalizationMethod", namespaces=NSMAP)
    algorithm = method.get("Algorithm") if method is not None else C14N_URI
    try:
        signed = _signature_value_c14n(signature, algorithm)
        text = "".join((stamp.findtext("xades:EncapsulatedTimeStamp", namespaces=NSMAP) or "").split())
        token = cms.ContentInfo.load(b64decode(text, validate=True))
        signed_data = token["content"]
        info = signed_data["encap_content_info"]["content"].parsed
        result["time"] = info["gen_time"].native
        imprint_alg = info["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint = info["message_imprint"]["hashed_message"].native
    except ASN1_ERRORS + (etree.LxmlError,) as exc:  # unreadable base64 / DER / unsupported c14n
        result["errors"].append("unreadable time-stamp: %s: %s" % (type(exc).__name__, exc))
        return result
    if imprint_alg not in ("sha256", "sha384", "sha512"):
        result["errors"].append("unsupported imprint hash %s" % imprint_alg)
        return result
    if hashlib.new(imprint_alg, signed).digest() != imprint:
        result["errors"].append("message imprint does not match this SignatureValue")
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=at)
    try:
        kwargs = run_sync(validate_tst_signed_data(signed_data, context, lambda alg: hashlib.new(alg, signed).digest()))
        status = TimestampSignatureStatus(**kwargs)
    except ASN1_ERRORS + (ValidationError, PathError) as exc:  # SignatureValidationError is a ValueError
        result["errors"].append("time-stamp token: %s: %s" % (type(exc).__name__, exc))
        return result
    if not status.intact and not result["errors"]:
        result["errors"].append("the token's content does not match the digest its TSA signed")
    elif not status.valid:
        result["errors"].append("the TSA's CMS signature is not valid")
    elif status.intact and (status.trust_problem_indic is not None or status.validation_path is None):
        result["errors"].append("TSA certificate not trusted (%s)" % (status.trust_problem_indic or "no path"))
    result["ok"] = not result["errors"] and status.trusted
    return result


def signature_timestamps(xml_bytes, trusted_tsa_roots, *, at=None):
    """{ds:Signature Id: {"time", "ok", "errors", "count"}} for each signature with a SignatureTimeStamp.

    ``trusted_tsa_roots``: certificates (cryptography objects, PEM/DER bytes,
    or ``pki_factory.Issued``).  ``at``: time at which the TSA certificate must
    be valid (default now).  With several time-stamps on one signature, ``ok``
    needs all of them, ``time`` is the earliest.
    """
    root = parse_xml(xml_bytes)
    roots = _roots(trusted_tsa_roots)
    results = {}
    for signature in root.iter(ds_tag("Signature")):
        stamps = signature.xpath(_TS_PATH, namespaces=NSMAP)
        if not stamps:
            continue
        checks = [_check_token(stamp, signature, roots, at) for stamp in stamps]
        times = [c["time"] for c in checks if c["time"] is not None]
        results[signature.get("Id") or ""] = {
            "time": min(times) if times else None,
            "ok": bool(roots) and all(c["ok"] for c in checks),
            "errors": [e for c in checks for e in c["errors"]] + ([] if roots else ["no trusted TSA root given"]),
            "count": len(checks),
        }
    return results
