"""PKCS#11 (token / HSM) signing through SoftHSM2 (pure layer, no database).

Each test class works in a temporary directory with its own softhsm2.conf;
SOFTHSM2_CONF is set for the class and restored afterwards, and the PKCS#11
module is finalised so that the next user re-reads its configuration.
"""

import logging
import os
import shutil
import subprocess
import tempfile

from odoo.tests import BaseCase, tagged

from ..lib import pades, pades_verify, xades, xades_verify
from ..lib import pki_factory as pf
from ..lib import pkcs11_signer as p11
from .test_xades_signing import DOCUMENT, DS, PEOPLE, XADES, XMLSEC1

# characters that never occur in base64 / hex dumps, so a hit in a log is real
USER_PIN = "p!n-7319-hsm"
SO_PIN = "so!pin-2864"
TOKEN = "HOCBA-TEST"
EC_TOKEN = "HOCBA-TEST-EC"
MODULE = p11.find_softhsm_module()


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def texts(self):
        out = []
        for record in self.records:
            try:
                out.append(record.getMessage())
            except Exception:
                out.append(str(record.msg))
            out.append(repr(record.args))
            if record.exc_info:
                out.append(logging.Formatter().formatException(record.exc_info))
        return out


@tagged("post_install", "-at_install")
class TestPkcs11Signer(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not MODULE or not shutil.which("softhsm2-util"):
            raise RuntimeError("softhsm2 is not installed (tools/apt-packages.txt)")
        # capture every record of the whole class (token set-up included)
        cls.capture = _Capture()
        root = logging.getLogger()
        root.addHandler(cls.capture)
        cls.addClassCleanup(root.removeHandler, cls.capture)
        ours = logging.getLogger(p11.__name__)
        old_level = ours.level
        ours.setLevel(logging.DEBUG)
        cls.addClassCleanup(ours.setLevel, old_level)

        cls.tmp = tempfile.mkdtemp(prefix="hocba-p11-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        old_conf = os.environ.get("SOFTHSM2_CONF")

        def restore():
            p11.finalize_module(MODULE)
            if old_conf is None:
                os.environ.pop("SOFTHSM2_CONF", None)
            else:
                os.environ["SOFTHSM2_CONF"] = old_conf

        cls.addClassCleanup(restore)
        os.environ["SOFTHSM2_CONF"] = p11.write_softhsm_conf(cls.tmp)

        cls.pki = pf.build_pki(PEOPLE, base_url="http://127.0.0.1:8197", prefix="TEST")
        cls.staff = cls.pki.person("homeroom")
        cls.key_id = p11.load_into_softhsm(MODULE, TOKEN, SO_PIN, USER_PIN, "homeroom",
                                           cls.staff.key, cls.staff.cert)
        cls.root_pem = cls._write("root.pem", cls.pki.root_pem)
        cls.intermediate_pem = cls._write("intermediate.pem", cls.pki.intermediate_pem)

    @classmethod
    def _write(cls, name, data):
        path = os.path.join(cls.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def signer(self, **kw):
        args = dict(module=MODULE, token_label=TOKEN, key_label="homeroom", user_pin=USER_PIN,
                    chain=[self.pki.intermediate.cert])
        args.update(kw)
        return p11.Pkcs11Signer(**args)

    def xmlsec1(self, doc, signature_id, root_pem, intermediate_pem):
        if not XMLSEC1:
            self.skipTest("xmlsec1 is not installed (tools/apt-packages.txt)")
        path = self._write("doc-%s.xml" % signature_id, doc)
        cmd = [XMLSEC1, "--verify", "--trusted-pem", root_pem, "--untrusted-pem", intermediate_pem,
               "--id-attr:Id", "Data", "--id-attr:Id", "Subject", "--id-attr:Id", "Signature",
               "--id-attr:Id", DS + ":Signature", "--id-attr:Id", DS + ":KeyInfo",
               "--id-attr:Id", XADES + ":SignedProperties", "--node-id", signature_id, path]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout + proc.stderr

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
        software = xades.KeySigner(self.pki.person("toan").key, self.pki.person("toan").cert,
                                   [self.pki.intermediate.cert])
        doc = xades.sign_tier(DOCUMENT, software, ["subject-TOAN"], wrapper_id="sig-1",
                              tier="subject_teacher", claimed_role="subject_teacher:TOAN")
        doc = xades.sign_tier(doc, signer, ["data", "sig-1"], wrapper_id="sig-2", tier="homeroom_teacher")
        reports = {r.wrapper_id: r for r in xades_verify.verify(doc, [self.pki.root_pem])}
        for wrapper_id in ("sig-1", "sig-2"):
            self.assertTrue(reports[wrapper_id].intact, reports[wrapper_id].errors)
            self.assertTrue(reports[wrapper_id].chain_ok, reports[wrapper_id].errors)
        self.assertEqual(reports["sig-2"].covers, ["data", "sig-1"])
        self.assertEqual(reports["sig-2"].signer_serial, self.staff.serial_number)
        rc, out = self.xmlsec1(doc, "sig-2-ds", self.root_pem, self.intermediate_pem)
        self.assertEqual(rc, 0, out)
        self.assertIn("SignedInfo References (ok/all): 4/4", out)
        # a change in the data breaks the token's signature
        tampered = doc.replace(b"<Score>8</Score>", b"<Score>10</Score>")
        self.assertFalse(xades_verify.verify(tampered, [self.pki.root_pem])[1].intact)
        self.assertPinNotLogged()

    def test_one_session_per_batch(self):
        signer = self.signer(certificate=self.staff.cert)
        opening = "opening a PKCS#11 session"
        before = sum(opening in t for t in self.capture.texts())
        with signer:
            self.assertTrue(signer.is_open)
            docs = [xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="homeroom_teacher")
                    for _i in range(3)]
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
        p11.load_into_softhsm(MODULE, EC_TOKEN, SO_PIN, USER_PIN, "toan", person.key, person.cert)
        signer = p11.Pkcs11Signer(MODULE, EC_TOKEN, "toan", USER_PIN, chain=[pki.intermediate.cert])
        self.assertEqual(signer.key_type, "ec")
        doc = xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="subject_teacher")
        report = xades_verify.verify(doc, [pki.root_pem])[0]
        self.assertTrue(report.intact and report.chain_ok, report.errors)
        rc, out = self.xmlsec1(doc, "sig-1-ds", self._write("ec-root.pem", pki.root_pem),
                               self._write("ec-int.pem", pki.intermediate_pem))
        self.assertEqual(rc, 0, out)
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
                b"data", "sha256")

    # -- PAdES ----------------------------------------------------------------
    def test_pdf_field_signed_on_the_token(self):
        from .test_pades_signing import _make_pdf

        pdf = pades.prepare(_make_pdf(), ["sig_homeroom"])
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
