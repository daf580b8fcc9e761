"""The revocation client (pure layer, no database) against the PKI sandbox on 127.0.0.1."""

import datetime
import socket

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import pki_factory as pf
from ..lib.sandbox import pki_responders as pr
from ..lib.signing import revocation_client as rc
from .crypto_tools import FixedTimeout, pki_sandbox, revoke_an_hour_ago

UTC = datetime.timezone.utc
PEOPLE = [
    pf.Person("teacher", "Lê Thị Hoa", "CCCD:031190000001", "Giáo viên"),
    pf.Person("revoked", "Phạm Văn Hủy", "CCCD:001080000009", "Hiệu trưởng"),
]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestRevocationClient(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = pki_sandbox(cls, PEOPLE)
        cls.pki = cls.sandbox.pki
        cls.revoked_at = revoke_an_hour_ago(cls.sandbox, "revoked")
        cls.published_crl = cls.pki.crl_der
        cls.teacher = cls.pki.person("teacher").cert
        cls.revoked = cls.pki.person("revoked").cert
        cls.issuer = cls.pki.intermediate.cert

    def setUp(self):
        super().setUp()
        self.addCleanup(self._reset)
        self.cache = rc.CrlCache()
        self.client = rc.RevocationClient(timeout=2, retries=1, cache=self.cache)
        self.addCleanup(self.client.close)

    def _reset(self):
        self.sandbox.faults.clear()
        self.sandbox.strict = False
        self.sandbox.timeout_delay = 30.0
        self.pki.crl_der = self.published_crl
        self.sandbox.counts.clear()

    # -- CRL ------------------------------------------------------------------
    def test_crl_good_and_revoked(self):
        outcome = self.client.check(self.teacher, self.issuer)
        self.assertEqual((outcome.status, outcome.reason, outcome.url), ("good", "crl", self.pki.crl_url))
        outcome = self.client.check(self.revoked, self.issuer)
        self.assertEqual((outcome.status, outcome.revoked_at), ("revoked", self.revoked_at))
        # asked about a moment before the revocation (a signing time), it was good
        before = self.client.check(self.revoked, self.issuer, at=self.revoked_at - datetime.timedelta(minutes=1))
        self.assertEqual(before.status, "good")

    def test_crl_is_cached_by_url_until_next_update(self):
        self.client.check(self.teacher, self.issuer)
        self.client.check(self.revoked, self.issuer)
        self.assertEqual(self.sandbox.counts["crl"], 1)
        # a client with a cache of its own fetches it again
        with rc.RevocationClient(timeout=2, cache=rc.CrlCache()) as other:
            other.check(self.teacher, self.issuer)
        self.assertEqual(self.sandbox.counts["crl"], 2)
        # kept at most max_age, and never past the CRL's nextUpdate
        crl = rc.load_crl(self.published_crl)
        now = datetime.datetime.now(UTC)
        cache = rc.CrlCache(max_age=300)
        cache.put("http://ca/a.crl", crl, now=now)
        self.assertIs(cache.get("http://ca/a.crl", now=now + datetime.timedelta(seconds=299)), crl)
        self.assertIsNone(cache.get("http://ca/a.crl", now=now + datetime.timedelta(seconds=301)))
        cache = rc.CrlCache(max_age=30 * 86400)
        cache.put("http://ca/a.crl", crl, now=now)
        self.assertIs(cache.get("http://ca/a.crl", now=crl.next_update_utc - datetime.timedelta(seconds=1)), crl)
        self.assertIsNone(cache.get("http://ca/a.crl", now=crl.next_update_utc + datetime.timedelta(seconds=1)))

    def test_stale_crl_is_not_believed_nor_cached(self):
        past = datetime.datetime.now(UTC) - datetime.timedelta(days=2)
        self.pki.crl_der = self.pki.make_crl(
            [self.revoked], this_update=past - datetime.timedelta(days=7), next_update=past
        )
        outcome = self.client.check(self.revoked, self.issuer)
        self.assertEqual((outcome.status, outcome.reason), ("unknown", "stale"))
        self.assertIn("next update was", outcome.detail)
        self.client.check(self.revoked, self.issuer)
        self.assertEqual(self.sandbox.counts["crl"], 2)
        # what a stale CRL lists still counts for a verifier of past signatures
        crl = rc.load_crl(self.pki.crl_der)
        self.assertEqual(rc.status_from_crl(crl, self.revoked, self.issuer, require_fresh=False).status, "revoked")

    def test_crl_of_another_issuer_is_not_believed(self):
        other = pf.build_pki([], prefix="OTHER", base_url=self.sandbox.url, key_type="ec")
        self.pki.crl_der = other.make_crl([self.revoked.serial_number])
        outcome = self.client.check(self.revoked, self.issuer)
        self.assertEqual((outcome.status, outcome.reason), ("unknown", "wrong_issuer"))
        # the same names (another "TEST" PKI) but not signed by the issuer's key
        twin = pf.build_pki([], prefix="TEST", base_url=self.sandbox.url)
        self.assertEqual(twin.intermediate.cert.subject, self.issuer.subject)
        self.pki.crl_der = twin.make_crl()
        outcome = self.client.check(self.revoked, self.issuer)
        self.assertEqual((outcome.status, outcome.reason), ("unknown", "bad_signature"))
        self.assertIsNone(self.cache.get(self.pki.crl_url))

    def test_unreachable_responder(self):
        self.sandbox.faults.set("drop", "crl")
        outcome = self.client.check(self.teacher, self.issuer)
        self.assertEqual((outcome.status, outcome.reason, outcome.url), ("unknown", "unreachable", self.pki.crl_url))
        self.assertEqual(self.sandbox.counts["crl"], 2)  # one retry
        # a responder that never answers: the timeout, once per attempt
        self.sandbox.faults.set("timeout", "crl")
        self.sandbox.timeout_delay = None  # held until the client gives up, however long that takes
        session = requests.Session()
        session.mount("http://", FixedTimeout(0.5))
        with rc.RevocationClient(retries=1, cache=None, session=session) as client:
            outcome = client.check(self.teacher, self.issuer)
        # the client's own read timeout, not a connection the responder closed
        self.assertEqual((outcome.status, outcome.reason, outcome.detail), ("unknown", "unreachable", "ReadTimeout"))
        # nobody listening on the certificate's URL at all
        lonely = pf.build_pki(PEOPLE[:1], prefix="TEST", key_type="ec", base_url="http://127.0.0.1:%d" % _free_port())
        with rc.RevocationClient(timeout=2, retries=0, cache=None) as client:
            outcome = client.check(lonely.person("teacher").cert, lonely.intermediate.cert)
        self.assertEqual((outcome.status, outcome.reason), ("unknown", "unreachable"))

    def test_http_errors_and_garbage(self):
        self.sandbox.faults.set("error_500", "crl")
        outcome = self.client.check(self.teacher, self.issuer)
        self.assertEqual((outcome.status, outcome.reason, outcome.detail), ("unknown", "http_error", "HTTP 500"))
        self.assertEqual(self.sandbox.counts["crl"], 2)
        self.sandbox.faults.set("bad_body", "crl")
        outcome = self.client.check(self.teacher, self.issuer)
        self.assertEqual((outcome.status, outcome.reason), ("unknown", "unreadable"))

    def test_what_cannot_be_asked(self):
        self.assertEqual(self.client.check(self.teacher, None).reason, "no_issuer")
        # the OCSP responder's own certificate (id-pkix-ocsp-nocheck) names no CRL
        outcome = self.client.check(self.pki.ocsp.cert, self.issuer, methods=("crl", "ocsp"))
        self.assertEqual((outcome.status, outcome.reason), ("unknown", "no_source"))
        with self.assertRaises(ValueError):
            self.client.check(self.teacher, self.issuer, methods=("ldap",))
        self.assertEqual(self.sandbox.counts["crl"] + self.sandbox.counts["ocsp"], 0)

    # -- OCSP -----------------------------------------------------------------
    def test_ocsp_good_revoked_unknown(self):
        ask = lambda cert, **kw: self.client.check(cert, self.issuer, methods=("ocsp",), **kw)  # noqa: E731
        self.assertEqual((ask(self.teacher).status, ask(self.teacher).reason), ("good", "ocsp"))
        outcome = ask(self.revoked)
        self.assertEqual(
            (outcome.status, outcome.revoked_at, outcome.url), ("revoked", self.revoked_at, self.pki.ocsp_url)
        )
        self.assertEqual(ask(self.revoked, at=self.revoked_at - datetime.timedelta(seconds=1)).status, "good")
        self.sandbox.strict = True  # serials the CA never issued are "unknown"
        stranger = self.pki.issue_signer(pf.Person("x", "Người Lạ", "CCCD:000000000000", "Giáo viên")).cert
        self.assertEqual(ask(stranger).reason, "ocsp_unknown")
        self.assertEqual(self.sandbox.counts["crl"], 0)

    def test_ocsp_when_the_crl_fails(self):
        self.sandbox.faults.set("error_500", "crl")
        outcome = self.client.check(self.revoked, self.issuer, methods=("crl", "ocsp"))
        self.assertEqual((outcome.status, outcome.reason), ("revoked", "ocsp"))
        self.sandbox.faults.set("drop", "ocsp")
        outcome = self.client.check(self.revoked, self.issuer, methods=("crl", "ocsp"))
        # both failed: the first failure is reported
        self.assertEqual((outcome.status, outcome.reason), ("unknown", "http_error"))

    def test_ocsp_answers_that_are_not_believed(self):
        nonce = b"n" * 16
        request = rc.ocsp_request(self.teacher, self.issuer, nonce)
        authorities = pr.authorities_of(self.pki)
        answer = pr.answer_ocsp(request, authorities)
        self.assertEqual(rc.status_from_ocsp(answer, self.teacher, self.issuer, nonce).status, "good")
        replayed = rc.status_from_ocsp(answer, self.teacher, self.issuer, b"m" * 16)
        self.assertEqual(
            (replayed.status, replayed.reason, replayed.detail), ("unknown", "ocsp_invalid", "nonce mismatch")
        )
        other = rc.status_from_ocsp(answer, self.revoked, self.issuer, nonce)
        self.assertEqual(other.reason, "ocsp_invalid")
        # signed by a responder the issuer never certified (same names, another CA key)
        twin = pf.build_pki([], prefix="TEST")
        forged = pr.answer_ocsp(
            request, [pr.Authority(self.issuer, self.pki.intermediate.key, twin.ocsp.cert, twin.ocsp.key)]
        )
        self.assertEqual(rc.status_from_ocsp(forged, self.teacher, self.issuer, nonce).reason, "bad_signature")
        # a responder that ignores nonces: believed while its answer is current
        plain = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(self.teacher, self.issuer, hashes.SHA1())
            .build()
            .public_bytes(serialization.Encoding.DER)
        )
        answer = pr.answer_ocsp(plain, authorities)
        self.assertEqual(rc.status_from_ocsp(answer, self.teacher, self.issuer, nonce).status, "good")
        later = datetime.datetime.now(UTC) + datetime.timedelta(days=2)
        self.assertEqual(
            rc.status_from_ocsp(answer, self.teacher, self.issuer, nonce, now=later).reason, "ocsp_invalid"
        )
        refused = pr.answer_ocsp(b"not a request", authorities)
        self.assertEqual(rc.status_from_ocsp(refused, self.teacher, self.issuer, nonce).reason, "ocsp_refused")
        self.assertEqual(rc.status_from_ocsp(b"<html/>", self.teacher, self.issuer, nonce).reason, "unreadable")
