"""What a signing certificate says, and whether it may sign now (pure layer)."""

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

UTC = datetime.timezone.utc


@dataclass(frozen=True)
class CertificateInfo:
    subject_cn: str
    subject: str
    issuer: str
    serial: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    fingerprint_sha256: str
    can_sign: bool  # keyUsage allows digitalSignature or nonRepudiation
    is_ca: bool


def load_certificate(data):
    """An x509 certificate from PEM or DER bytes."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def describe(cert):
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        can_sign = usage.digital_signature or usage.content_commitment
    except x509.ExtensionNotFound:
        can_sign = True  # no restriction stated
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return CertificateInfo(
        subject_cn=cns[0].value if cns else cert.subject.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "X"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        can_sign=can_sign and not is_ca,
        is_ca=is_ca,
    )


def problems_for_signing(info, at=None, revoked=False):
    """Codes of what forbids signing with this certificate at ``at`` (now by default)."""
    at = at or datetime.datetime.now(UTC)
    problems = []
    if at < info.not_before:
        problems.append("not_yet_valid")
    if at > info.not_after:
        problems.append("expired")
    if revoked:
        problems.append("revoked")
    if not info.can_sign:
        problems.append("no_signing_usage")
    return problems


def split_pkcs12(data, password):
    """``(private key PEM (unencrypted), certificate PEM, chain PEMs)`` of a PKCS#12 file.

    Raises ``ValueError`` for a wrong password or a file without a key.
    """
    key, cert, chain = pkcs12.load_key_and_certificates(data, password.encode("utf-8") if password else None)
    if key is None or cert is None:
        raise ValueError("no_key")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        key_pem,
        cert.public_bytes(serialization.Encoding.PEM),
        [c.public_bytes(serialization.Encoding.PEM) for c in chain or ()],
    )
