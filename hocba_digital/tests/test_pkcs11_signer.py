"""PKCS#11 (token / HSM) signing through SoftHSM2 (pure layer, no database).

Each test class works in a temporary directory with its own softhsm2.conf;
SOFTHSM2_CONF is set for the class and restored afterwards, and the PKCS#11
module is finalised so that the next user re-reads its configuration.
"""

import logging
import os

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import pki_factory as pf
from ..lib.signing import pades, pades_verify, xades, xades_verify
from ..lib.signing.keys import pkcs11_signer as p11
from .crypto_tools import DOCUMENT, PEOPLE, LogCapture, SigningTools, make_pdf, subject_signed, use_softhsm

# characters that never occur in base64 / hex dumps, so a hit in a log is real
USER_PIN = "p!n-7319-hsm"
SO_PIN = "so!pin-2864"
TOKEN = "HOCBA-TEST"
EC_TOKEN = "HOCBA-TEST-EC"


@tagged("post_install", "-at_install")
class TestPkcs11Signer(SigningTools, BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # capture every record of the whole class (token set-up included)
        cls.capture = LogCapture()
        root = logging.getLogger()
        root.addHandler(cls.capture)
        cls.addClassCleanup(root.removeHandler, cls.capture)
        ours = logging.getLogger(p11.__name__)
        old_level = ours.level
        ours.setLevel(logging.DEBUG)
        cls.addClassCleanup(ours.setLevel, old_level)

        cls.module = use_softhsm(cls, cls.make_tmp("hocba-p11-"))
        cls.pki = pf.build_pki(PEOPLE, base_url="http://127.0.0.1:8197", prefix="TEST")
        cls.staff = cls.pki.person("homeroom")
        cls.key_id = p11.load_into_softhsm(
            cls.module, TOKEN, SO_PIN, USER_PIN, "homeroom", cls.staff.key, cls.staff.cert
        )
        cls.write_pki(cls.pki)

    def signer(self, **kw):
        args = dict(
            module=self.module,
            token_label=TOKEN,
            key_label="homeroom",
            user_pin=USER_PIN,
            chain=[self.pki.intermediate.cert],
        )
        args.update(kw)
        return p11.Pkcs11Signer(**args)

    def assertPinNotLogged(self):
        texts = self.capture.texts()
        self.assertTrue(texts, "nothing was captured: the capture handler is not working")
        for pin in (USER_PIN, SO_PIN):
            self.assertFalse([t for t in texts if pin in t], "a PIN appears in a log record")

    # -- XAdES ----------------------------------------------------------------
    def test_xades_chain_signed_on_the_token(self):
        signer = self.signer()
        self.assertEqual(signer.certificate, self.staff.cert)  # looked up on the token
        self.assertEqual(signer.key_type, "rsa")
        self.assertNotIn(USER_PIN, repr(signer))
        self.assertNotIn(USER_PIN, repr(vars(signer)))
        doc = xades.sign_tier(
            subject_signed(self.pki), signer, ["data", "sig-1"], wrapper_id="sig-2", tier="homeroom_teacher"
        )
        self.assertOverSubjectSignature(doc, self.staff)
        self.assertPinNotLogged()

    def test_one_session_per_batch(self):
        signer = self.signer(certificate=self.staff.cert)
        opening = "opening a PKCS#11 session"
        before = sum(opening in t for t in self.capture.texts())
        with signer:
            self.assertTrue(signer.is_open)
            docs = [
                xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="homeroom_teacher")
                for _i in range(3)
            ]
        self.assertFalse(signer.is_open)
        self.assertEqual(sum(opening in t for t in self.capture.texts()) - before, 1)
        for doc in docs:
            report = xades_verify.verify(doc, [self.pki.root_pem])[0]
            self.assertTrue(report.ok, report.errors)
        # outside a batch, each signature opens (and closes) its own session
        xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="homeroom_teacher")
        self.assertFalse(signer.is_open)
        self.assertEqual(sum(opening in t for t in self.capture.texts()) - before, 2)

    def test_key_selected_by_id(self):
        signer = self.signer(key_label=None, key_id=self.key_id.hex())
        self.assertEqual(signer.certificate, self.staff.cert)
        doc = xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="homeroom_teacher")
        self.assertTrue(xades_verify.verify(doc, [self.pki.root_pem])[0].ok)

    def test_ecdsa_key_on_a_token(self):
        pki = pf.build_pki(PEOPLE[:1], key_type="ec", prefix="TEST")
        person = pki.person("toan")
        p11.load_into_softhsm(self.module, EC_TOKEN, SO_PIN, USER_PIN, "toan", person.key, person.cert)
        signer = p11.Pkcs11Signer(self.module, EC_TOKEN, "toan", USER_PIN, chain=[pki.intermediate.cert])
        self.assertEqual(signer.key_type, "ec")
        doc = xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="subject_teacher")
        self.assertOnlySignatureVerifies(doc, pki)
        self.assertPinNotLogged()

    # -- errors ---------------------------------------------------------------
    def test_wrong_pin(self):
        with self.assertRaises(p11.TokenPinError) as caught:
            self.signer(user_pin="0000-wrong")
        self.assertIn(TOKEN, str(caught.exception))
        self.assertNotIn("0000-wrong", str(caught.exception))
        signer = self.signer(certificate=self.staff.cert, user_pin="0000-wrong")
        with self.assertRaises(p11.TokenPinError):
            xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="homeroom_teacher")
        self.assertFalse(signer.is_open)
        # the right PIN still works afterwards (not locked by two failures)
        self.signer().sign(b"data", "sha256")
        self.assertPinNotLogged()

    def test_unknown_key_label(self):
        with self.assertRaises(p11.TokenKeyNotFoundError) as caught:
            self.signer(key_label="nobody")
        self.assertIn("nobody", str(caught.exception))
        signer = self.signer(key_label="nobody", certificate=self.staff.cert)
        with self.assertRaisesRegex(p11.TokenKeyNotFoundError, "no private key with label 'nobody'"):
            signer.sign(b"data", "sha256")
        self.assertFalse(signer.is_open)

    def test_unknown_token(self):
        with self.assertRaisesRegex(p11.TokenNotFoundError, "no PKCS#11 token labelled 'NO-SUCH-TOKEN'"):
            self.signer(token_label="NO-SUCH-TOKEN", certificate=self.staff.cert).sign(b"data", "sha256")
        with self.assertRaises(p11.Pkcs11SignerError):
            self.signer(module=os.path.join(self.tmp, "missing.so"), certificate=self.staff.cert).sign(
                b"data", "sha256"
            )

    # -- PAdES ----------------------------------------------------------------
    def test_pdf_field_signed_on_the_token(self):
        pdf = pades.prepare(make_pdf(), ["sig_homeroom"])
        with self.signer() as signer:
            signed = pades.sign(pdf, "sig_homeroom", signer, reason="Ký học bạ số", location="Hà Nội")
        report = pades_verify.verify(signed, [self.pki.root_pem])
        self.assertTrue(report["verdict"], report)
        self.assertEqual(len(report["signatures"]), 1)
        signature = report["signatures"][0]
        self.assertEqual(signature["field"], "sig_homeroom")
        self.assertTrue(signature["intact"] and signature["valid"], signature)
        self.assertEqual(signature["signer_cn"], self.staff.common_name)
        self.assertPinNotLogged()
