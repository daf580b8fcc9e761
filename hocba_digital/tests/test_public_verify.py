import re

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..controllers import verify
from .signing_common import SigningCase

TIMEOUT = 120


@tagged("post_install", "-at_install")
class TestPublicVerify(HttpCase, SigningCase):
    """/hocba/verify (upload) and /hocba/verify/<document_id> (the QR link),
    without login."""

    def setUp(self):
        super().setUp()
        # the pages are read in English; a demo database shows Vietnamese
        self.opener.cookies.set("frontend_lang", "en_US")
        verify.RATE_LIMIT.clear()
        self.addCleanup(verify.RATE_LIMIT.clear)

    # helpers -------------------------------------------------------------
    def csrf(self):
        page = self.url_open("/hocba/verify", timeout=TIMEOUT)
        self.assertEqual(page.status_code, 200)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        self.assertTrue(found, "the form carries a csrf token")
        return found.group(1)

    def upload(self, content, filename="hocba.pdf", mimetype="application/pdf"):
        return self.url_open(
            "/hocba/verify",
            data={"csrf_token": self.csrf()},
            files={"document": (filename, content, mimetype)},
            timeout=TIMEOUT,
        )

    def logs(self):
        return self.env["hocba.access.log"].sudo().search([("kind", "=", "verify")])

    def assertNoPersonalId(self, response):
        personal_id = self.student_a.sudo().personal_id
        self.assertTrue(personal_id)
        self.assertNotIn(personal_id, response.text)
        self.assertNotIn(personal_id[-6:], response.text)

    def assertVerdict(self, response, verdict):
        self.assertEqual(response.status_code, 200, response.text[-2000:])
        self.assertIn('data-verdict="%s"' % verdict, response.text)

    # tests ---------------------------------------------------------------
    def test_form_is_public(self):
        response = self.url_open("/hocba/verify")
        self.assertEqual(response.status_code, 200)
        self.assertIn('enctype="multipart/form-data"', response.text)
        self.assertIn('name="viewport"', response.text)
        self.assertIn('name="document"', response.text)

    def test_genuine_and_tampered_uploads(self):
        version = self.sign_all()
        xml, pdf = self.files(version)
        before = len(self.logs())
        signers = set(version.signature_ids.mapped("signer_name"))
        self.assertTrue({"Lê Thị Hoa", "Phạm Văn Nam", "Đỗ Thị Hạnh"} <= signers)
        for content, filename, mimetype in (
            (pdf, "hocba.pdf", "application/pdf"),
            (xml, "hocba.xml", "application/xml"),
        ):
            response = self.upload(content, filename, mimetype)
            self.assertVerdict(response, "valid")
            self.assertIn("Genuine", response.text)
            self.assertIn(self.student_a.name, response.text)
            for name in signers:
                self.assertIn(name, response.text, filename)
            self.assertNoPersonalId(response)
            self.assertIn('data-state="current"', response.text)
        tampered = xml.replace("Tiến bộ tốt.".encode(), "Tiến bộ tốt!".encode(), 1)
        self.assertNotEqual(tampered, xml)
        response = self.upload(tampered, "hocba.xml", "application/xml")
        self.assertVerdict(response, "invalid")
        self.assertIn("Not valid", response.text)
        self.assertNoPersonalId(response)
        logs = self.logs()
        self.assertEqual(len(logs) - before, 3)
        self.assertEqual(sorted(logs[:3].mapped("verdict")), ["invalid", "valid", "valid"])
        self.assertEqual(logs[:3].version_id, version)
        self.assertTrue(all(log.remote_addr and log.file_sha256 for log in logs[:3]))

    def test_qr_link_current_then_superseded(self):
        first = self.sign_all()
        before = len(self.logs())
        response = self.url_open("/hocba/verify/%s" % first.document_id, timeout=TIMEOUT)
        self.assertVerdict(response, "valid")
        self.assertIn('data-state="current"', response.text)
        for name in set(first.signature_ids.mapped("signer_name")):
            self.assertIn(name, response.text)
        self.assertNoPersonalId(response)
        self.assertEqual(len(self.logs()) - before, 1)
        self.assertEqual(self.logs()[0].version_id, first)
        # a correction issues version 2; version 1 still verifies but is superseded
        self.transcript_a.with_user(self.home).action_request_correction("Nhận xét môn Tiếng Anh bị nhầm.")
        self.transcript_a.with_user(self.principal).action_open_correction()
        second = self.transcript_a.current_version_id
        self.result_english_a.with_user(self.subj).comment = "Tiến bộ rõ rệt."
        self.sign(self.subj)
        self.sign(self.home)
        self.sign(self.principal)
        self.sign(self.clerk, purpose="seal")
        self.assertEqual((first.state, second.state), ("superseded", "issued"))
        response = self.url_open("/hocba/verify/%s" % first.document_id, timeout=TIMEOUT)
        self.assertVerdict(response, "valid")
        self.assertIn('data-state="superseded"', response.text)
        self.assertIn("replaced on", response.text)
        self.assertIn('href="/hocba/verify/%s"' % second.document_id, response.text)
        response = self.url_open("/hocba/verify/%s" % second.document_id, timeout=TIMEOUT)
        self.assertVerdict(response, "valid")
        self.assertIn('data-state="current"', response.text)
        self.assertEqual(len(self.logs()) - before, 3)

    def test_unknown_document_is_404(self):
        response = self.url_open("/hocba/verify/00000000-0000-0000-0000-000000000000")
        self.assertEqual(response.status_code, 404)
        self.assertIn("Unknown transcript", response.text)
        response = self.url_open("/hocba/verify/%3Cscript%3E")
        self.assertEqual(response.status_code, 404)

    @mute_logger("odoo.http", "pyhanko", "pyhanko.pdf_utils.reader")
    def test_hostile_uploads_get_a_clear_error(self):
        self.env["ir.config_parameter"].sudo().set_param("hocba_digital.verify_max_bytes", 4096)
        cases = [
            (b"just some text\n", "notes.txt", "text/plain", (400,), "neither a PDF nor an XML"),
            (b"", "empty.pdf", "application/pdf", (400,), "empty"),
            (b"%PDF-1.7\n" + b"0" * 8192 + b"\n%%EOF\n", "big.pdf", "application/pdf", (413,), "too large"),
            (
                b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>',
                "evil.xml",
                "application/xml",
                (200, 400),
                "Could not be read",
            ),
            (
                b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<<",
                "truncated.pdf",
                "application/pdf",
                (200, 400),
                "Could not be read",
            ),
            (
                b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 9\ngarbage\n"
                b"trailer\n<< /Root 1 0 R /Size 99 >>\nstartxref\n12345\n%%EOF\n",
                "broken-xref.pdf",
                "application/pdf",
                (200, 400),
                None,
            ),
            (b"<hocba><unclosed>", "cut.xml", "text/xml", (200, 400), "Could not be read"),
        ]
        for content, filename, mimetype, statuses, text in cases:
            response = self.upload(content, filename, mimetype)
            self.assertIn(response.status_code, statuses, filename)
            self.assertNotIn("root:", response.text, filename)
            self.assertNotIn("Traceback", response.text, filename)
            if text:
                self.assertIn(text, response.text, filename)
            if response.status_code == 200:
                self.assertRegex(response.text, 'data-verdict="(unreadable|invalid)"', filename)

    def test_rate_limit(self):
        self.env["ir.config_parameter"].sudo().set_param("hocba_digital.verify_per_minute", 3)
        for _i in range(3):
            self.assertEqual(self.url_open("/hocba/verify/unknown-id").status_code, 404)
        response = self.url_open("/hocba/verify/unknown-id")
        self.assertEqual(response.status_code, 429)
        self.assertIn("Too many verifications", response.text)
        response = self.url_open(
            "/hocba/verify", data={"csrf_token": self.csrf()}, files={"document": ("x.xml", b"<x/>", "text/xml")}
        )
        self.assertEqual(response.status_code, 429)
