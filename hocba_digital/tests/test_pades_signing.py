"""PAdES tier signatures of the transcript PDF (pure layer, no database).

Checked with our ``pades.verify`` (pyHanko) and independently with poppler's
``pdfsig`` / ``pdftotext`` / ``pdfdetach``.
"""

import io
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers as hk_signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import pki_factory as pf
from ..lib.signing import pades, pades_verify, xades
from .crypto_tools import PEOPLE, PUPIL, SigningTools, make_pdf, pdfsig, pkcs12_signer, quiet

XML = ('<?xml version="1.0" encoding="UTF-8"?>\n<HocBa><HocSinh>%s</HocSinh></HocBa>\n' % PUPIL).encode()
TIERS = [
    ("sig_subject_TOAN", "toan"),
    ("sig_homeroom", "homeroom"),
    ("sig_principal", "principal"),
    ("sig_seal", "seal"),
]
FIELDS = ["sig_subject_TOAN", "sig_homeroom", "sig_principal", {"name": "sig_seal", "lock": True}]
ATTACHMENT = {"name": "hocba.xml", "data": XML, "description": "Học bạ số (XML đã ký XAdES)"}


class _TsaHandler(BaseHTTPRequestHandler):
    """Minimal RFC 3161 responder over HTTP (pyHanko's DummyTimeStamper signs)."""

    stamper = None

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        response = self.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(response)))
        self.end_headers()
        self.wfile.write(response)

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestPades(SigningTools, BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = pf.build_pki(PEOPLE, base_url="http://127.0.0.1:8199", prefix="TEST")
        cls.signers = {key: pkcs12_signer(cls.pki, key) for _f, key in TIERS}
        cls.make_tmp("hocba-pades-")
        cls.source = make_pdf()
        cls.prepared = pades.prepare(cls.source, FIELDS, [ATTACHMENT])
        cls.signed = cls._sign_all(cls.prepared)

    @classmethod
    def _sign_all(cls, pdf, **kwargs):
        for field, key in TIERS:
            pdf = pades.sign(
                pdf,
                field,
                cls.signers[key],
                reason="Ký học bạ số",
                location="Hà Nội",
                lock=field == "sig_seal",
                **kwargs,
            )
        return pdf

    def _verify(self, pdf):
        return pades_verify.verify(pdf, [self.pki.root_pem])

    # -- our verifier -------------------------------------------------------
    def test_all_signatures_valid(self):
        report = self._verify(self.signed)
        self.assertTrue(report["verdict"], report)
        self.assertEqual([s["field"] for s in report["signatures"]], [f for f, _k in TIERS])
        self.assertEqual([s["signer_cn"] for s in report["signatures"]][:3], [p.name for p in PEOPLE])
        for sig in report["signatures"]:
            self.assertTrue(sig["intact"] and sig["valid"] and sig["trusted"] and sig["bottom_line"], sig)
            self.assertTrue(sig["docmdp_ok"], sig)
            self.assertFalse(sig["timestamp"])
            self.assertIsNotNone(sig["signing_time"])
        # earlier tiers: later revisions only filled signature fields
        self.assertEqual({s["modification_level"] for s in report["signatures"][:3]}, {"FORM_FILLING"})
        seal = report["signatures"][-1]
        self.assertEqual(
            (seal["coverage"], seal["docmdp_level"], seal["fieldmdp"]), ("ENTIRE_FILE", "NO_CHANGES", True)
        )
        self.assertFalse(report["updates_after_last_signature"])
        self.assertEqual(report["empty_fields"], [])

    def test_untrusted_root(self):
        other = pf.build_pki([], prefix="OTHER")
        with quiet():
            report = pades_verify.verify(self.signed, [other.root_pem])
        self.assertFalse(report["verdict"])
        self.assertTrue(all(s["intact"] and not s["valid"] for s in report["signatures"]))

    def test_adapter_delegates_to_our_signer(self):
        calls = []

        class Spy(xades.Signer):
            def __init__(self, inner):
                self.inner, self.certificate, self.chain = inner, inner.certificate, inner.chain

            def sign(self, data, algorithm):
                calls.append(algorithm)
                return self.inner.sign(data, algorithm)

        spy = Spy(self.signers["toan"])
        pdf = pades.sign(self.prepared, "sig_subject_TOAN", spy, reason="r", location="l")
        self.assertEqual(calls, ["sha256"])  # the dry run never reaches the key holder
        self.assertIs(pades.hanko_signer(spy), pades.hanko_signer(spy))
        self.assertTrue(self._verify(pdf)["signatures"][0]["bottom_line"])

    # -- poppler --------------------------------------------------------------
    def test_pdfsig(self):
        out = pdfsig(self.tmp, self.signed, self.pki.root_pem, "-no-ocsp")
        self.assertEqual(out.count("Signature Validation: Signature is Valid."), 4, out)
        for field, _key in TIERS:
            self.assertIn("Signature Field Name: %s" % field, out)
        for person in PEOPLE:
            self.assertIn("Signer Certificate Common Name: %s" % person.name, out)
        self.assertEqual(out.count("Total document signed"), 1, out)  # the seal
        self.assertEqual(out.count("ETSI.CAdES.detached"), 4, out)
        # the root is found in the NSS db (not "issuer is unknown" / "isn't Trusted")
        self.assertNotIn("issuer is unknown", out)
        self.assertNotIn("isn't Trusted", out)

    def test_pdftotext_full_name(self):
        path = self._write("text.pdf", self.signed)
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True, check=True
        ).stdout.decode()
        self.assertIn(PUPIL, text)

    def test_embedded_xml_roundtrip(self):
        self.assertEqual(pades.attachments(self.signed), {"hocba.xml": XML})
        path = self._write("detach.pdf", self.signed)
        out_dir = os.path.join(self.tmp, "detached")
        os.makedirs(out_dir, exist_ok=True)
        subprocess.run(["pdfdetach", "-saveall", "-o", out_dir, path], check=True, capture_output=True)
        with open(os.path.join(out_dir, "hocba.xml"), "rb") as handle:
            self.assertEqual(handle.read(), XML)

    # -- tampering ------------------------------------------------------------
    def test_byte_changed_in_signed_range(self):
        index = self.signed.index(b"ReportLab")
        self.assertLess(index, 10000)  # in the first revision: covered by every signature
        tampered = self.signed[:index] + b"ReportLaX" + self.signed[index + 9 :]
        with quiet():
            report = self._verify(tampered)
        self.assertFalse(report["verdict"])
        self.assertTrue(all(not s["intact"] for s in report["signatures"]), report)

    def test_overlay_after_signing(self):
        writer = IncrementalPdfFileWriter(io.BytesIO(self.signed), strict=False)
        overlay = writer.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 60 720 400 30 re f Q"))
        writer.add_stream_to_page(0, overlay)
        out = io.BytesIO()
        writer.write(out)
        with quiet():
            report = self._verify(out.getvalue())
        self.assertFalse(report["verdict"])
        self.assertTrue(report["updates_after_last_signature"])
        self.assertTrue(report["modified_after_last_signature"])
        # crypto still fine: only bottom_line catches it
        self.assertTrue(all(s["intact"] and s["valid"] for s in report["signatures"]))
        self.assertFalse(any(s["bottom_line"] for s in report["signatures"]))

    def test_signing_after_lock(self):
        pdf = pades.prepare(self.source, FIELDS + ["sig_late"], [ATTACHMENT])
        pdf = self._sign_all(pdf)
        self.assertTrue(self._verify(pdf)["verdict"])
        with self.assertRaises(pades.PadesError):
            pades.sign(pdf, "sig_late", self.signers["toan"], reason="r", location="l")
        # a signer that ignores the lock (pyHanko directly) is caught by verification
        meta = hk_signers.PdfSignatureMetadata(field_name="sig_late")
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        late = hk_signers.PdfSigner(meta, pades.hanko_signer(self.signers["toan"])).sign_pdf(writer)
        with quiet():
            report = self._verify(late.getvalue())
        self.assertFalse(report["verdict"])
        seal = [s for s in report["signatures"] if s["field"] == "sig_seal"][0]
        self.assertFalse(seal["bottom_line"])
        self.assertFalse(seal["docmdp_ok"])

    def test_lock_needs_prepared_field(self):
        pdf = pades.prepare(self.source, ["sig_a"])
        with self.assertRaises(pades.PadesError):
            pades.sign(pdf, "sig_a", self.signers["seal"], reason="r", location="l", lock=True)
        with self.assertRaises(pades.PadesError):
            pades.sign(pdf, "no_such_field", self.signers["seal"], reason="r", location="l")

    # -- B-T with a local RFC 3161 TSA ---------------------------------------
    def test_timestamp_bt(self):
        tsa_key = asn1_keys.PrivateKeyInfo.load(
            self.pki.tsa.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        handler = type(
            "Handler",
            (_TsaHandler,),
            {
                "stamper": DummyTimeStamper(
                    pades.asn1_certificate(self.pki.tsa.cert),
                    tsa_key,
                    certs_to_embed=[pades.asn1_certificate(self.pki.intermediate.cert)],
                )
            },
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        url = "http://127.0.0.1:%d/tsa" % server.server_address[1]
        pdf = pades.sign(
            self.prepared, "sig_subject_TOAN", self.signers["toan"], reason="r", location="l", timestamper_url=url
        )
        sig = self._verify(pdf)["signatures"][0]
        self.assertTrue(sig["timestamp"], sig)
        self.assertTrue(sig["timestamp_ok"], sig)
        self.assertTrue(sig["bottom_line"], sig)
