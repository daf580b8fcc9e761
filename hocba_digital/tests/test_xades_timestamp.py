"""XAdES-T signature time-stamps (lib/xades_t.py) against the local PKI sandbox's TSA.

Pure layer, no database.  Each core signature is also checked with xmlsec1.
"""

import datetime
import hashlib
from base64 import b64decode, b64encode

from asn1crypto import cms, tsp
from lxml import etree

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import pki_factory as pf
from ..lib.signing import xades, xades_t, xades_verify
from .crypto_tools import DOCUMENT, DS, PEOPLE, XADES, SigningTools, pkcs12_signer, pki_sandbox

UTC = datetime.timezone.utc
NS = {"ds": DS, "xades": XADES}
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def _stamp_of(doc, signature_id):
    root = etree.fromstring(doc)
    return root.xpath("//ds:Signature[@Id=$i]/" + xades_t._TS_PATH, namespaces=NS, i=signature_id)


@tagged("post_install", "-at_install")
class TestXadesTimestamp(SigningTools, BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = pki_sandbox(cls, PEOPLE[:2])
        cls.pki = cls.sandbox.pki
        cls.make_tmp("hocba-xades-t-")
        cls.write_pki(cls.pki)
        # tier 1, its time-stamp, then tier 2 over it (the wrapper with the stamp is covered)
        cls.tier1 = xades.sign_tier(
            DOCUMENT, pkcs12_signer(cls.pki, "toan"), ["#subject-TOAN"], wrapper_id="sig-1", tier="subject_teacher"
        )
        cls.stamped1 = xades_t.add_signature_timestamp(cls.tier1, "sig-1-ds", cls.sandbox.tsa_url)
        cls.signed = xades.sign_tier(
            cls.stamped1,
            pkcs12_signer(cls.pki, "homeroom"),
            ["#data", "#sig-1"],
            wrapper_id="sig-2",
            tier="homeroom_teacher",
        )

    def setUp(self):
        super().setUp()
        self.addCleanup(self.sandbox.faults.clear)

    def assertXmlsec1(self, doc, signature_id, references):
        returncode, out = self.xmlsec1(doc, signature_id)
        self.assertEqual(returncode, 0, out)
        self.assertIn("SignedInfo References (ok/all): %d/%d" % (references, references), out)

    def stamps(self, doc, roots=None):
        return xades_t.signature_timestamps(doc, roots or [self.pki.root_pem])

    # -- the good path -------------------------------------------------------
    def test_timestamped_chain_verifies(self):
        reports = xades_verify.verify(self.signed, [self.pki.root_pem])
        self.assertEqual([r.signature_id for r in reports], ["sig-1-ds", "sig-2-ds"])
        for report in reports:
            self.assertTrue(report.ok, report.errors)
        self.assertXmlsec1(self.signed, "sig-1-ds", 3)
        self.assertXmlsec1(self.signed, "sig-2-ds", 4)
        stamps = self.stamps(self.signed)
        self.assertEqual(list(stamps), ["sig-1-ds"])
        self.assertTrue(stamps["sig-1-ds"]["ok"], stamps["sig-1-ds"]["errors"])
        self.assertEqual(stamps["sig-1-ds"]["errors"], [])
        age = datetime.datetime.now(UTC) - stamps["sig-1-ds"]["time"]
        self.assertLess(abs(age.total_seconds()), 60)

    def test_timestamp_shape_and_imprint(self):
        # only an unsigned property was added: the signed bytes are unchanged
        self.assertTrue(xades_verify.verify(self.stamped1, [self.pki.root_pem])[0].ok)
        self.assertXmlsec1(self.stamped1, "sig-1-ds", 3)
        (stamp,) = _stamp_of(self.signed, "sig-1-ds")
        self.assertEqual(stamp.getparent().getparent().getparent().tag, "{%s}QualifyingProperties" % XADES)
        self.assertEqual(stamp.xpath("ds:CanonicalizationMethod/@Algorithm", namespaces=NS), [EXC_C14N])
        token = cms.ContentInfo.load(b64decode(stamp.findtext("xades:EncapsulatedTimeStamp", namespaces=NS)))
        imprint = token["content"]["encap_content_info"]["content"].parsed["message_imprint"]
        self.assertEqual(imprint["hash_algorithm"]["algorithm"].native, "sha256")
        value = etree.fromstring(self.signed).xpath("//ds:Signature[@Id='sig-1-ds']/ds:SignatureValue", namespaces=NS)[
            0
        ]
        c14n = etree.tostring(value, method="c14n", exclusive=True)
        self.assertTrue(c14n.startswith(b'<ds:SignatureValue xmlns:ds="%s"' % DS.encode()))
        self.assertEqual(imprint["hashed_message"].native, hashlib.sha256(c14n).digest())

    def test_last_tier_timestamped_too(self):
        doc = xades_t.add_signature_timestamp(self.signed, "sig-2-ds", self.sandbox.tsa_url)
        self.assertTrue(all(r.ok for r in xades_verify.verify(doc, [self.pki.root_pem])))
        self.assertXmlsec1(doc, "sig-2-ds", 4)
        stamps = self.stamps(doc)
        self.assertEqual(sorted(stamps), ["sig-1-ds", "sig-2-ds"])
        self.assertTrue(all(s["ok"] for s in stamps.values()), stamps)

    def test_covered_signature_is_refused(self):
        # sig-2 covers the sig-1 wrapper: a new unsigned property would break it
        with self.assertRaisesRegex(ValueError, "already covered by sig-2-ds"):
            xades_t.add_signature_timestamp(self.signed, "sig-1-ds", self.sandbox.tsa_url)
        with self.assertRaises(ValueError):
            xades_t.add_signature_timestamp(self.signed, "sig-9-ds", self.sandbox.tsa_url)

    # -- what a check catches ---------------------------------------------
    def test_tampered_token_is_not_ok(self):
        root = etree.fromstring(self.signed)
        node = root.xpath("//xades:EncapsulatedTimeStamp", namespaces=NS)[0]
        der = b64decode(node.text)
        info_der = cms.ContentInfo.load(der)["content"]["encap_content_info"]["content"].contents
        info = tsp.TSTInfo.load(info_der)
        info["accuracy"] = {"seconds": 2}  # same length, another content
        changed = info.dump(force=True)
        self.assertEqual(len(changed), len(info_der))
        node.text = b64encode(der.replace(info_der, changed)).decode()
        result = self.stamps(etree.tostring(root))["sig-1-ds"]
        self.assertFalse(result["ok"])
        self.assertEqual(result["errors"], ["the token's content does not match the digest its TSA signed"])
        # a changed CMS signature value
        signature = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
        node.text = b64encode(der.replace(signature, bytes([signature[0] ^ 1]) + signature[1:])).decode()
        result = self.stamps(etree.tostring(root))["sig-1-ds"]
        self.assertFalse(result["ok"])
        self.assertEqual(result["errors"], ["the TSA's CMS signature is not valid"])
        # unreadable token
        node.text = b64encode(b"not a token").decode()
        result = self.stamps(etree.tostring(root))["sig-1-ds"]
        self.assertFalse(result["ok"])
        self.assertIn("unreadable", result["errors"][0])

    def test_moved_timestamp_is_not_ok(self):
        root = etree.fromstring(self.signed)
        (stamp,) = root.xpath("//ds:Signature[@Id='sig-1-ds']/" + xades_t._TS_PATH, namespaces=NS)
        props = root.xpath("//ds:Signature[@Id='sig-2-ds']/ds:Object/xades:QualifyingProperties", namespaces=NS)[0]
        usp = etree.SubElement(
            etree.SubElement(props, "{%s}UnsignedProperties" % XADES), "{%s}UnsignedSignatureProperties" % XADES
        )
        usp.append(stamp)  # moved away from sig-1 to sig-2
        with self.assertLogs("pyhanko.sign.validation.generic_cms", "WARNING"):  # "imprint is ... expected ..."
            stamps = self.stamps(etree.tostring(root))
        self.assertEqual(list(stamps), ["sig-2-ds"])
        self.assertFalse(stamps["sig-2-ds"]["ok"])
        self.assertEqual(stamps["sig-2-ds"]["errors"], ["message imprint does not match this SignatureValue"])

    def test_untrusted_tsa_is_not_ok(self):
        other = pf.build_pki([], prefix="TEST", base_url="http://127.0.0.1:8198")
        with self.assertLogs("pyhanko.sign.validation.generic_cms", "WARNING"):  # "Failed to build path"
            result = self.stamps(self.signed, [other.root_pem])["sig-1-ds"]
        self.assertFalse(result["ok"])
        self.assertTrue(any("not trusted" in e for e in result["errors"]), result["errors"])

    # -- the TSA failing ---------------------------------------------------
    def test_tsa_faults_raise(self):
        self.sandbox.timeout_delay = 0.5  # "timeout": held briefly, then closed without an answer
        for fault, error in [
            ("error_500", xades_t.TsaRefused),
            ("timeout", xades_t.TsaUnreachable),
            ("drop", xades_t.TsaUnreachable),
            ("bad_body", xades_t.TsaBadAnswer),
        ]:
            self.sandbox.faults.set(fault, "tsa")
            with self.subTest(fault=fault), self.assertRaises(error):
                xades_t.add_signature_timestamp(self.tier1, "sig-1-ds", self.sandbox.tsa_url, timeout=5)
            self.assertTrue(issubclass(error, xades_t.XadesTimestampError))
        self.sandbox.faults.clear()
        with self.assertRaises(xades_t.TsaUnreachable):  # nothing listens there
            xades_t.add_signature_timestamp(self.tier1, "sig-1-ds", "http://127.0.0.1:9/tsa", timeout=5)

    def test_tsa_rejection_raises(self):
        # a TimeStampReq the TSA refuses (unaccepted policy) gives a PKIStatus rejection
        import requests

        class PolicySession:
            def post(self, url, data, **kw):
                request = tsp.TimeStampReq.load(data)
                request["req_policy"] = "1.2.3.4"
                timeout = kw.pop("timeout", 10)
                return requests.post(url, data=request.dump(force=True), timeout=timeout, **kw)

        with self.assertRaisesRegex(xades_t.TsaRefused, "rejection"):
            xades_t.add_signature_timestamp(self.tier1, "sig-1-ds", self.sandbox.tsa_url, session=PolicySession())
