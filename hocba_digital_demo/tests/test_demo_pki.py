from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from odoo.tests import HttpCase, tagged

from odoo.addons.hocba_digital.lib.sandbox import pki_factory as pf
from odoo.addons.hocba_digital.lib.signing.keys import key_vault

from ..models.hocba_demo_pki import PARAM, ROUTE


@tagged("post_install", "-at_install")
class TestDemoPkiEndpoints(HttpCase):
    """The demo database's own OCSP, time-stamping and CRL endpoints."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = pf.build_pki([pf.Person("gv", "DEMO Giáo viên", "DEMO-1")], prefix="DEMO")
        cls.pki.crl_der = cls.pki.make_crl([cls.pki.people["gv"]])
        cls.env["hocba.demo.pki"]._hocba_store(cls.pki)

    def _ocsp(self, issued):
        request = (
            ocsp.OCSPRequestBuilder().add_certificate(issued.cert, self.pki.intermediate.cert, hashes.SHA1()).build()
        )
        response = self.url_open(
            ROUTE + "/ocsp",
            data=request.public_bytes(serialization.Encoding.DER),
            headers={"Content-Type": "application/ocsp-request"},
        )
        self.assertEqual(response.status_code, 200)
        return ocsp.load_der_ocsp_response(response.content)

    def test_ocsp_good_and_revoked(self):
        self.assertEqual(self._ocsp(self.pki.seal).certificate_status, ocsp.OCSPCertStatus.GOOD)
        self.assertEqual(self._ocsp(self.pki.people["gv"]).certificate_status, ocsp.OCSPCertStatus.REVOKED)

    def test_time_stamp(self):
        request = tsp.TimeStampReq(
            {
                "version": 1,
                "cert_req": True,
                "nonce": 4242,
                "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x01" * 32},
            }
        )
        response = self.url_open(
            ROUTE + "/tsa", data=request.dump(), headers={"Content-Type": "application/timestamp-query"}
        )
        answer = tsp.TimeStampResp.load(response.content)
        self.assertEqual(answer["status"]["status"].native, "granted")
        info = answer["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
        self.assertEqual(info["nonce"].native, 4242)

    def test_crl_and_certificates(self):
        crl = x509.load_der_x509_crl(self.url_open(ROUTE + "/crl/intermediate.crl").content)
        self.assertIsNotNone(crl.get_revoked_certificate_by_serial_number(self.pki.people["gv"].serial_number))
        root = x509.load_der_x509_certificate(self.url_open(ROUTE + "/certs/root.cer").content)
        self.assertEqual(root, self.pki.root.cert)
        self.assertEqual(self.url_open(ROUTE + "/certs/nobody.cer").status_code, 404)

    def test_keys_are_sealed_at_rest(self):
        stored = self.env["ir.config_parameter"].sudo().get_param(PARAM)
        self.assertNotIn("PRIVATE KEY", stored)
        import base64

        self.assertTrue(base64.b64decode(stored).startswith(key_vault.MAGIC))

    def test_no_demo_pki_no_answer(self):
        self.env["ir.config_parameter"].sudo().set_param(PARAM, False)
        self.assertEqual(self.url_open(ROUTE + "/crl/root.crl").status_code, 404)
