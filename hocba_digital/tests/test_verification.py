"""verify_document: one report for a transcript PDF or XML (pure layer, no database).

The documents are real: the profile's XML signed tier by tier with XAdES,
and a PAdES PDF that embeds it.
"""

import datetime
import json

from cryptography import x509
from lxml import etree

from odoo.tests import BaseCase, tagged

from ..lib.documents import transcript_layout, xml_profile
from ..lib.sandbox import pki_factory as pf
from ..lib.sandbox import pki_responders as pr
from ..lib.signing import chain as signing_chain
from ..lib.signing import pades, verification, xades
from . import test_xml_profile as xml_tests
from .crypto_tools import make_pdf, quiet

UTC = datetime.timezone.utc
NS = "{urn:hocba-digital:transcript:1.0}"
PEOPLE = [
    pf.Person("toan", "Nguyễn Văn Toán", "CCCD:001085000001", "subject_teacher"),
    pf.Person("tv", "Đỗ Thị Vân", "CCCD:001185000004", "subject_teacher"),
    pf.Person("homeroom", "Trần Thị Lan", "CCCD:001185000002", "homeroom_teacher"),
    pf.Person("principal", "Lê Văn Hiệu", "CCCD:001080000003", "principal"),
]
SUBJECTS = [("TOAN", "toan"), ("TV", "tv")]
PERSONAL_ID = "079316001234"  # of grade4_transcript(): must never reach a report


def _signer(pki, key):
    issued = pki.seal if key == "seal" else pki.person(key)
    return xades.KeySigner(issued.key, issued.cert, [pki.intermediate.cert])


def sign_xml(pki, tiers=signing_chain.ORDER, when=None, subjects=None):
    """The profile's XML signed as the signing service does: subject blocks first,
    then ``data`` plus every earlier wrapper."""
    subjects = SUBJECTS if subjects is None else subjects
    doc = xml_profile.build(xml_tests.grade4_transcript())
    wrappers = []
    options = {"parent": NS + "Signatures", "wrapper_tag": NS + "Signature", "signing_time": when}
    if signing_chain.SUBJECT in tiers:
        for code, key in subjects:
            wrapper = signing_chain.wrapper_id(signing_chain.SUBJECT, code)
            doc = xades.sign_tier(
                doc,
                _signer(pki, key),
                signing_chain.references(signing_chain.SUBJECT, code),
                wrapper_id=wrapper,
                tier=signing_chain.SUBJECT,
                **options,
            )
            root = etree.fromstring(doc)  # the profile names the subject on the wrapper
            root.xpath("//*[@Id=$i]", i=wrapper)[0].set("subject", code)
            doc = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            wrappers.append(wrapper)
    for tier, key in [
        (signing_chain.HOMEROOM, "homeroom"),
        (signing_chain.PRINCIPAL, "principal"),
        (signing_chain.SEAL, "seal"),
    ]:
        if tier in tiers:
            wrapper = signing_chain.wrapper_id(tier)
            doc = xades.sign_tier(
                doc,
                _signer(pki, key),
                signing_chain.references(tier, None, wrappers),
                wrapper_id=wrapper,
                tier=tier,
                **options,
            )
            wrappers.append(wrapper)
    return doc


def sign_pdf(pki, xml=None, tiers=(signing_chain.HOMEROOM, signing_chain.PRINCIPAL, signing_chain.SEAL)):
    attachments = [{"name": "hocba.xml", "data": xml}] if xml else []
    pdf = pades.prepare(make_pdf(), transcript_layout.SIGNATURE_FIELDS, attachments)
    keys = {signing_chain.HOMEROOM: "homeroom", signing_chain.PRINCIPAL: "principal", signing_chain.SEAL: "seal"}
    for tier in tiers:
        pdf = pades.sign(
            pdf,
            signing_chain.PDF_FIELDS[tier],
            _signer(pki, keys[tier]),
            reason="Ký học bạ số",
            location="Hà Nội",
            lock=tier == signing_chain.SEAL,
        )
    return pdf


@tagged("post_install", "-at_install")
class TestVerification(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = datetime.datetime.now(UTC)
        cls.signed_at = (cls.now - datetime.timedelta(days=2)).replace(microsecond=0)
        cls.pki = pf.build_pki(PEOPLE, prefix="TEST", not_before=cls.now - datetime.timedelta(days=30))
        cls.xml = sign_xml(cls.pki, when=cls.signed_at)
        cls.pdf = sign_pdf(cls.pki, cls.xml)

    def verify(self, data, roots=None, **kwargs):
        report = verification.verify_document(data, roots or [self.pki.root_pem], **kwargs)
        dumped = json.dumps(report, ensure_ascii=False)  # JSON-serialisable, always
        self.assertNotIn(PERSONAL_ID, dumped)
        return report

    def by_id(self, report):
        return {s["id"]: s for s in report["signatures"]}

    def assertRefused(self, report, *words):
        self.assertFalse(report["verdict"], report)
        self.assertTrue(report["errors"], report)
        self.assertTrue(report["verdict_text"].startswith("Not valid"), report["verdict_text"])
        for word in words:
            self.assertIn(word, " ".join(report["errors"]))

    # -- XML ------------------------------------------------------------------
    def test_genuine_xml(self):
        report = self.verify(self.xml)
        self.assertTrue(report["verdict"], report)
        self.assertEqual(report["kind"], "xml")
        self.assertTrue(report["verdict_text"].startswith("Valid"), report["verdict_text"])
        self.assertEqual(
            [s["id"] for s in report["signatures"]],
            ["sig-subject-TOAN", "sig-subject-TV", "sig-homeroom", "sig-principal", "sig-seal"],
        )
        self.assertEqual(
            [s["tier"] for s in report["signatures"]],
            ["subject_teacher"] * 2 + ["homeroom_teacher", "principal", "seal"],
        )
        for sig in report["signatures"]:
            self.assertTrue(sig["intact"] and sig["chain_ok"] and sig["ok"], sig)
            self.assertEqual((sig["revocation"], sig["timestamp"], sig["errors"]), ("unknown", False, []))
            self.assertEqual(sig["time"], self.signed_at.isoformat())
        self.assertEqual(self.by_id(report)["sig-homeroom"]["signer"], "Trần Thị Lan")
        self.assertEqual(
            self.by_id(report)["sig-principal"]["covers"],
            ["data", "sig-subject-TOAN", "sig-subject-TV", "sig-homeroom"],
        )
        self.assertEqual(
            (report["pupil_name"], report["school_year"], report["document_id"], report["version"]),
            ("Nguyễn Thị Ánh Dương", "2025-2026", "3b1f8a52-7c1e-4d2a-9a57-0c6f1e2d4b11", 2),
        )
        self.assertEqual((report["missing_tiers"], report["errors"]), ([], []))
        # detected by content: a byte-order mark and blank lines change nothing
        self.assertTrue(self.verify(b"\xef\xbb\xbf\n  " + self.xml.split(b"?>", 1)[1].lstrip())["verdict"])

    def test_one_byte_changed_in_the_data(self):
        tampered = self.xml.replace("Chăm ngoan".encode(), "Chăm ngoaN".encode(), 1)
        self.assertEqual(len(tampered), len(self.xml))
        report = self.verify(tampered)
        self.assertFalse(report["verdict"])
        sigs = self.by_id(report)
        self.assertTrue(sigs["sig-subject-TOAN"]["intact"] and sigs["sig-subject-TV"]["ok"])
        for wrapper in ("sig-homeroom", "sig-principal", "sig-seal"):
            self.assertFalse(sigs[wrapper]["intact"], wrapper)
            self.assertIn("Digest mismatch", " ".join(sigs[wrapper]["errors"]))
            self.assertIn(wrapper, report["verdict_text"])
        self.assertNotIn("sig-subject-TOAN", report["verdict_text"])
        # inside the TOAN block: that subject teacher's signature breaks too, TV's stays
        root = etree.fromstring(self.xml)
        root.xpath("//*[@Id='subject-TOAN']//*[local-name()='Comment']")[0].text += "!"
        sigs = self.by_id(self.verify(etree.tostring(root)))
        self.assertFalse(sigs["sig-subject-TOAN"]["intact"])
        self.assertTrue(sigs["sig-subject-TV"]["ok"])

    def test_missing_tiers(self):
        without_seal = sign_xml(self.pki, tiers=signing_chain.ORDER[:3])
        report = self.verify(without_seal)
        self.assertFalse(report["verdict"])
        self.assertEqual(report["missing_tiers"], ["seal"])
        self.assertIn("missing tier(s): seal", report["verdict_text"])
        self.assertTrue(self.verify(without_seal, required_tiers=("homeroom_teacher", "principal"))["verdict"])
        # a subject teacher's signature is always required
        report = self.verify(sign_xml(self.pki, tiers=signing_chain.ORDER[1:]))
        self.assertEqual(report["missing_tiers"], ["subject_teacher"])
        self.assertFalse(report["verdict"])

    def test_reference_to_an_absent_id(self):
        root = etree.fromstring(self.xml)
        wrapper = root.xpath("//*[@Id='sig-subject-TV']")[0]
        wrapper.getparent().remove(wrapper)
        report = self.verify(etree.tostring(root))
        self.assertFalse(report["verdict"])
        homeroom = self.by_id(report)["sig-homeroom"]
        self.assertIn("covers #sig-subject-TV, which is absent in the document", homeroom["errors"])
        self.assertTrue(self.by_id(report)["sig-subject-TOAN"]["ok"])

    def test_later_tier_must_cover_data_and_earlier_wrappers(self):
        doc = xml_profile.build(xml_tests.grade4_transcript())
        options = {"parent": NS + "Signatures", "wrapper_tag": NS + "Signature"}
        doc = xades.sign_tier(
            doc, _signer(self.pki, "toan"), ["subject-TOAN"], wrapper_id="s1", tier="subject_teacher", **options
        )
        doc = xades.sign_tier(
            doc, _signer(self.pki, "homeroom"), ["subject-TV"], wrapper_id="s2", tier="homeroom_teacher", **options
        )
        errors = self.by_id(self.verify(doc, required_tiers=("homeroom_teacher",)))["s2"]["errors"]
        self.assertIn("does not cover the transcript data (#data)", errors)
        self.assertIn("does not cover the earlier signature(s) s1", errors)

    def test_tier_attribute_must_match_the_signed_role(self):
        # nothing signs the last wrapper: its tier attribute alone proves nothing
        root = etree.fromstring(sign_xml(self.pki, tiers=signing_chain.ORDER[:3]))
        root.xpath("//*[@Id='sig-principal']")[0].set("tier", "seal")
        report = self.verify(etree.tostring(root))
        self.assertFalse(report["verdict"])
        principal = self.by_id(report)["sig-principal"]
        self.assertTrue(principal["intact"] and principal["chain_ok"])
        self.assertIn("its signed role 'principal' does not match its tier 'seal'", principal["errors"])
        # the signing service's Vietnamese role names and "tier:detail" are accepted
        doc = xml_profile.build(xml_tests.grade4_transcript())
        options = {"parent": NS + "Signatures", "wrapper_tag": NS + "Signature"}
        doc = xades.sign_tier(
            doc,
            _signer(self.pki, "toan"),
            ["subject-TOAN"],
            wrapper_id="s1",
            tier="subject_teacher",
            claimed_role="subject_teacher:TOAN",
            **options,
        )
        doc = xades.sign_tier(
            doc,
            _signer(self.pki, "homeroom"),
            ["data", "s1"],
            wrapper_id="s2",
            tier="homeroom_teacher",
            claimed_role=signing_chain.CLAIMED_ROLES["homeroom_teacher"],
            **options,
        )
        self.assertTrue(self.verify(doc, required_tiers=("homeroom_teacher",))["verdict"])

    def test_revocation_at_signing_time(self):
        principal = self.pki.person("principal")
        crl = self.pki.make_crl(
            [(principal, self.signed_at - datetime.timedelta(days=1), x509.ReasonFlags.key_compromise)]
        )
        report = self.verify(self.xml, revocation=verification.crl_revocation(crl))
        self.assertFalse(report["verdict"])
        sigs = self.by_id(report)
        self.assertEqual(sigs["sig-principal"]["revocation"], "revoked")
        self.assertFalse(sigs["sig-principal"]["ok"])
        self.assertIn("sig-principal", report["verdict_text"])
        self.assertIn("revoked", report["verdict_text"])
        self.assertEqual({s["revocation"] for i, s in sigs.items() if i != "sig-principal"}, {"good"})
        # revoked after it signed: the signature stays good
        crl = self.pki.make_crl([(principal, self.signed_at + datetime.timedelta(hours=1))])
        report = self.verify(self.xml, revocation=verification.crl_revocation(crl))
        self.assertTrue(report["verdict"], report)
        self.assertEqual({s["revocation"] for s in report["signatures"]}, {"good"})
        # a CRL of another CA says nothing; a failing source is a warning, not a failure
        other = pf.build_pki([], prefix="OTHER", key_type="ec")
        report = self.verify(self.xml, revocation=verification.crl_revocation(other.crl_der))
        self.assertEqual({s["revocation"] for s in report["signatures"]}, {"unknown"})

        def broken(cert, issuer, when):
            raise OSError("responder down")

        report = self.verify(self.xml, revocation=broken)
        self.assertTrue(report["verdict"], report)
        self.assertIn("revocation check failed: responder down", report["signatures"][0]["warnings"])

    def test_revocation_through_ocsp_sandbox(self):
        with pr.PkiSandbox.with_pki(PEOPLE, prefix="TEST", not_before=self.now - datetime.timedelta(days=30)) as box:
            xml = sign_xml(box.pki, when=self.signed_at)
            roots = [box.pki.root_pem]
            check = verification.ocsp_revocation(timeout=5)  # the URL from each certificate's AIA
            report = self.verify(xml, roots, revocation=check)
            self.assertTrue(report["verdict"], report)
            self.assertEqual({s["revocation"] for s in report["signatures"]}, {"good"})
            box.revoke(
                (box.pki.person("principal"), self.signed_at - datetime.timedelta(hours=1)),
                (box.pki.person("homeroom"), self.signed_at + datetime.timedelta(hours=1)),
            )
            report = self.verify(xml, roots, revocation=check)
            sigs = self.by_id(report)
            self.assertFalse(report["verdict"])
            self.assertEqual(
                (sigs["sig-principal"]["revocation"], sigs["sig-homeroom"]["revocation"]), ("revoked", "good")
            )
            self.assertGreaterEqual(box.counts["ocsp"], 10)
            box.faults.set("error_500")
            report = self.verify(xml, roots, revocation=check)
            self.assertEqual({s["revocation"] for s in report["signatures"]}, {"unknown"})
            self.assertTrue(report["verdict"], report)

    def test_untrusted_root(self):
        other = pf.build_pki([], prefix="OTHER")
        report = self.verify(self.xml, [other.root_pem])
        self.assertFalse(report["verdict"])
        self.assertTrue(all(s["intact"] and not s["chain_ok"] for s in report["signatures"]))
        self.assertIn("not trusted", report["verdict_text"])
        with quiet():
            report = self.verify(self.pdf, [other.root.cert])
        self.assertFalse(report["verdict"])
        self.assertTrue(all(s["intact"] and not s["chain_ok"] for s in report["signatures"]))

    def test_bad_input_gives_an_error_entry(self):
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><HocBa>&lol2;</HocBa>'
        )
        external = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
        cases = [
            (b"", "empty"),
            (b"   \n", "empty"),
            (b"\x00\x01garbage\xff", "neither a PDF nor an XML"),
            (self.pdf[: len(self.pdf) // 2], "truncated"),
            (b"%PDF-1.7\n", "truncated"),
            (bomb, "DTD"),
            (external, "DTD"),
            (b"<HocBa><unclosed></HocBa>", "not well-formed"),
            ("<HocBa/>", "bytes"),
            (None, "bytes"),
            (12, "bytes"),
        ]
        for data, word in cases:
            with self.subTest(data=repr(data)[:40]), quiet():
                report = self.verify(data)
                self.assertRefused(report, word)
                self.assertEqual(report["signatures"], [])
        # readable XML, but not a transcript and unsigned
        report = self.verify(b"<note>hello</note>")
        self.assertEqual(report["kind"], "xml")
        self.assertRefused(report, "not a transcript")
        self.assertIn("carries no signature", report["verdict_text"])
        # a PDF with a broken body after a valid header
        with quiet():
            self.assertRefused(self.verify(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
        # unusable trust anchors
        self.assertRefused(verification.verify_document(self.xml, [b"not a certificate"]), "trusted roots")
        self.assertRefused(verification.verify_document(self.xml, []), "no trusted root")

    # -- PDF ------------------------------------------------------------------
    def test_genuine_pdf_with_embedded_xml(self):
        report = self.verify(self.pdf)
        self.assertTrue(report["verdict"], report)
        self.assertEqual(report["kind"], "pdf")
        self.assertEqual(
            [(s["id"], s["tier"]) for s in report["signatures"]],
            [("sig_homeroom", "homeroom_teacher"), ("sig_principal", "principal"), ("sig_seal", "seal")],
        )
        for sig in report["signatures"]:
            self.assertTrue(sig["intact"] and sig["chain_ok"] and sig["ok"], sig)
            self.assertTrue(sig["time"])
        embedded = report["embedded_xml"]
        self.assertEqual((embedded["file"], embedded["kind"], embedded["verdict"]), ("hocba.xml", "xml", True))
        self.assertEqual(len(embedded["signatures"]), 5)
        self.assertEqual(report["pupil_name"], "Nguyễn Thị Ánh Dương")
        self.assertEqual(report["document_id"], "3b1f8a52-7c1e-4d2a-9a57-0c6f1e2d4b11")
        self.assertEqual(report["unsigned_fields"], [])

    def test_pdf_as_the_signing_service_makes_it(self):
        # the XML embedded when the homeroom teacher signs: principal and seal sign the PDF only
        xml = sign_xml(self.pki, tiers=signing_chain.ORDER[:2])
        report = self.verify(sign_pdf(self.pki, xml))
        self.assertTrue(report["verdict"], report)
        self.assertEqual(report["embedded_xml"]["missing_tiers"], [])
        # without its subject teachers the embedded XML is not enough
        report = self.verify(sign_pdf(self.pki, sign_xml(self.pki, tiers=signing_chain.ORDER[1:2])))
        self.assertFalse(report["verdict"])
        self.assertEqual(report["missing_tiers"], ["subject_teacher"])

    def test_pdf_needs_its_embedded_xml_valid(self):
        tampered = self.xml.replace("Chăm ngoan".encode(), "Chăm ngoaN".encode(), 1)
        report = self.verify(sign_pdf(self.pki, tampered))
        self.assertFalse(report["verdict"])
        self.assertTrue(all(s["ok"] for s in report["signatures"]))  # the PDF itself is fine
        self.assertFalse(report["embedded_xml"]["verdict"])
        self.assertIn("embedded XML hocba.xml is not valid", report["verdict_text"])

    def test_pdf_byte_changed(self):
        index = self.pdf.index(b"ReportLab")
        tampered = self.pdf[:index] + b"ReportLaX" + self.pdf[index + 9 :]
        with quiet():
            report = self.verify(tampered)
        self.assertFalse(report["verdict"])
        self.assertTrue(all(not s["intact"] for s in report["signatures"]), report)
        self.assertIn("sig_seal", report["verdict_text"])

    def test_pdf_without_xml_and_missing_seal(self):
        report = self.verify(sign_pdf(self.pki, tiers=(signing_chain.HOMEROOM, signing_chain.PRINCIPAL)))
        self.assertFalse(report["verdict"])
        self.assertIsNone(report.get("embedded_xml"))
        self.assertEqual(report["missing_tiers"], ["seal"])
        self.assertEqual(report["unsigned_fields"], ["sig_seal"])
        self.assertIsNone(report["pupil_name"])

    def test_pdf_revocation_at_signing_time(self):
        pdf = sign_pdf(self.pki)
        principal = self.pki.person("principal")
        now = datetime.datetime.now(UTC)
        before = self.pki.make_crl([(principal, now - datetime.timedelta(hours=1))])
        report = self.verify(pdf, revocation=verification.crl_revocation(before))
        self.assertFalse(report["verdict"])
        self.assertEqual(self.by_id(report)["sig_principal"]["revocation"], "revoked")
        self.assertEqual(self.by_id(report)["sig_seal"]["revocation"], "good")
        after = self.pki.make_crl([(principal, now + datetime.timedelta(hours=1))])
        report = self.verify(pdf, revocation=verification.crl_revocation(after))
        self.assertTrue(report["verdict"], report)
