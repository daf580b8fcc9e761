"""XAdES-BES "tier" signatures over one XML document, with signxml.

No Odoo import here.

Shape of a signed document (the caller chooses the wrapper's parent and tag)::

    <HocBa>
      <Data Id="data"> <Subject Id="subject-TOAN">...</Subject> ... </Data>
      <Signatures>
        <Signature tier="subject_teacher" Id="sig-1"><ds:Signature Id="sig-1-ds">...</ds:Signature></Signature>
        <Signature tier="homeroom_teacher" Id="sig-2"><ds:Signature Id="sig-2-ds">...</ds:Signature></Signature>
      </Signatures>
    </HocBa>

Each ``ds:Signature`` is a *detached* XAdES-BES signature (it does not enclose
what it signs) whose references are the element Ids given by the caller (e.g.
``#data``, or ``#subject-TOAN`` for a subject teacher, plus the wrappers of the
earlier signatures so that a later tier covers them), plus signxml's XAdES
references to its ``SignedProperties`` (SigningTime, SigningCertificateV2,
SignerRole/ClaimedRoles) and to its ``KeyInfo``.

Interoperability: *every* reference carries an explicit exclusive C14N 1.0
transform and is digested with exactly that algorithm, and SignedInfo itself
is canonicalised with exclusive C14N.  signxml 5.2 leaves its two XAdES
references without a Transform (the XMLDSig default, inclusive C14N 1.0, then
applies for other validators) while digesting them with the signer's c14n
algorithm; xmlsec1 rejects such signatures.  ``_TierXAdESSigner`` fixes that.
Exclusive C14N also makes every digest independent of where the signature is
later placed in the document (no inherited namespaces / xml:* attributes).

Keys: signing goes through the tiny ``Signer`` interface (``certificate``,
``chain``, ``sign(data, algorithm)``).  signxml gets a proxy "private key"
object whose ``sign`` calls ``Signer.sign`` with the canonical SignedInfo, so a
PKCS#11 token or a remote (CSC) signing service only needs to implement
``Signer``.  ``KeySigner`` is the in-memory implementation (e.g. PKCS#12).
"""

import datetime
from base64 import b64encode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml import SignatureReference
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.util import ds_tag, namespaces, xades_tag
from signxml.xades import XAdESSigner

UTC = datetime.timezone.utc
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
DS_NS = namespaces.ds
XADES_NS = namespaces.xades
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
NSMAP = {"ds": DS_NS, "xades": XADES_NS}

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


# ---------------------------------------------------------------------------
# The signer interface
# ---------------------------------------------------------------------------
class Signer:
    """What signing needs from a key holder.

    * ``certificate``: the signer's ``x509.Certificate``;
    * ``chain``: the issuing certificates (intermediates first, root optional),
      without the signer's own certificate;
    * ``sign(data, algorithm)``: sign ``data`` (the canonical SignedInfo) with
      hash ``algorithm`` ("sha256", "sha384", "sha512"); RSA keys return a
      PKCS#1 v1.5 signature, EC keys a DER-encoded ECDSA signature.
    """

    certificate = None
    chain = ()

    def sign(self, data, algorithm):  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def key_type(self):
        public_key = self.certificate.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            return "rsa"
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            return "ec"
        raise ValueError("unsupported public key type %s" % type(public_key).__name__)


class KeySigner(Signer):
    """An in-memory private key (e.g. from a PKCS#12 file)."""

    def __init__(self, key, certificate, chain=()):
        self.key = key
        self.certificate = certificate
        self.chain = list(chain)

    @classmethod
    def from_pkcs12(cls, data, passphrase):
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        key, certificate, additional = pkcs12.load_key_and_certificates(data, passphrase or None)
        if key is None or certificate is None:
            raise ValueError("the PKCS#12 file holds no key and certificate")
        return cls(key, certificate, additional or ())

    def sign(self, data, algorithm):
        hash_alg = _HASHES[algorithm]()
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hash_alg)
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(data, ec.ECDSA(hash_alg))
        raise ValueError("unsupported private key type %s" % type(self.key).__name__)


class _SignerKeyProxy:
    """Looks enough like a cryptography private key for signxml's signer.

    signxml calls ``key.sign(data, padding=..., algorithm=...)`` (RSA) or
    ``key.sign(data, signature_algorithm=ECDSA(...))`` and reads ``key_size``
    (EC); everything is forwarded to ``Signer.sign``.
    """

    def __init__(self, signer):
        self._signer = signer
        self._public_key = signer.certificate.public_key()

    def public_key(self):
        return self._public_key

    @property
    def key_size(self):
        return self._public_key.key_size

    @property
    def curve(self):
        return self._public_key.curve

    def sign(self, data, padding=None, algorithm=None, signature_algorithm=None):
        if signature_algorithm is not None:  # ECDSA
            algorithm = signature_algorithm.algorithm
        return self._signer.sign(data, algorithm.name)


# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------
class _TierXAdESSigner(XAdESSigner):
    """signxml's XAdESSigner, detached, with explicit exclusive C14N everywhere,
    a chosen ds:Signature Id and a chosen signing time."""

    def __init__(self, signature_id, signing_time, claimed_roles, signature_algorithm):
        super().__init__(
            method=SignatureConstructionMethod.detached,
            signature_algorithm=signature_algorithm,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=EXC_C14N,
            claimed_roles=claimed_roles,
        )
        self._signature_id = signature_id
        self._signing_time = signing_time

    def _unpack(self, data, references):
        sig_root, doc_root, c14n_inputs, references = super()._unpack(data, references)
        sig_root.set("Id", self._signature_id)
        return sig_root, doc_root, c14n_inputs, references

    def _build_xades_ds_object(self, sig_root, signing_settings):
        key_info = self._find(sig_root, "KeyInfo")
        key_info.set("Id", "%s-keyinfo" % self._signature_id)
        return super()._build_xades_ds_object(sig_root, signing_settings)

    def _add_reference_to_signed_info(self, sig_root, node_to_reference, **attrs):
        # Same as signxml's, but with an explicit Transform that names the
        # canonicalisation actually used for the digest.
        signed_info = self._find(sig_root, "SignedInfo")
        reference = etree.SubElement(signed_info, ds_tag("Reference"), nsmap=self.namespaces)
        reference.set("URI", "#%s" % node_to_reference.get("Id"))
        for attr_name, attr_value in attrs.items():
            reference.set(attr_name, attr_value)
        transforms = etree.SubElement(reference, ds_tag("Transforms"))
        etree.SubElement(transforms, ds_tag("Transform"), Algorithm=EXC_C14N.value)
        etree.SubElement(reference, ds_tag("DigestMethod"), Algorithm=self.digest_alg.value)
        digest_value = etree.SubElement(reference, ds_tag("DigestValue"))
        c14n = self._c14n(node_to_reference, algorithm=EXC_C14N)

        digest_value.text = b64encode(self._get_digest(c14n, algorithm=self.digest_alg)).decode()

    def add_signing_time(self, signed_signature_properties, sig_root, signing_settings):
        node = etree.SubElement(signed_signature_properties, xades_tag("SigningTime"), nsmap=self.namespaces)
        node.text = self._signing_time.astimezone(UTC).isoformat(timespec="seconds")


def parse_xml(xml):
    if isinstance(xml, (bytes, str)):
        if isinstance(xml, str):
            xml = xml.encode()
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
        return etree.fromstring(xml, parser)
    if isinstance(xml, etree._ElementTree):
        return xml.getroot()
    return xml


def _find_parent(root, parent):
    if not isinstance(parent, str):
        return parent
    if root.tag == parent:
        return root
    found = root.find(parent) if ("/" in parent or parent.startswith("{")) else root.find(".//" + parent)
    if found is None:
        raise ValueError("no element %r to hold the signature" % parent)
    return found


def sign_tier(
    xml,
    signer,
    references,
    *,
    parent="Signatures",
    wrapper_tag="Signature",
    wrapper_id,
    tier,
    claimed_role=None,
    signing_time=None,
    digest="sha256",
):
    """Add one tier's XAdES-BES signature to ``xml``; return the new document bytes.

    ``references``: element Ids to cover, e.g. ``["data", "sig-1"]`` (a leading
    "#" is accepted).  ``parent``: the element (or its tag / ElementPath) that
    receives ``<wrapper_tag tier=... Id=wrapper_id>``.  ``claimed_role``
    defaults to ``tier``.  ``signing_time`` defaults to now (UTC).
    """
    root = parse_xml(xml)
    holder = _find_parent(root, parent)
    if root.xpath("//*[@Id=$i]", i=wrapper_id):
        raise ValueError("Id %r is already used in the document" % wrapper_id)
    uris = []
    for ref in references:
        ref = ref if ref.startswith("#") else "#" + ref
        if len(root.xpath("//*[@Id=$i]", i=ref[1:])) != 1:
            raise ValueError("reference %s must match exactly one element" % ref)
        uris.append(SignatureReference(URI=ref, c14n_method=EXC_C14N))
    key_type = signer.key_type
    algorithm = {
        ("rsa", "sha256"): SignatureMethod.RSA_SHA256,
        ("rsa", "sha384"): SignatureMethod.RSA_SHA384,
        ("rsa", "sha512"): SignatureMethod.RSA_SHA512,
        ("ec", "sha256"): SignatureMethod.ECDSA_SHA256,
        ("ec", "sha384"): SignatureMethod.ECDSA_SHA384,
        ("ec", "sha512"): SignatureMethod.ECDSA_SHA512,
    }[(key_type, digest)]
    xades = _TierXAdESSigner(
        signature_id="%s-ds" % wrapper_id,
        signing_time=signing_time or datetime.datetime.now(UTC),
        claimed_roles=[claimed_role or tier],
        signature_algorithm=algorithm,
    )
    signature = xades.sign(
        root,
        key=_SignerKeyProxy(signer),
        cert=[signer.certificate] + [c for c in signer.chain if c != signer.certificate],
        reference_uri=uris,
        always_add_key_value=False,
    )
    wrapper = etree.SubElement(holder, wrapper_tag)
    wrapper.set("tier", tier)
    wrapper.set("Id", wrapper_id)
    wrapper.append(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
