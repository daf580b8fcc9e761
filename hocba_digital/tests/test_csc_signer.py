"""CSC remote signing (lib/csc_signer) against the local CSC sandbox (pure layer, no database).

One sandbox for the class; every test uses its own credential where it
changes server state (PIN lockout, faults are consumed by the next call).
"""

import datetime
import hashlib
import ipaddress
import logging

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import csc_sandbox
from ..lib.sandbox import pki_factory as pf
from ..lib.signing import pades, pades_verify, xades, xades_verify
from ..lib.signing.keys import csc_signer as csc
from .crypto_tools import (
    DOCUMENT,
    PEOPLE,
    FixedTimeout,
    LogCapture,
    SigningTools,
    SuccessiveTimeouts,
    make_pdf,
    subject_signed,
)

# characters that never occur in base64 / hex dumps, so a hit in a log is real
PIN = "p!n-5821-csc"
WRONG_PIN = "0000!wrong"
PASSWORD = "pw!csc-4477"


@tagged("post_install", "-at_install")
class TestCscSigner(SigningTools, BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # everything that reaches the root logger, and our own DEBUG records
        # (captured without flooding the test output)
        cls.capture = LogCapture()
        logging.getLogger().addHandler(cls.capture)
        cls.addClassCleanup(logging.getLogger().removeHandler, cls.capture)
        for name in (csc.__name__, csc_sandbox.__name__):
            logger = logging.getLogger(name)
            cls.addClassCleanup(setattr, logger, "propagate", logger.propagate)
            cls.addClassCleanup(logger.setLevel, logger.level)
            cls.addClassCleanup(logger.removeHandler, cls.capture)
            logger.setLevel(logging.DEBUG)
            logger.addHandler(cls.capture)
            logger.propagate = False

        cls.make_tmp("hocba-csc-")
        cls.pki = pf.build_pki(PEOPLE, base_url="http://127.0.0.1:8196", prefix="TEST")
        cls.pki_ec = pf.build_pki(PEOPLE[:1], base_url="http://127.0.0.1:8196", prefix="TEST", key_type="ec")
        cls.staff = cls.pki.person("homeroom")
        inter, inter_ec = [cls.pki.intermediate.cert], [cls.pki_ec.intermediate.cert]

        # "timeout": no answer until the client gave up, however long that takes
        cls.sandbox = box = csc_sandbox.CscSandbox(max_pin_tries=3, timeout_delay=None)
        box.add_user("lan", PASSWORD)
        box.add_issued("homeroom-rsa", cls.staff, inter, owner="lan", pin=PIN)
        box.add_issued("toan-ec", cls.pki_ec.person("toan"), inter_ec, owner="lan", pin=PIN)
        box.add_issued("toan-ec-raw", cls.pki_ec.person("toan"), inter_ec, owner="lan", pin=PIN, raw_ecdsa=True)
        box.add_issued("principal-lock", cls.pki.person("principal"), inter, owner="lan", pin=PIN)
        box.add_issued("homeroom-scal2", cls.staff, inter, owner="lan", pin=PIN, scal=2)
        box.add_user("seal-user", PASSWORD)
        box.add_pkcs12("seal-p12", cls.pki.to_pkcs12("seal", "p12-pass"), "p12-pass", owner="seal-user", pin=PIN)
        box.start()
        cls.addClassCleanup(box.stop)
        cls.token = box.issue_token("lan")
        cls.write_pki(cls.pki)

    def setUp(self):
        super().setUp()
        self.addCleanup(self.sandbox.faults.clear)

    def signer(self, credential_id="homeroom-rsa", **kw):
        args = {"username": "lan", "password": PASSWORD, "timeout": 10}
        args.update(kw)
        signer = csc.CscSigner(self.sandbox.service_url, credential_id, **args)
        self.addCleanup(signer.close)
        return signer

    def assertNoSecret(self, text):
        for secret in (PIN, WRONG_PIN, PASSWORD, self.token):
            self.assertNotIn(secret, text)

    def assertSecretsNotLogged(self):
        texts = self.capture.texts()
        self.assertTrue(texts, "nothing was captured: the capture handler is not working")
        for text in texts:
            self.assertNoSecret(text)

    def sign_pdf(self, signer, pki):
        pdf = pades.prepare(make_pdf(), ["sig_homeroom"])
        signed = pades.sign(pdf, "sig_homeroom", signer, reason="Ký học bạ số", location="Hà Nội")
        report = pades_verify.verify(signed, [pki.root_pem])
        self.assertTrue(report["verdict"], report)
        self.assertEqual(
            report["signatures"][0]["signer_cn"],
            signer.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
        )
        self.assertTrue(report["signatures"][0]["valid"], report)

    # -- XAdES ----------------------------------------------------------------
    def test_xades_rsa_chain_signed_remotely(self):
        signer = self.signer()
        self.assertEqual(signer.certificate, self.staff.cert)  # read from credentials/info
        self.assertEqual(signer.chain, [self.pki.intermediate.cert])
        self.assertEqual(signer.key_type, "rsa")
        doc = subject_signed(self.pki)
        with signer.batch(1, pin=PIN):
            self.assertNoSecret(repr(signer) + repr(vars(signer)) + repr(vars(signer._batch)))
            doc = xades.sign_tier(doc, signer, ["data", "sig-1"], wrapper_id="sig-2", tier="homeroom_teacher")
        self.assertNoSecret(repr(signer) + repr(vars(signer)))
        self.assertOverSubjectSignature(doc, self.staff)
        self.assertSecretsNotLogged()

    def test_xades_ecdsa(self):
        # the second credential answers with a raw r || s value: the client DER-encodes it
        for credential_id in ("toan-ec", "toan-ec-raw"):
            signer = self.signer(credential_id, access_token=self.token, username=None, password=None)
            self.assertEqual(signer.key_type, "ec")
            with signer.batch(1, pin=PIN):
                doc = xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="subject_teacher")
            self.assertOnlySignatureVerifies(doc, self.pki_ec)

    # -- PAdES ----------------------------------------------------------------
    def test_pdf_field_signed_rsa_and_ec(self):
        for credential_id, pki in (("homeroom-rsa", self.pki), ("toan-ec", self.pki_ec)):
            signer = self.signer(credential_id)
            with signer.batch(1, pin=PIN):
                self.sign_pdf(signer, pki)
        self.assertSecretsNotLogged()

    # -- batches --------------------------------------------------------------
    def test_one_authorisation_per_batch(self):
        box = self.sandbox
        signer = self.signer()
        box.reset_counters()
        with signer.batch(4, pin=PIN):
            docs = [
                xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="homeroom_teacher")
                for _i in range(3)
            ]
            self.sign_pdf(signer, self.pki)
        self.assertEqual(box.count("credentials/authorize"), 1)
        self.assertEqual(box.count("signatures/signHash"), 4)
        for doc in docs:
            self.assertTrue(xades_verify.verify(doc, [self.pki.root_pem])[0].ok)
        # a list of digests: one authorisation, one signHash call
        digests = [hashlib.sha256(b"doc %d" % i).digest() for i in range(3)]
        with signer.batch(3, pin=PIN):
            self.assertEqual(len(signer.sign_digests(digests, "sha256")), 3)
        self.assertEqual((box.count("credentials/authorize"), box.count("signatures/signHash")), (2, 5))
        # more signatures than announced: authorised again with the batch's PIN
        with signer.batch(1, pin=PIN):
            signer.sign(b"one", "sha256")
            signer.sign(b"two", "sha256")
        self.assertEqual(box.count("credentials/authorize"), 4)
        # the PIN is forgotten when the batch ends
        with self.assertRaisesRegex(csc.CscAuthError, "needs a PIN"):
            signer.sign(b"three", "sha256")
        with self.assertRaisesRegex(csc.CscError, "already open"):
            with signer.batch(1, pin=PIN), signer.batch(1, pin=PIN):
                pass

    def test_scal2_binds_each_sad_to_its_hashes(self):
        box = self.sandbox
        signer = self.signer("homeroom-scal2")
        self.assertEqual(signer.scal, 2)
        box.reset_counters()
        with signer.batch(2, pin=PIN):
            doc = xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-1", tier="homeroom_teacher")
            signer.sign(b"other", "sha256")
        self.assertTrue(xades_verify.verify(doc, [self.pki.root_pem])[0].ok)
        self.assertEqual(box.count("credentials/authorize"), 2)
        digests = [hashlib.sha256(b"doc %d" % i).digest() for i in range(3)]
        signer.sign_digests(digests, "sha256", pin=PIN)
        self.assertEqual((box.count("credentials/authorize"), box.count("signatures/signHash")), (3, 3))

    # -- authentication errors ------------------------------------------------
    def test_wrong_pin(self):
        signer = self.signer()
        with self.assertRaises(csc.CscAuthError) as caught:
            with signer.batch(1, pin=WRONG_PIN):
                self.fail("a batch opened with a wrong PIN")
        message = str(caught.exception)
        self.assertIn("PIN is invalid", message)
        self.assertNoSecret(message + repr(caught.exception.args) + repr(caught.exception.__context__))
        self.assertFalse(signer.in_batch)
        with signer.batch(1, pin=PIN):  # one failure does not lock the credential
            signer.sign(b"data", "sha256")
        self.assertSecretsNotLogged()

    def test_pin_lockout(self):
        signer = self.signer("principal-lock")
        for _i in range(3):
            with self.assertRaises(csc.CscAuthError) as caught, signer.batch(1, pin=WRONG_PIN):
                pass
            self.assertNoSecret(str(caught.exception))
        with self.assertRaisesRegex(csc.CscAuthError, "locked"), signer.batch(1, pin=PIN):
            pass
        self.sandbox.unlock("principal-lock")
        with signer.batch(1, pin=PIN):
            signer.sign(b"data", "sha256")

    def test_login_and_token_errors(self):
        with self.assertRaisesRegex(csc.CscAuthError, "auth/login") as caught:
            self.signer(password="not-" + PASSWORD)
        self.assertNoSecret(str(caught.exception))
        with self.assertRaisesRegex(csc.CscAuthError, "HTTP 401"):
            self.signer(access_token="forged-token", username=None, password=None)
        # a login token that expired is renewed once, transparently
        signer = self.signer()
        logins = self.sandbox.count("auth/login")
        self.sandbox.expire_tokens()
        with signer.batch(1, pin=PIN):
            signer.sign(b"data", "sha256")
        self.assertEqual(self.sandbox.count("auth/login"), logins + 1)
        self.__class__.token = self.sandbox.issue_token("lan")
        self.assertSecretsNotLogged()

    # -- unavailable service --------------------------------------------------
    def test_timeout_and_server_errors(self):
        box = self.sandbox
        session = requests.Session()
        # a short read timeout for the one call the sandbox holds (until the client
        # gives up), a generous one for every other: a loaded machine delays, never decides
        session.mount("http://", FixedTimeout((10, 30)))
        session.mount(box.service_url + "/signatures/signHash", SuccessiveTimeouts((10, 0.5), (10, 30)))
        signer = self.signer(session=session)
        box.faults.add("timeout", endpoint="signatures/signHash")
        with self.assertRaisesRegex(csc.CscUnavailable, "did not answer signatures/signHash in time") as caught:
            with signer.batch(1, pin=PIN):
                signer.sign(b"data", "sha256")
        self.assertNoSecret(str(caught.exception))
        box.faults.add("error_500", endpoint="credentials/authorize")
        with self.assertRaisesRegex(csc.CscUnavailable, "HTTP 500") as caught, signer.batch(1, pin=PIN):
            pass
        self.assertNoSecret(str(caught.exception))
        box.faults.add("drop", endpoint="signatures/signHash")
        with self.assertRaises(csc.CscUnavailable), signer.batch(1, pin=PIN):
            signer.sign(b"data", "sha256")
        box.faults.add("error_500", endpoint="credentials/info")
        with self.assertRaises(csc.CscUnavailable):
            self.signer()
        with signer.batch(1, pin=PIN):  # faults are over: the service works again
            signer.sign(b"data", "sha256")
        # nothing listens on a closed port
        closed = csc_sandbox.CscSandbox().start()
        url = closed.service_url
        closed.stop()
        with self.assertRaisesRegex(csc.CscUnavailable, "cannot reach"):
            csc.CscSigner(url, "homeroom-rsa", access_token=self.token, timeout=2)
        self.assertSecretsNotLogged()

    def test_wrong_signature_value_is_refused(self):
        signer = self.signer()
        self.sandbox.faults.add("bad_signature", endpoint="signatures/signHash")
        with self.assertRaisesRegex(csc.CscError, "does not match the certificate") as caught:
            with signer.batch(1, pin=PIN):
                signer.sign(b"data", "sha256")
        self.assertNotIsInstance(caught.exception, (csc.CscAuthError, csc.CscUnavailable))

    # -- credential selection, PKCS#12, TLS -----------------------------------
    def test_only_credential_from_the_list(self):
        signer = self.signer(None, username="seal-user")  # loaded into the sandbox from PKCS#12
        self.assertEqual(signer.credential_id, "seal-p12")
        self.assertEqual(signer.certificate, self.pki.seal.cert)
        with signer.batch(1, pin=PIN):
            doc = xades.sign_tier(DOCUMENT, signer, ["data"], wrapper_id="sig-4", tier="seal")
        self.assertTrue(xades_verify.verify(doc, [self.pki.root_pem])[0].ok)
        with self.assertRaisesRegex(csc.CscError, "give credential_id"):
            self.signer(None)

    def test_tls_with_own_ca_bundle(self):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_path = self._write("tls.pem", cert.public_bytes(serialization.Encoding.PEM))
        key_path = self._write(
            "tls.key",
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        with csc_sandbox.CscSandbox(tls=(cert_path, key_path)) as box:
            box.add_issued("homeroom-rsa", self.staff, [self.pki.intermediate.cert], owner="lan", pin=PIN)
            token = box.issue_token("lan")
            self.assertTrue(box.service_url.startswith("https://"))
            with self.assertRaisesRegex(csc.CscError, "TLS") as caught:
                csc.CscSigner(box.service_url, "homeroom-rsa", access_token=token, timeout=5)
            self.assertNotIsInstance(caught.exception, csc.CscUnavailable)
            signer = csc.CscSigner(box.service_url, "homeroom-rsa", access_token=token, timeout=5, verify=cert_path)
            with signer:
                with signer.batch(1, pin=PIN):
                    signature = signer.sign(b"data", "sha256")
            self.assertEqual(len(signature), 256)
