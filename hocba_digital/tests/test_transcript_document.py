"""The printed transcript (QWeb PDF rendered from the XML's data), checked with poppler."""

import base64
import copy
import datetime
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from ..lib.documents import transcript_layout
from ..lib.documents import xml_profile as xp
from ..lib.signing import pades
from ..report.report_transcript_document import qr_code, qr_png
from .lib_tools import text_in_boxes
from .test_xml_profile import grade4_transcript

REPORT = "hocba_digital.action_report_transcript_document"
PUPIL = "Nguyễn Thị Mai Anh"
VERIFY_URL = "https://hocba.example.edu.vn/verify/3b1f8a52-7c1e-4d2a-9a57-0c6f1e2d4b11"
POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdfinfo", "pdfimages"))


def _ds_signature(common_name):
    """A ds:Signature carrying only a certificate of ``common_name`` (enough to read a name)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER))
    return (
        b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="xades-toan">'
        b"<ds:SignedInfo><ds:CanonicalizationMethod "
        b'Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod '
        b'Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>'
        b'<ds:Reference URI="#subject-TOAN"><ds:DigestMethod '
        b'Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        b"<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>"
        b"<ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data>"
        b"<ds:X509Certificate>" + der + b"</ds:X509Certificate></ds:X509Data>"
        b"</ds:KeyInfo></ds:Signature>"
    )


def sample_document(full_name=PUPIL, **extra):
    """A grade-4 transcript as the report gets it: parsed back from its XML."""
    data = grade4_transcript()
    data["pupil"]["full_name"] = full_name
    data["signatures"] = [
        {"id": "sig-toan", "tier": "subject_teacher", "subject": "TOAN", "content": _ds_signature("Phạm Văn Toàn")}
    ]
    xml = xp.build(data)
    doc = xp.parse(xml)
    doc.update(
        {
            "signature_blocks": {
                "homeroom_teacher": {"name": "Trần Thị Lan", "time": "2026-05-31T08:05:00+07:00"},
                "principal": {"name": "Lê Văn Hiệu", "time": datetime.datetime(2026, 6, 2, 9, 30)},
                "seal": {"name": "Trường Tiểu học Nguyễn Bỉnh Khiêm"},
            },
            "subject_signers": {"TV": "Đỗ Thị Ngọc Hà"},
            "verify_url": VERIFY_URL,
        }
    )
    doc.update(extra)
    return doc


def _nfc(text):
    return " ".join(unicodedata.normalize("NFC", text).split())


@tagged("post_install", "-at_install")
class TestTranscriptDocument(HttpCase):
    """An HttpCase (a TransactionCase whose HTTP requests share the test cursor):
    wkhtmltopdf fetches the report assets over HTTP, and with a plain
    TransactionCase that request waits for the bundle the test transaction has
    just created and not committed."""

    _sample_pdf = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sample_pdf = None
        cls.tmp = tempfile.mkdtemp(prefix="hocba_pdf_")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)

    @property
    def pdf(self):
        """The sample transcript, rendered once for the class."""
        if type(self)._sample_pdf is None:
            type(self)._sample_pdf = self._render([sample_document()])
        return type(self)._sample_pdf

    def _render(self, documents):
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(REPORT, res_ids=[], data={"documents": documents})
        )
        self.assertEqual(kind, "pdf")
        return pdf

    def _poppler(self, tool, pdf, *args, output=()):
        if not POPPLER:
            self.skipTest("poppler-utils not installed")
        path = os.path.join(self.tmp, "doc.pdf")
        with open(path, "wb") as handle:
            handle.write(pdf)
        return subprocess.run([tool, *args, path, *output], check=True, capture_output=True).stdout.decode("utf-8")

    def _text(self, pdf, *args):
        return self._poppler("pdftotext", pdf, *args, output=("-",))

    def _pages(self, pdf):
        return int(re.search(r"^Pages:\s+(\d+)", self._poppler("pdfinfo", pdf), re.M).group(1))

    # -- content -----------------------------------------------------------

    def test_pdf_holds_the_transcript(self):
        self.assertTrue(self.pdf.startswith(b"%PDF"))
        self.assertGreater(len(self.pdf), 5000)
        text = _nfc(self._text(self.pdf))
        data = grade4_transcript()
        for words in (
            PUPIL,
            "2025-2026",
            "Trường Tiểu học Nguyễn Bỉnh Khiêm",
            "HỌC BẠ",
            "079316001234",
            "Nữ",
            "02/03/2016",
            "Việt Nam",
            "Nguyễn Văn Đức",
            "1. Các môn học và hoạt động giáo dục",
            "2. Những phẩm chất chủ yếu",
            "3. Những năng lực cốt lõi",
            "4. Đánh giá kết quả giáo dục",
            "5. Khen thưởng",
            "Hoàn thành chương trình lớp 4",
            "Hoàn thành tốt (HTT)",
            "Tiêu biểu môn Toán",
            "Giải quyết vấn đề và sáng tạo",
            "Em học tốt, tích cực phát biểu.",
            "GIÁO VIÊN CHỦ NHIỆM",
            "HIỆU TRƯỞNG",
            "Trần Thị Lan",
            "Ngày ký: 31/05/2026 08:05",
            "Lê Văn Hiệu",
            "Ngày ký: 02/06/2026 09:30",
            "Phiên bản: 2",
            data["header"]["document_id"],
        ):
            self.assertIn(words, text)
        for subject in data["subjects"]:
            self.assertIn(subject["name"], text)
        # subject teachers who signed: one given, one read from its certificate
        self.assertIn("Tiếng Việt: Đỗ Thị Ngọc Hà", text)
        self.assertIn("Toán: Phạm Văn Toàn", text)
        # end-of-year score of a tested subject: "Khoa học H 7"
        self.assertRegex(text, r"Khoa học H 7 ")

    def test_qr_code_of_the_verify_link(self):
        text = _nfc(self._text(self.pdf))
        self.assertIn(VERIFY_URL, text)
        images = [line.split() for line in self._poppler("pdfimages", self.pdf, "-list").splitlines()[2:]]
        self.assertEqual(len(images), 1, images)
        self.assertEqual(int(images[0][0]), self._pages(self.pdf))  # on the last page
        png = qr_png(VERIFY_URL)
        self.assertTrue(png.startswith(b"\x89PNG"))
        # no QR decoder here: compare the printed modules with the encoder's
        # matrix for the link (the encoder is deterministic)
        from PIL import Image

        self._poppler("pdfimages", self.pdf, "-png", output=(os.path.join(self.tmp, "img"),))
        image = Image.open(os.path.join(self.tmp, "img-000.png")).convert("L")
        matrix = qr_code(VERIFY_URL).get_matrix()
        cell = image.size[0] / len(matrix)
        printed = [
            [image.getpixel((int((col + 0.5) * cell), int((row + 0.5) * cell))) < 128 for col in range(len(matrix))]
            for row in range(len(matrix))
        ]
        self.assertEqual(printed, matrix)
        decoder = shutil.which("zbarimg")
        if decoder:
            path = os.path.join(self.tmp, "qr.png")
            with open(path, "wb") as handle:
                handle.write(png)
            out = subprocess.run([decoder, "--raw", "-q", path], capture_output=True, check=True)
            self.assertEqual(out.stdout.decode().strip(), VERIFY_URL)

    def test_two_documents_two_transcripts(self):
        other = sample_document("Lò Văn Bình")
        pdf = self._render([sample_document(), other])
        text = _nfc(self._text(pdf))
        self.assertIn(PUPIL, text)
        self.assertIn("Lò Văn Bình", text)
        self.assertEqual(self._pages(pdf), 2 * self._pages(self.pdf))
        self.assertEqual(text.count("XÁC NHẬN"), 2)

    def test_without_data_refused(self):
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        with self.assertRaises(UserError):
            report._render_qweb_pdf(REPORT, res_ids=[], data={})

    # -- signature fields ----------------------------------------------------

    def test_signature_boxes_are_empty(self):
        long_doc = sample_document()
        long_doc["result"]["comment"] = "Em chăm ngoan, lễ phép, tích cực. " * 30
        long_doc["rewards"] = [{"kind": "other", "text": "Giải thưởng số %d cấp trường" % n} for n in range(25)]
        self.assertFalse(transcript_layout.render_options(long_doc)["results_on_last_page"])
        self.assertTrue(transcript_layout.render_options(sample_document())["results_on_last_page"])
        for pdf in (self.pdf, self._render([long_doc])):
            bbox = self._text(pdf, "-bbox")
            self.assertEqual(text_in_boxes(bbox), [])
            self.assertIn(">XÁC</word>", bbox.rsplit("<page", 1)[1])  # "Xác nhận" is last

    def test_results_fit_above_the_signatures(self):
        """At the most sections 4-6 may hold on the last page, they end above "Xác nhận"."""
        doc = sample_document()
        doc["result"]["comment"] = "Em chăm ngoan, lễ phép, tích cực phát biểu. " * 4
        rewards = []
        while True:
            rewards.append({"kind": "other", "text": "Giải thưởng cấp trường số %d" % len(rewards)})
            if not transcript_layout.render_options(dict(doc, rewards=rewards))["results_on_last_page"]:
                break
        doc["rewards"] = rewards[:-1]
        bbox = self._text(self._render([doc]), "-bbox")
        words = re.findall(
            r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" '
            r'yMax="([\d.]+)">([^<]*)</word>',
            bbox.rsplit("<page", 1)[1],
        )
        confirm = [word[2] for word in words].index("XÁC")
        self.assertIn("Khen", [word[2] for word in words[:confirm]])
        self.assertLess(max(float(word[1]) for word in words[:confirm]), float(words[confirm][0]))

    def test_signature_fields_match_the_boxes(self):
        """The template's corner markers fall on the corners of SIGNATURE_FIELDS,
        through Odoo's report engine and through the offline renderer alike."""
        renderers = [self._render]
        model = self.env["report.hocba_digital.report_transcript_document"]
        if hasattr(model, "_hocba_pdf"):
            renderers.append(model._hocba_pdf)
        cases = [
            (render, doc)
            for render in renderers
            for doc in (
                sample_document(show_field_markers=True),
                sample_document(
                    show_field_markers=True,
                    rewards=[{"kind": "other", "text": "Giải thưởng %d" % n} for n in range(40)],
                ),
            )
        ]
        for render, doc in cases:
            bbox = self._text(render([doc]), "-bbox")
            last = bbox.rsplit("<page", 1)[1]
            height = float(re.search(r'height="([\d.]+)"', last).group(1))
            words = {
                m.group(5): tuple(float(m.group(i)) for i in range(1, 5))
                for m in re.finditer(
                    r'<word xMin="([\d.]+)" yMin="([\d.]+)" '
                    r'xMax="([\d.]+)" yMax="([\d.]+)">(\w+)</word>',
                    last,
                )
            }
            for index, field in enumerate(transcript_layout.SIGNATURE_FIELDS):
                x1, y1, x2, y2 = field["box"]
                top_left, bottom_right = words["TL%d" % index], words["BR%d" % index]
                for measured, expected in (
                    (top_left[0], x1),
                    (height - top_left[1], y2),
                    (bottom_right[2], x2),
                    (height - bottom_right[3], y1),
                ):
                    self.assertAlmostEqual(measured, expected, delta=2.5, msg=field["name"])

    def test_pades_prepare_accepts_the_pdf(self):
        from io import BytesIO

        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign import fields as hk_fields

        xml = b'<?xml version="1.0" encoding="UTF-8"?>\n<HocBa/>\n'
        prepared = pades.prepare(
            self.pdf, transcript_layout.SIGNATURE_FIELDS, attachments=[{"name": "hocba.xml", "data": xml}]
        )
        reader = PdfFileReader(BytesIO(prepared), strict=False)
        found = {name: field for name, _value, field in hk_fields.enumerate_sig_fields(reader)}
        self.assertEqual(set(found), {f["name"] for f in transcript_layout.SIGNATURE_FIELDS})
        for spec in transcript_layout.SIGNATURE_FIELDS:
            rect = [float(v) for v in found[spec["name"]].get_object()["/Rect"]]
            for got, want in zip(rect, spec["box"]):
                self.assertAlmostEqual(got, want, places=1)
        self.assertIn("/Lock", found["sig_seal"].get_object())
        self.assertEqual(pades.attachments(prepared), {"hocba.xml": xml})

    # -- wording -------------------------------------------------------------

    def test_wording_of_results(self):
        doc = copy.deepcopy(sample_document())
        doc["header"]["grade"] = 5
        doc["result"] = {"computed": "CHT", "override": None, "override_reason": None, "final": "CHT", "comment": None}
        doc["completion"] = {"grade": False, "primary": False}
        doc["promotion"] = {"decision": "repeat", "note": "Rèn luyện trong hè chưa đạt"}
        view = transcript_layout.prepare(doc)
        self.assertEqual(view["result_text"], "Chưa hoàn thành")
        self.assertEqual(view["completion"], ["Chưa hoàn thành chương trình lớp 5."])
        self.assertEqual(view["promotion"], "Ở lại lớp")
        doc["result"]["final"] = "HTXS"
        doc["completion"] = {"grade": True, "primary": True}
        doc["rewards"] = [{"kind": "excellent", "text": None}]
        view = transcript_layout.prepare(doc)
        self.assertEqual(view["result_text"], "Hoàn thành xuất sắc")
        self.assertEqual(view["completion"], ["Hoàn thành chương trình lớp 5.", "Hoàn thành chương trình tiểu học."])
        self.assertEqual(view["rewards"], ["Học sinh Xuất sắc"])
        self.assertEqual(
            [b["name"] for b in view["blocks"]], ["Trần Thị Lan", "Lê Văn Hiệu", "Trường Tiểu học Nguyễn Bỉnh Khiêm"]
        )
