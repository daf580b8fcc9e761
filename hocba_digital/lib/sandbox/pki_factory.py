"""A complete test / demo PKI for the signing chain, made with ``cryptography`` only.

No Odoo import here.  ``build_pki`` makes, in memory and in well under a second
per RSA key:

* a root CA and an intermediate CA (the one that issues everything else),
* one signing certificate per staff member (CN, subject serialNumber = the
  person's identifier, optional role in the subject ``title``),
* a school seal (organisation) certificate,
* an OCSP responder certificate (EKU OCSPSigning + id-pkix-ocsp-nocheck),
* a time-stamping authority certificate (EKU timeStamping, critical),
* a CRL from the intermediate (``make_crl`` lists revoked serials) and an
  empty one from the root for the intermediate.

Every issued certificate points its CRL distribution point and its AIA (OCSP,
caIssuers) to the ``base_url`` given by the caller, e.g. a sandbox listening
on ``http://127.0.0.1:PORT``:

* ``{base_url}/crl/root.crl`` (for the intermediate),
  ``{base_url}/crl/intermediate.crl`` (for the end entities),
* ``{base_url}/ocsp``,
* ``{base_url}/certs/root.cer`` / ``{base_url}/certs/intermediate.cer``.

Keys are RSA-2048 by default: it is what the Vietnamese public CAs put on the
staff USB tokens and HSMs (VNPT-CA, Viettel-CA, ...), every XAdES / PAdES
validator and PKCS#11 token accepts it, and xmlsec1 / signxml / pyhanko all
handle it without special cases.  ``key_type="ec"`` gives ECDSA P-256 (much
faster key generation and signatures) for code paths that want it.

Subject names are deterministic; keys and certificate serial numbers are fresh
on each call.
"""

import datetime
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..signing.revocation_client import load_crl

UTC = datetime.timezone.utc

ROOT = "root"
INTERMEDIATE = "intermediate"
SEAL = "seal"
OCSP = "ocsp"
TSA = "tsa"


@dataclass(frozen=True)
class Person:
    """Who a staff signing certificate is for."""

    key: str  # stable handle, e.g. "homeroom" or an employee code
    name: str  # certificate CN, e.g. "Nguyễn Thị Lan"
    serial: str  # subject serialNumber, e.g. "CCCD:001190012345"
    role: str = ""  # optional, goes into the subject title


@dataclass
class Issued:
    """A key pair and its certificate."""

    name: str
    key: object  # cryptography private key
    cert: x509.Certificate

    @property
    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self):
        """Unencrypted PKCS#8 PEM: for tests and sandboxes only."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def serial_number(self):
        return self.cert.serial_number

    @property
    def common_name(self):
        return self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def _new_key(key_type):
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError("key_type must be 'rsa' or 'ec', not %r" % (key_type,))


def _name(pairs):
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs if value])


def _labelled(prefix, text):
    return "%s %s" % (prefix, text) if prefix else text


def _pki_name(prefix, common_name):
    """The name of one of the PKI's own certificates (CAs, OCSP responder, TSA)."""
    return _name(
        [
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.ORGANIZATION_NAME, _labelled(prefix, "Hoc Ba So PKI")),
            (NameOID.COMMON_NAME, _labelled(prefix, common_name)),
        ]
    )


@dataclass
class DemoPKI:
    base_url: str
    prefix: str
    organisation: str
    key_type: str
    root: Issued
    intermediate: Issued
    seal: Issued
    ocsp: Issued
    tsa: Issued
    people: dict = field(default_factory=dict)  # Person.key -> Issued
    persons: dict = field(default_factory=dict)  # Person.key -> Person
    crl_der: bytes = b""  # from the intermediate, see make_crl
    root_crl_der: bytes = b""  # from the root (for the intermediate)
    leaf_days: int = 365

    # -- URLs ---------------------------------------------------------------
    @property
    def crl_url(self):
        return "%s/crl/intermediate.crl" % self.base_url

    @property
    def root_crl_url(self):
        return "%s/crl/root.crl" % self.base_url

    @property
    def ocsp_url(self):
        return "%s/ocsp" % self.base_url

    # -- convenient views ---------------------------------------------------
    @property
    def crl(self):
        return x509.load_der_x509_crl(self.crl_der)

    @property
    def crl_pem(self):
        return self.crl.public_bytes(serialization.Encoding.PEM)

    @property
    def root_pem(self):
        return self.root.cert_pem

    @property
    def intermediate_pem(self):
        return self.intermediate.cert_pem

    def person(self, key):
        return self.people[key]

    def chain(self, issued):
        """[leaf, intermediate]: what a signer sends along (the root is the trust anchor)."""
        if isinstance(issued, str):
            issued = self._lookup(issued)
        return [issued.cert, self.intermediate.cert]

    def _lookup(self, key):
        if key in self.people:
            return self.people[key]
        if key in (ROOT, INTERMEDIATE, SEAL, OCSP, TSA):
            return getattr(self, key)
        raise KeyError(key)

    def to_pkcs12(self, person, passphrase):
        """PKCS#12 (.p12) bytes with key, certificate and intermediate.

        ``person`` is a Person, a person key, "seal", "tsa", "ocsp" or an Issued.
        """
        if isinstance(person, Person):
            person = person.key
        issued = person if isinstance(person, Issued) else self._lookup(person)
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
        return pkcs12.serialize_key_and_certificates(
            issued.name.encode(), issued.key, issued.cert, [self.intermediate.cert], encryption
        )

    # -- issuing more -------------------------------------------------------
    def issue_signer(self, person, not_before=None, not_after=None, key=None, register=False):
        """A staff signing certificate from the intermediate (e.g. an expired one for tests)."""
        now = datetime.datetime.now(UTC)
        not_before = not_before or now - datetime.timedelta(minutes=5)
        not_after = not_after or now + datetime.timedelta(days=self.leaf_days)
        subject = _name(
            [
                (NameOID.COUNTRY_NAME, "VN"),
                (NameOID.ORGANIZATION_NAME, _labelled(self.prefix, self.organisation)),
                (NameOID.TITLE, person.role),
                (NameOID.SERIAL_NUMBER, person.serial),
                (NameOID.COMMON_NAME, person.name),
            ]
        )
        issued = self._issue_leaf(
            person.name,
            subject,
            not_before,
            not_after,
            key=key,
            eku=None,
        )
        if register:
            self.people[person.key] = issued
            self.persons[person.key] = person
        return issued

    def _issue_leaf(
        self, label, subject, not_before, not_after, key=None, eku=None, eku_critical=False, ocsp_nocheck=False
    ):
        key = key or _new_key(self.key_type)
        builder = _base_builder(subject, self.intermediate, key.public_key(), not_before, not_after)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
        if ocsp_nocheck:
            builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
        else:
            builder = builder.add_extension(_crl_dp(self.crl_url), critical=False)
            builder = builder.add_extension(
                _aia(self.ocsp_url, "%s/certs/intermediate.cer" % self.base_url), critical=False
            )
        cert = builder.sign(self.intermediate.key, hashes.SHA256())
        return Issued(label, key, cert)

    def make_crl(self, revoked=(), this_update=None, next_update=None, issuer=None):
        """DER CRL from the intermediate (or ``issuer``) listing ``revoked``.

        ``revoked`` items: a serial number (int), an Issued / Certificate, or a
        tuple ``(serial_or_cert, revocation_datetime[, x509.ReasonFlags])``.
        """
        issuer = issuer or self.intermediate
        now = datetime.datetime.now(UTC)
        this_update = this_update or now - datetime.timedelta(minutes=5)
        next_update = next_update or now + datetime.timedelta(days=7)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.cert.subject)
            .last_update(this_update)
            .next_update(next_update)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        )
        for item in revoked:
            reason = None
            when = this_update
            if isinstance(item, tuple):
                item, when, *rest = item
                reason = rest[0] if rest else None
            serial = _serial_of(item)
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            if reason is not None:
                entry = entry.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def revoke(self, *items):
        """Rebuild ``crl_der`` so that it lists ``items`` (see make_crl)."""
        self.crl_der = self.make_crl(items)
        return self.crl_der


def _serial_of(item):
    if isinstance(item, int):
        return item
    if isinstance(item, Issued):
        return item.cert.serial_number
    return item.serial_number


def _key_usage(digital_signature=False, content_commitment=False, key_cert_sign=False, crl_sign=False):
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _crl_dp(url):
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)], relative_name=None, reasons=None, crl_issuer=None
            )
        ]
    )


def _aia(ocsp_url, ca_issuers_url):
    descriptions = []
    if ocsp_url:
        descriptions.append(
            x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
            )
        )
    descriptions.append(
        x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(ca_issuers_url)
        )
    )
    return x509.AuthorityInformationAccess(descriptions)


def _base_builder(subject, issuer, public_key, not_before, not_after):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    return builder


def _ca_builder(subject, issuer, key, not_before, not_after, path_length):
    builder = _base_builder(subject, issuer, key.public_key(), not_before, not_after)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
    return builder.add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)


def build_pki(
    people=(),
    base_url="http://127.0.0.1:8070",
    prefix="DEMO",
    organisation="Trường Tiểu học Hòa Bình",
    key_type="rsa",
    now=None,
    ca_days=3650,
    leaf_days=365,
    not_before=None,
    leaf_not_after=None,
    revoked=(),
):
    """Make a whole demo PKI.

    ``people``: iterable of Person (or dicts with the same keys).
    ``prefix``: "DEMO" / "TEST" is written into every name ("" for none).
    ``now``: reference time (default: now, UTC); ``not_before`` defaults to
    ``now - 2 years`` for the CAs (so that back-dated or expired leaves can
    still chain) and ``now - 5 minutes`` for the leaves;
    ``ca_days`` / ``leaf_days`` set the validity lengths, ``leaf_not_after``
    forces the end of every leaf (e.g. in the past, for expired-certificate
    tests).  ``revoked``: see ``DemoPKI.make_crl``.
    """
    base_url = base_url.rstrip("/")
    now = now or datetime.datetime.now(UTC)
    ca_from = not_before or now - datetime.timedelta(days=730)
    leaf_from = not_before or now - datetime.timedelta(minutes=5)
    leaf_until = leaf_not_after or now + datetime.timedelta(days=leaf_days)
    org = _labelled(prefix, organisation)

    # root CA: self-signed
    root_key = _new_key(key_type)
    builder = _ca_builder(
        _pki_name(prefix, "Hoc Ba So Root CA"),
        None,
        root_key,
        ca_from,
        now + datetime.timedelta(days=ca_days),
        path_length=1,
    )
    root = Issued("root", root_key, builder.sign(root_key, hashes.SHA256()))

    # intermediate CA
    inter_key = _new_key(key_type)
    builder = _ca_builder(
        _pki_name(prefix, "Hoc Ba So Issuing CA"),
        root,
        inter_key,
        ca_from,
        now + datetime.timedelta(days=ca_days // 2),
        path_length=0,
    )
    builder = builder.add_extension(_crl_dp("%s/crl/root.crl" % base_url), critical=False)
    builder = builder.add_extension(_aia("%s/ocsp" % base_url, "%s/certs/root.cer" % base_url), critical=False)
    intermediate = Issued("intermediate", inter_key, builder.sign(root_key, hashes.SHA256()))

    pki = DemoPKI(
        base_url=base_url,
        prefix=prefix,
        organisation=organisation,
        key_type=key_type,
        root=root,
        intermediate=intermediate,
        seal=None,
        ocsp=None,
        tsa=None,
        leaf_days=leaf_days,
    )

    seal_subject = _name(
        [
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.ORGANIZATION_NAME, org),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "Con dau so / School seal"),
            (NameOID.COMMON_NAME, org),
        ]
    )
    pki.seal = pki._issue_leaf("seal", seal_subject, leaf_from, leaf_until)

    pki.ocsp = pki._issue_leaf(
        "ocsp",
        _pki_name(prefix, "Hoc Ba So OCSP Responder"),
        leaf_from,
        leaf_until,
        eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        ocsp_nocheck=True,
    )
    pki.tsa = pki._issue_leaf(
        "tsa",
        _pki_name(prefix, "Hoc Ba So Time Stamping Authority"),
        leaf_from,
        leaf_until,
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
        eku_critical=True,
    )

    for person in people:
        if isinstance(person, dict):
            person = Person(**person)
        pki.issue_signer(person, not_before=leaf_from, not_after=leaf_until, register=True)

    pki.crl_der = pki.make_crl(revoked)
    pki.root_crl_der = pki.make_crl((), issuer=root)
    return pki


def revocation_entry(cert, crl, issuer_cert=None):
    if isinstance(cert, Issued):
        cert = cert.cert
    crl = load_crl(crl)
    if crl.issuer != cert.issuer:
        raise ValueError("the CRL was not issued by the certificate's issuer")
    if issuer_cert is not None and not crl.is_signature_valid(issuer_cert.public_key()):
        raise ValueError("the CRL signature is not valid")
    return crl.get_revoked_certificate_by_serial_number(cert.serial_number)
