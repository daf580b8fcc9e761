"""XAdES-BES tier signatures and the demo PKI (pure layer, no database).

Every core signature is also checked with xmlsec1 (an independent
implementation) and with signxml alone.
"""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import pki_factory as pf
from ..lib.signing import xades, xades_verify
from .crypto_tools import DOCUMENT, DS, PEOPLE, XADES, SigningTools, is_revoked
from .crypto_tools import pkcs12_signer as _signer

UTC = datetime.timezone.utc


def _sign_chain(pki, document=DOCUMENT, seal=True):
    doc = xades.sign_tier(
        document,
        _signer(pki, "toan"),
        ["#subject-TOAN"],
        wrapper_id="sig-1",
        tier="subject_teacher",
        claimed_role="subject_teacher:TOAN",
    )
    doc = xades.sign_tier(
        doc, _signer(pki, "homeroom"), ["#data", "#sig-1"], wrapper_id="sig-2", tier="homeroom_teacher"
    )
    doc = xades.sign_tier(
        doc, _signer(pki, "principal"), ["#data", "#sig-1", "#sig-2"], wrapper_id="sig-3", tier="principal"
    )
    if seal:
        doc = xades.sign_tier(
            doc, _signer(pki, "seal"), ["#data", "#sig-1", "#sig-2", "#sig-3"], wrapper_id="sig-4", tier="seal"
        )
    return doc


def _replace_text(doc, xpath, text):
    root = etree.fromstring(doc)
    node = root.xpath(xpath, namespaces={"ds": DS})[0]
    node.text = text
    return etree.tostring(root)


@tagged("post_install", "-at_install")
class TestXades(SigningTools, BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = pf.build_pki(PEOPLE, base_url="http://127.0.0.1:8199", prefix="TEST")
        cls.signed = _sign_chain(cls.pki)
        cls.make_tmp("hocba-xades-")
        cls.write_pki(cls.pki)

    def reports(self, doc, **kw):
        return {r.wrapper_id: r for r in xades_verify.verify(doc, [self.pki.root_pem], **kw)}

    # -- the demo PKI -------------------------------------------------------
    def test_pki_shape(self):
        pki = self.pki
        self.assertIn("TEST", pki.root.common_name)
        self.assertIn("TEST", pki.seal.common_name)
        tsa_eku = pki.tsa.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        self.assertTrue(tsa_eku.critical)
        self.assertEqual(list(tsa_eku.value), [ExtendedKeyUsageOID.TIME_STAMPING])
        self.assertIn(
            ExtendedKeyUsageOID.OCSP_SIGNING,
            pki.ocsp.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value,
        )
        teacher = pki.person("homeroom").cert
        self.assertEqual(teacher.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value, "CCCD:001185000002")
        ku = teacher.extensions.get_extension_for_class(x509.KeyUsage).value
        self.assertTrue(ku.digital_signature and ku.content_commitment and not ku.key_cert_sign)
        crl_dp = teacher.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        self.assertEqual(crl_dp[0].full_name[0].value, "http://127.0.0.1:8199/crl/intermediate.crl")
        aia = teacher.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        self.assertIn("http://127.0.0.1:8199/ocsp", [a.access_location.value for a in aia])
        self.assertEqual(teacher.issuer, pki.intermediate.cert.subject)
        self.assertTrue(pki.intermediate.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        signer = _signer(pki, "homeroom")
        self.assertEqual(signer.certificate, teacher)
        self.assertEqual(signer.chain, [pki.intermediate.cert])

    # -- (a) the whole chain verifies, three ways --------------------------
    def test_chain_verifies_with_our_verifier(self):
        reports = xades_verify.verify(self.signed, [self.pki.root_pem])
        self.assertEqual([r.wrapper_id for r in reports], ["sig-1", "sig-2", "sig-3", "sig-4"])
        for r in reports:
            self.assertTrue(r.intact, r.errors)
            self.assertTrue(r.chain_ok, r.errors)
            self.assertFalse(r.expired)
            self.assertEqual(r.errors, [])
            self.assertLess(abs((r.signing_time - datetime.datetime.now(UTC)).total_seconds()), 600)
        by_id = {r.wrapper_id: r for r in reports}
        self.assertEqual(by_id["sig-1"].covers, ["subject-TOAN"])
        self.assertEqual(by_id["sig-1"].claimed_role, "subject_teacher:TOAN")
        self.assertEqual(by_id["sig-1"].signer_cn, "Nguyễn Văn Toán")
        self.assertEqual(by_id["sig-1"].signer_serial, self.pki.person("toan").serial_number)
        self.assertEqual(by_id["sig-1"].signer_subject_serial, "CCCD:001085000001")
        self.assertEqual(by_id["sig-2"].covers, ["data", "sig-1"])
        self.assertEqual(by_id["sig-2"].tier, "homeroom_teacher")
        self.assertEqual(by_id["sig-2"].claimed_role, "homeroom_teacher")
        self.assertEqual(by_id["sig-3"].covers, ["data", "sig-1", "sig-2"])
        self.assertEqual(by_id["sig-4"].covers, ["data", "sig-1", "sig-2", "sig-3"])
        self.assertEqual(by_id["sig-4"].signer_cn, self.pki.seal.common_name)

    def test_every_reference_has_explicit_exclusive_c14n(self):
        root = etree.fromstring(self.signed)
        refs = root.xpath("//ds:Reference", namespaces={"ds": DS})
        self.assertEqual(len(refs), 3 + 4 + 5 + 6)
        for ref in refs:
            self.assertEqual(
                ref.xpath("ds:Transforms/ds:Transform/@Algorithm", namespaces={"ds": DS}),
                ["http://www.w3.org/2001/10/xml-exc-c14n#"],
                ref.get("URI"),
            )
        for method in root.xpath("//ds:CanonicalizationMethod/@Algorithm", namespaces={"ds": DS}):
            self.assertEqual(method, "http://www.w3.org/2001/10/xml-exc-c14n#")
        # XAdES properties are there
        props = root.xpath("//*[@Id='sig-2']//xades:SignedSignatureProperties", namespaces={"xades": XADES})[0]
        self.assertEqual(len(props.xpath("xades:SigningTime", namespaces={"xades": XADES})), 1)
        self.assertEqual(len(props.xpath("xades:SigningCertificateV2/xades:Cert", namespaces={"xades": XADES})), 2)
        self.assertEqual(
            props.xpath("xades:SignerRole/xades:ClaimedRoles/xades:ClaimedRole/text()", namespaces={"xades": XADES}),
            ["homeroom_teacher"],
        )

    def test_each_signature_verifies_with_xmlsec1(self):
        for signature_id, count in [("sig-1-ds", 3), ("sig-2-ds", 4), ("sig-3-ds", 5), ("sig-4-ds", 6)]:
            rc, out = self.xmlsec1(self.signed, signature_id)
            self.assertEqual(rc, 0, out)
            self.assertIn("OK", out)
            self.assertIn("SignedInfo References (ok/all): %d/%d" % (count, count), out)

    def test_xmlsec1_really_checks(self):
        # a changed subject breaks the homeroom signature for xmlsec1 too ...
        tampered = _replace_text(self.signed, "//Subject[@Id='subject-TV']/Score", "10")
        rc, out = self.xmlsec1(tampered, "sig-2-ds")
        self.assertNotEqual(rc, 0, out)
        rc, out = self.xmlsec1(tampered, "sig-1-ds")
        self.assertEqual(rc, 0, out)
        # ... and xmlsec1 checks the certificate chain against --trusted-pem
        other = pf.build_pki([], prefix="TEST", base_url="http://127.0.0.1:8198")
        rc, out = self.xmlsec1(self.signed, "sig-2-ds", root_pem=self._write("other-root.pem", other.root_pem))
        self.assertNotEqual(rc, 0, out)

    def test_each_signature_verifies_with_signxml_alone(self):
        for wrapper_id, count in [("sig-1", 3), ("sig-2", 4), ("sig-3", 5), ("sig-4", 6)]:
            results = XAdESVerifier().verify(
                self.signed,
                ca_pem_file=self.root_pem,
                expect_config=XAdESSignatureConfiguration(
                    location=".//*[@Id='%s']/" % wrapper_id, expect_references=count
                ),
            )
            self.assertEqual(len(results), count)

    def test_signing_goes_through_the_signer_interface(self):
        inner = _signer(self.pki, "toan")
        calls = []

        class CountingSigner(xades.Signer):
            certificate = inner.certificate
            chain = inner.chain

            def sign(self, data, algorithm):
                calls.append((data, algorithm))
                return inner.sign(data, algorithm)

        doc = xades.sign_tier(DOCUMENT, CountingSigner(), ["subject-TOAN"], wrapper_id="sig-x", tier="subject_teacher")
        self.assertEqual(len(calls), 1)
        self.assertTrue(calls[0][0].startswith(b"<ds:SignedInfo"))
        self.assertEqual(calls[0][1], "sha256")
        report = xades_verify.verify(doc, [self.pki.root_pem])[0]
        self.assertTrue(report.intact and report.chain_ok, report.errors)

    def test_ecdsa_pki_signs_and_xmlsec1_agrees(self):
        pki = pf.build_pki(PEOPLE[:1], key_type="ec", prefix="TEST")
        doc = xades.sign_tier(DOCUMENT, _signer(pki, "toan"), ["data"], wrapper_id="sig-1", tier="subject_teacher")
        self.assertOnlySignatureVerifies(doc, pki)

    # -- (b) what each change breaks ---------------------------------------
    def test_changing_tv_keeps_the_toan_signature(self):
        tampered = _replace_text(self.signed, "//Subject[@Id='subject-TV']/Score", "10")
        reports = self.reports(tampered)
        self.assertTrue(reports["sig-1"].intact, reports["sig-1"].errors)
        for wrapper_id in ("sig-2", "sig-3", "sig-4"):
            self.assertFalse(reports[wrapper_id].intact, wrapper_id)
            self.assertIn("Digest mismatch", " ".join(reports[wrapper_id].errors))

    def test_changing_toan_breaks_all(self):
        tampered = _replace_text(self.signed, "//Subject[@Id='subject-TOAN']/Score", "10")
        reports = self.reports(tampered)
        self.assertEqual([r.intact for r in reports.values()], [False] * 4)

    def test_tampered_signature_value_breaks_it_and_later_ones(self):
        for index, wrapper_id in enumerate(["sig-1", "sig-2", "sig-3"]):
            root = etree.fromstring(self.signed)
            value = root.xpath("//*[@Id=$i]/ds:Signature/ds:SignatureValue", namespaces={"ds": DS}, i=wrapper_id)[0]
            value.text = "A" + value.text[1:] if value.text[0] != "A" else "B" + value.text[1:]
            reports = xades_verify.verify(etree.tostring(root), [self.pki.root_pem])
            self.assertEqual([r.intact for r in reports], [True] * index + [False] * (4 - index), wrapper_id)

    def test_swapped_wrapper_attribute_is_detected(self):
        # the tier attribute sits on the wrapper, which later tiers cover
        root = etree.fromstring(self.signed)
        root.xpath("//*[@Id='sig-1']")[0].set("tier", "principal")
        reports = self.reports(etree.tostring(root))
        self.assertTrue(reports["sig-1"].intact)  # not covered by itself ...
        self.assertFalse(reports["sig-2"].intact)  # ... but by the next tier

    # -- (c) certificates ---------------------------------------------------
    def test_certificate_from_another_root_is_not_chained(self):
        other = pf.build_pki(PEOPLE[:1], prefix="TEST", base_url="http://127.0.0.1:8198")
        doc = xades.sign_tier(DOCUMENT, _signer(other, "toan"), ["data"], wrapper_id="sig-1", tier="subject_teacher")
        report = xades_verify.verify(doc, [self.pki.root_pem])[0]
        self.assertTrue(report.intact, report.errors)
        self.assertFalse(report.chain_ok)
        self.assertFalse(report.chained_to_trusted_root)
        self.assertFalse(report.expired)
        self.assertTrue(any(e.startswith("chain:") for e in report.errors))
        # trusted when its own root is given
        self.assertTrue(xades_verify.verify(doc, [other.root_pem, self.pki.root_pem])[0].chain_ok)

    def test_expired_certificate_is_reported(self):
        now = datetime.datetime.now(UTC)
        person = pf.Person("old", "Phạm Văn Cũ", "CCCD:001070000009", "homeroom_teacher")
        expired = self.pki.issue_signer(
            person, not_before=now - datetime.timedelta(days=400), not_after=now - datetime.timedelta(days=35)
        )
        signer = xades.KeySigner(expired.key, expired.cert, [self.pki.intermediate.cert])
        doc = xades.sign_tier(
            DOCUMENT,
            signer,
            ["data"],
            wrapper_id="sig-1",
            tier="homeroom_teacher",
            signing_time=now - datetime.timedelta(days=40),
        )
        report = xades_verify.verify(doc, [self.pki.root_pem])[0]
        self.assertTrue(report.intact, report.errors)  # the signature itself is fine
        self.assertTrue(report.expired)
        self.assertFalse(report.chain_ok)
        self.assertTrue(report.chained_to_trusted_root)
        self.assertFalse(report.ok)
        # verified as of a time when the certificate was valid, it passes
        report = xades_verify.verify(doc, [self.pki.root_pem], at=now - datetime.timedelta(days=40))[0]
        self.assertTrue(report.ok, report.errors)
        self.assertFalse(report.expired)

    # -- (d) revocation list ------------------------------------------------
    def test_crl_lists_revoked_serial(self):
        revoked = self.pki.person("principal")
        kept = self.pki.person("homeroom")
        when = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
        crl = self.pki.make_crl([(revoked, when, x509.ReasonFlags.key_compromise)])
        self.assertTrue(is_revoked(revoked, crl, self.pki.intermediate.cert))
        crl_pem = x509.load_der_x509_crl(crl).public_bytes(serialization.Encoding.PEM)
        self.assertTrue(is_revoked(revoked.cert, crl_pem))
        self.assertFalse(is_revoked(kept, crl))
        entry = pf.revocation_entry(revoked, crl)
        self.assertEqual(entry.serial_number, revoked.serial_number)
        self.assertEqual(
            entry.extensions.get_extension_for_class(x509.CRLReason).value.reason, x509.ReasonFlags.key_compromise
        )
        # the PKI's default CRL is empty and signed by the intermediate
        self.assertFalse(is_revoked(revoked, self.pki.crl_der, self.pki.intermediate.cert))
        # a CRL from another CA is refused
        with self.assertRaises(ValueError):
            is_revoked(revoked, self.pki.root_crl_der)
