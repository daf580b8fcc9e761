"""Verification of the tier signatures made by :mod:`.xades` (no Odoo import).

Each ``ds:Signature`` is checked on its own (signxml takes the first signature
it finds, so every wrapper is selected by its Id), then its certificate chain
and validity dates are checked against the trusted roots.
"""

import datetime
from base64 import b64decode
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.algorithms import DigestAlgorithm
from signxml.exceptions import SignXMLException
from signxml.util import add_pem_header, ds_tag
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from .xades import DS_NS, NSMAP, SIGNED_PROPERTIES_TYPE, UTC, parse_xml


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------
@dataclass
class SignatureReport:
    signature_id: str  # the ds:Signature Id
    wrapper_id: str = ""
    tier: str = ""
    signer_cn: str = ""
    signer_serial: int = 0  # certificate serial number
    signer_subject_serial: str = ""  # subject serialNumber (the person's id)
    claimed_role: str = ""
    signing_time: datetime.datetime = None
    covers: list = field(default_factory=list)  # referenced Ids, without "#"
    intact: bool = False  # core signature + every reference digest + XAdES cert digest
    chain_ok: bool = False  # chains to a trusted root, valid at validation time
    chained_to_trusted_root: bool = False  # chains structurally (ignoring time)
    expired: bool = False  # signer certificate not valid at validation time
    certificate: x509.Certificate = None
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return self.intact and self.chain_ok


class _OneSignatureVerifier(XAdESVerifier):
    """XAdESVerifier aimed at one ds:Signature (by Id) of a multi-signature
    document; the certificate's validity and chain are checked separately."""

    def __init__(self, signature_id):
        super().__init__()
        self._signature_id = signature_id

    def _get_signature(self, root):
        found = root.xpath("//ds:Signature[@Id=$i]", namespaces={"ds": DS_NS}, i=self._signature_id)
        if len(found) != 1:
            raise ValueError("expected one ds:Signature with Id %r, found %d" % (self._signature_id, len(found)))
        return found[0]

    def _check_cert_validity(self, cert, cert_source):
        return None  # reported separately (expired / chain_ok)


def load_certs(trusted_roots):
    certs = []
    for item in trusted_roots or ():
        if isinstance(item, x509.Certificate):
            certs.append(item)
        elif isinstance(item, (bytes, str)):
            data = item.encode() if isinstance(item, str) else item
            if b"-----BEGIN" in data:
                certs.extend(x509.load_pem_x509_certificates(data))
            else:
                certs.append(x509.load_der_x509_certificate(data))
        else:  # e.g. pki_factory.Issued
            certs.append(item.cert)
    return certs


def _key_usage_allows_signing(policy, cert, key_usage):
    if not (key_usage.digital_signature or key_usage.content_commitment):
        raise ValueError("certificate KeyUsage allows neither digitalSignature nor nonRepudiation")


def check_chain(leaf, intermediates, trusted_roots, at=None):
    """Path from ``leaf`` through ``intermediates`` to one of ``trusted_roots``
    at time ``at`` (default now).  Returns (ok, error message or "")."""
    from cryptography.x509 import verification

    roots = load_certs(trusted_roots)
    if not roots:
        return False, "no trusted root given"
    ee_policy = verification.ExtensionPolicy.permit_all().require_present(
        x509.KeyUsage, verification.Criticality.AGNOSTIC, _key_usage_allows_signing
    )
    builder = (
        verification.PolicyBuilder()
        .store(verification.Store(roots))
        .time(at or datetime.datetime.now(UTC))
        .extension_policies(ee_policy=ee_policy, ca_policy=verification.ExtensionPolicy.webpki_defaults_ca())
    )
    try:
        builder.build_client_verifier().verify(leaf, list(intermediates))
    except verification.VerificationError as exc:
        return False, str(exc)
    return True, ""


def _certificates_of(signature):
    certs = []
    for node in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NSMAP):
        certs.append(x509.load_pem_x509_certificate(add_pem_header(node.text)))
    return certs


def _signing_certificate(signature, certs):
    """The certificate named first in SigningCertificateV2 (else the first non-CA one)."""
    node = signature.find(
        ".//xades:SignedSignatureProperties/xades:SigningCertificateV2/xades:Cert/xades:CertDigest",
        namespaces=NSMAP,
    )
    if node is not None:
        method = DigestAlgorithm(node.find("ds:DigestMethod", namespaces=NSMAP).get("Algorithm"))
        digest = b64decode(node.find("ds:DigestValue", namespaces=NSMAP).text)
        from signxml.algorithms import digest_algorithm_implementations

        for cert in certs:
            if cert.fingerprint(digest_algorithm_implementations[method]()) == digest:
                return cert
    for cert in certs:
        try:
            if not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                return cert
        except x509.ExtensionNotFound:
            return cert
    return certs[0] if certs else None


def _common_validity_time(certs):
    """A moment when all ``certs`` are valid (to test a path regardless of time)."""
    start = max(c.not_valid_before_utc for c in certs)
    end = min(c.not_valid_after_utc for c in certs)
    if start > end:
        end = start
    return start + (end - start) / 2


def _cn(cert):
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return attrs[0].value if attrs else cert.subject.rfc4514_string()


def verify(xml, trusted_roots, *, at=None):
    """Verify every ds:Signature of ``xml``; one ``SignatureReport`` each, in document order.

    ``trusted_roots``: certificates (objects, PEM/DER bytes, or Issued).
    ``at``: validation time for certificate validity and chain (default now).
    Report fields other than ``intact`` / ``chain_ok`` are read from the
    signature as written: trust them only when ``intact`` is True.
    """
    at = at or datetime.datetime.now(UTC)
    root = parse_xml(xml)
    document = etree.tostring(root)
    reports = []
    for signature in root.iter(ds_tag("Signature")):
        wrapper = signature.getparent()
        report = SignatureReport(signature_id=signature.get("Id") or "")
        if wrapper is not None:
            report.wrapper_id = wrapper.get("Id") or ""
            report.tier = wrapper.get("tier") or ""
        reports.append(report)
        signed_info = signature.find("ds:SignedInfo", namespaces=NSMAP)
        key_info = signature.find("ds:KeyInfo", namespaces=NSMAP)
        key_info_uri = "#%s" % key_info.get("Id") if key_info is not None and key_info.get("Id") else None
        for ref in signed_info.findall("ds:Reference", namespaces=NSMAP) if signed_info is not None else ():
            uri = ref.get("URI") or ""
            if ref.get("Type") == SIGNED_PROPERTIES_TYPE or uri == key_info_uri:
                continue
            report.covers.append(uri[1:] if uri.startswith("#") else uri)
        ssp = signature.find(".//xades:SignedSignatureProperties", namespaces=NSMAP)
        if ssp is not None:
            role = ssp.find("xades:SignerRole/xades:ClaimedRoles/xades:ClaimedRole", namespaces=NSMAP)
            report.claimed_role = role.text if role is not None else ""
            when = ssp.find("xades:SigningTime", namespaces=NSMAP)
            if when is not None and when.text:
                try:
                    report.signing_time = datetime.datetime.fromisoformat(when.text.replace("Z", "+00:00"))
                except ValueError:
                    report.errors.append("unreadable SigningTime %r" % when.text)
        try:
            certs = _certificates_of(signature)
        except ValueError as exc:
            report.errors.append("unreadable certificate: %s" % exc)
            continue
        leaf = _signing_certificate(signature, certs)
        if leaf is None:
            report.errors.append("no signer certificate in KeyInfo")
            continue
        report.certificate = leaf
        report.signer_cn = _cn(leaf)
        report.signer_serial = leaf.serial_number
        subject_serial = leaf.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)
        report.signer_subject_serial = subject_serial[0].value if subject_serial else ""
        if not report.signature_id:
            report.errors.append("the ds:Signature has no Id: it cannot be verified on its own")
            continue

        # core signature, every reference, XAdES signing-certificate digest
        try:
            _OneSignatureVerifier(report.signature_id).verify(
                document,
                x509_cert=leaf,
                expect_config=XAdESSignatureConfiguration(expect_references=True),
            )
            report.intact = True
        except (SignXMLException, InvalidSignature, etree.LxmlError, ValueError, TypeError, KeyError) as exc:
            report.errors.append("signature: %s: %s" % (type(exc).__name__, exc))

        # certificate validity and chain
        intermediates = [c for c in certs if c != leaf]
        report.expired = not (leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc)
        if report.expired:
            report.errors.append(
                "certificate not valid at %s (valid %s .. %s)"
                % (at.isoformat(), leaf.not_valid_before_utc.isoformat(), leaf.not_valid_after_utc.isoformat())
            )
        report.chain_ok, error = check_chain(leaf, intermediates, trusted_roots, at)
        if report.chain_ok:
            report.chained_to_trusted_root = True
        else:
            report.errors.append("chain: %s" % error)
            report.chained_to_trusted_root = check_chain(
                leaf, intermediates, trusted_roots, _common_validity_time([leaf] + intermediates)
            )[0]
    return reports


def signature_ids(xml):
    """Ids of the ds:Signature elements of ``xml`` in document order."""
    return [s.get("Id") for s in parse_xml(xml).iter(ds_tag("Signature"))]


def certificate_der(cert):
    return cert.public_bytes(Encoding.DER)
