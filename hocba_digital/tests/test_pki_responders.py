"""OCSP / TSA / CRL responders and the local PKI sandbox (pure layer, no database).

The responses are checked with pyHanko's own clients and validators: what
signs a real B-T / B-LT PDF must accept them.
"""

import datetime
import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from io import BytesIO

from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.authority import AuthorityWithCert
from pyhanko_certvalidator.errors import OCSPFetchError, RevokedError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import pki_factory as pf
from ..lib.sandbox import pki_responders as pr
from ..lib.signing import aio, pades, pades_verify, xades
from .crypto_tools import is_revoked, make_pdf, pki_sandbox, quiet, revoke_an_hour_ago

UTC = datetime.timezone.utc
DER = serialization.Encoding.DER
PEOPLE = [
    pf.Person("homeroom", "Trần Thị Lan", "CCCD:001185000002", "homeroom_teacher"),
    pf.Person("revoked", "Phạm Văn Hủy", "CCCD:001080000009", "principal"),
]


def _quiet():
    return quiet("pyhanko", "pyhanko_certvalidator", "aiohttp")


def _asn1(cert):
    return asn1_x509.Certificate.load(cert.public_bytes(DER))


def _ocsp_request(cert, issuer, algorithm=None, nonce=None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(DER)


def _tsa_request(data=b"hello", algorithm="sha256", nonce=None, cert_req=True, policy=None):
    req = {
        "version": 1,
        "cert_req": cert_req,
        "message_imprint": {
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
            "hashed_message": hashlib.new(algorithm, data).digest(),
        },
    }
    if nonce is not None:
        req["nonce"] = nonce
    if policy:
        req["req_policy"] = policy
    return tsp.TimeStampReq(req).dump()


def _post(url, body, timeout=5):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def _get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


@tagged("post_install", "-at_install")
class TestPkiResponders(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = pki_sandbox(cls, PEOPLE)
        cls.pki = cls.sandbox.pki
        cls.revoked_at = revoke_an_hour_ago(cls.sandbox, "revoked")

    def setUp(self):
        super().setUp()
        self.addCleanup(self._reset)

    def _reset(self):
        self.sandbox.faults.clear()
        self.sandbox.timeout_delay, self.sandbox.slow_delay = 30.0, 1.0

    def validation_context(self, rule=None, timeout=5):
        kwargs = {}
        if rule:
            kwargs["revinfo_policy"] = CertRevTrustPolicy(RevocationCheckingPolicy(rule, rule))
        return ValidationContext(
            trust_roots=[_asn1(self.pki.root.cert)],
            allow_fetching=True,
            fetcher_backend=RequestsFetcherBackend(per_request_timeout=timeout),
            **kwargs,
        )

    def validate(self, issued, context):
        validator = CertificateValidator(
            _asn1(issued.cert), intermediate_certs=[_asn1(self.pki.intermediate.cert)], validation_context=context
        )
        return aio.run_sync(validator.async_validate_usage({"digital_signature"}))

    # -- OCSP, the pure function -----------------------------------------------
    def test_ocsp_good_revoked_unknown_unauthorized(self):
        pki = self.pki
        authorities = pr.authorities_of(pki, strict=True)
        nonce = os.urandom(16)
        answer = ocsp.load_der_ocsp_response(
            pr.answer_ocsp(_ocsp_request(pki.person("homeroom").cert, pki.intermediate.cert, nonce=nonce), authorities)
        )
        self.assertEqual(answer.response_status, ocsp.OCSPResponseStatus.SUCCESSFUL)
        self.assertEqual(answer.certificate_status, ocsp.OCSPCertStatus.GOOD)
        self.assertEqual(answer.serial_number, pki.person("homeroom").serial_number)
        self.assertEqual(answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce, nonce)
        self.assertEqual(answer.certificates, [pki.ocsp.cert])
        self.assertIsInstance(
            pki.ocsp.cert.extensions.get_extension_for_class(x509.OCSPNoCheck).value, x509.OCSPNoCheck
        )
        pki.ocsp.cert.public_key().verify(
            answer.signature, answer.tbs_response_bytes, *_verify_args(pki.ocsp.cert, answer)
        )
        self.assertLess(answer.this_update_utc, answer.next_update_utc)

        revoked = ocsp.load_der_ocsp_response(
            pr.answer_ocsp(
                _ocsp_request(pki.person("revoked").cert, pki.intermediate.cert, hashes.SHA256()), authorities
            )
        )
        self.assertEqual(revoked.certificate_status, ocsp.OCSPCertStatus.REVOKED)
        self.assertEqual(revoked.revocation_time_utc, self.revoked_at)
        self.assertEqual(revoked.revocation_reason, x509.ReasonFlags.key_compromise)
        self.assertEqual(revoked.hash_algorithm.name, "sha256")

        stranger = pki.issue_signer(pf.Person("x", "Người Lạ", "CCCD:1"))  # not registered
        unknown = ocsp.load_der_ocsp_response(
            pr.answer_ocsp(_ocsp_request(stranger.cert, pki.intermediate.cert), authorities)
        )
        self.assertEqual(unknown.certificate_status, ocsp.OCSPCertStatus.UNKNOWN)
        lenient = ocsp.load_der_ocsp_response(
            pr.answer_ocsp(_ocsp_request(stranger.cert, pki.intermediate.cert), pr.authorities_of(pki))
        )
        self.assertEqual(lenient.certificate_status, ocsp.OCSPCertStatus.GOOD)

        other = pf.build_pki([], prefix="OTHER", key_type="ec")
        foreign = ocsp.load_der_ocsp_response(
            pr.answer_ocsp(_ocsp_request(other.seal.cert, other.intermediate.cert), authorities)
        )
        self.assertEqual(foreign.response_status, ocsp.OCSPResponseStatus.UNAUTHORIZED)
        for junk in (b"", b"\x30\x00", b"not an ocsp request" * 10):
            self.assertEqual(
                ocsp.load_der_ocsp_response(pr.answer_ocsp(junk, authorities)).response_status,
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST,
            )

    def test_ocsp_for_the_intermediate_is_signed_by_the_root(self):
        pki = self.pki
        answer = ocsp.load_der_ocsp_response(
            pr.answer_ocsp(_ocsp_request(pki.intermediate.cert, pki.root.cert), pr.authorities_of(pki))
        )
        self.assertEqual(answer.certificate_status, ocsp.OCSPCertStatus.GOOD)
        self.assertEqual(answer.certificates, [])
        self.assertEqual(
            answer.responder_key_hash, x509.SubjectKeyIdentifier.from_public_key(pki.root.cert.public_key()).digest
        )
        pki.root.cert.public_key().verify(
            answer.signature, answer.tbs_response_bytes, *_verify_args(pki.root.cert, answer)
        )

    # -- pyHanko's clients against the sandbox ------------------------------
    def test_pyhanko_ocsp_fetcher_accepts_the_response(self):
        fetcher = RequestsFetcherBackend(per_request_timeout=5).get_fetchers().ocsp_fetcher
        authority = AuthorityWithCert(_asn1(self.pki.intermediate.cert))
        response = aio.run_sync(fetcher.fetch(_asn1(self.pki.person("revoked").cert), authority))
        single = response["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]
        self.assertEqual(single["cert_status"].name, "revoked")
        self.assertIsNotNone(response.nonce_value)  # pyHanko sent one and checked the echo

    def test_revoked_certificate_through_ocsp_and_crl(self):
        for rule, used, unused in [
            (RevocationCheckingRule.OCSP_REQUIRED, "ocsp", "crl"),
            (RevocationCheckingRule.CRL_REQUIRED, "crl", "ocsp"),
        ]:
            before = dict(self.sandbox.counts)
            self.validate(self.pki.person("homeroom"), self.validation_context(rule))
            with _quiet(), self.assertRaises(RevokedError, msg=rule):
                self.validate(self.pki.person("revoked"), self.validation_context(rule))
            self.assertGreater(self.sandbox.counts[used], before.get(used, 0), rule)
            self.assertEqual(self.sandbox.counts[unused], before.get(unused, 0), rule)
        # the published CRL says the same, with the date
        status, kind, crl = _get(self.sandbox.crl_url())
        self.assertEqual((status, kind), (200, "application/pkix-crl"))
        entry = pf.revocation_entry(self.pki.person("revoked"), crl, self.pki.intermediate.cert)
        self.assertEqual(entry.revocation_date_utc, self.revoked_at)
        self.assertFalse(is_revoked(self.pki.person("homeroom"), crl))

    def test_tsa_through_pyhanko_client(self):
        digest = hashlib.sha256(b"transcript").digest()
        token = aio.run_sync(HTTPTimeStamper(self.sandbox.tsa_url).async_timestamp(digest, "sha256"))
        status = aio.run_sync(
            validate_tst_signed_data(token["content"], self.validation_context(), lambda _algo: digest)
        )
        self.assertTrue(status["intact"] and status["valid"], status)
        self.assertIsNone(status["trust_problem_indic"])

    def test_pdf_b_lt_signed_through_the_sandbox(self):
        before = dict(self.sandbox.counts)
        pdf = pades.prepare(make_pdf(), ["sig_homeroom"])
        signer = xades.KeySigner(
            self.pki.person("homeroom").key, self.pki.person("homeroom").cert, [self.pki.intermediate.cert]
        )
        pdf = pades.sign(
            pdf,
            "sig_homeroom",
            signer,
            reason="Ký học bạ số",
            location="Hà Nội",
            timestamper_url=self.sandbox.tsa_url,
            embed_revocation=True,
            validation_context=self.validation_context(),
        )
        report = pades_verify.verify(pdf, [self.pki.root_pem])
        self.assertTrue(report["verdict"], report)
        signature = report["signatures"][0]
        self.assertTrue(signature["timestamp"] and signature["timestamp_ok"], signature)
        dss = PdfFileReader(BytesIO(pdf), strict=False).root["/DSS"]
        self.assertGreaterEqual(len(dss["/OCSPs"]), 1)
        self.assertGreater(self.sandbox.counts["tsa"], before.get("tsa", 0))
        self.assertGreater(self.sandbox.counts["ocsp"], before.get("ocsp", 0))

    # -- RFC 3161, the pure function -------------------------------------------
    def test_tsa_nonce_cert_req_and_refusals(self):
        pki = self.pki
        response = tsp.TimeStampResp.load(
            pr.answer_tsa(_tsa_request(nonce=123456789), pki.tsa.cert, pki.tsa.key, chain=[pki.intermediate.cert])
        )
        self.assertEqual(response["status"]["status"].native, "granted")
        signed = response["time_stamp_token"]["content"]
        info = signed["encap_content_info"]["content"].parsed
        self.assertEqual(info["nonce"].native, 123456789)
        self.assertEqual(info["message_imprint"]["hashed_message"].native, hashlib.sha256(b"hello").digest())
        self.assertEqual(info["policy"].native, pr.TSA_POLICY)
        self.assertEqual(
            {c.chosen.sha256 for c in signed["certificates"]},  # a SET: DER sorts it
            {_asn1(pki.tsa.cert).sha256, _asn1(pki.intermediate.cert).sha256},
        )
        bare = tsp.TimeStampResp.load(
            pr.answer_tsa(_tsa_request(cert_req=False), pki.tsa.cert, pki.tsa.key, chain=[pki.intermediate.cert])
        )
        self.assertIsNone(bare["time_stamp_token"]["content"]["certificates"].native)
        self.assertNotIn(
            "nonce",
            {
                k
                for k, v in bare["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed.native.items()
                if v is not None
            },
        )
        for request, fail in [
            (_tsa_request(algorithm="md5"), "bad_alg"),
            (b"\x30\x03\x02\x01\x01", "bad_data_format"),
            (b"", "bad_data_format"),
            (_tsa_request(policy="1.2.3.4"), "unaccepted_policy"),
        ]:
            der = pr.answer_tsa(request, pki.tsa.cert, pki.tsa.key)
            # asn1crypto's TimeStampResp cannot load a response without token: read the status alone
            self.assertEqual((der[0], der[1]), (0x30, len(der) - 2))
            status = tsp.PKIStatusInfo.load(der[2:])
            self.assertEqual(status["status"].native, "rejection")
            self.assertEqual(status["fail_info"].native, {fail})

    def test_tsa_with_ec_keys_validates(self):
        other = pf.build_pki([], prefix="TEST", key_type="ec")
        digest = hashlib.sha256(b"hello").digest()
        token = tsp.TimeStampResp.load(
            pr.answer_tsa(_tsa_request(), other.tsa.cert, other.tsa.key, chain=[other.intermediate.cert])
        )["time_stamp_token"]
        context = ValidationContext(trust_roots=[_asn1(other.root.cert)], revocation_mode="soft-fail")
        with _quiet():  # soft-fail: its URLs point nowhere
            status = aio.run_sync(validate_tst_signed_data(token["content"], context, lambda _a: digest))
        self.assertTrue(status["intact"] and status["valid"], status)
        self.assertIsNone(status["trust_problem_indic"])

    # -- the HTTP endpoints -----------------------------------------------------
    def test_endpoints_serve_the_pki(self):
        pki, url = self.pki, self.sandbox.url
        self.assertEqual(pki.ocsp_url, self.sandbox.ocsp_url)
        self.assertEqual(_get(url + "/certs/root.cer")[2], pki.root.cert_der)
        self.assertEqual(_get(url + "/certs/intermediate.cer")[1], "application/pkix-cert")
        self.assertEqual(_get(url + "/certs/homeroom.cer")[2], pki.person("homeroom").cert_der)
        self.assertEqual(_get(pki.root_crl_url)[2], pki.root_crl_der)
        for missing in ("/certs/nobody.cer", "/crl/other.crl", "/nothing"):
            with self.assertRaises(urllib.error.HTTPError) as caught:
                _get(url + missing)
            self.assertEqual(caught.exception.code, 404)
        # RFC 6960 GET form
        import base64

        request = base64.b64encode(_ocsp_request(pki.person("homeroom").cert, pki.intermediate.cert)).decode()
        answer = ocsp.load_der_ocsp_response(_get(url + "/ocsp/" + urllib.request.quote(request, safe=""))[2])
        self.assertEqual(answer.certificate_status, ocsp.OCSPCertStatus.GOOD)
        before = self.sandbox.counts["certs"]
        _get(url + "/certs/seal.cer")
        self.assertEqual(self.sandbox.counts["certs"], before + 1)

    def test_port_is_reserved_before_the_pki_exists(self):
        sandbox = pr.PkiSandbox()
        self.addCleanup(sandbox.stop)
        self.assertNotEqual(sandbox.port, 0)
        with self.assertRaises(OSError):  # already bound: nobody else can take it
            socket.create_server(("127.0.0.1", sandbox.port))
        with self.assertRaises(ValueError):
            sandbox.start()
        sandbox.pki = pf.build_pki([], base_url=sandbox.url, key_type="ec")
        with sandbox:
            self.assertEqual(_get(sandbox.url + "/certs/root.cer")[2], sandbox.pki.root.cert_der)

    # -- faults -----------------------------------------------------------------
    def test_faults_are_observable(self):
        request = _tsa_request()
        url = self.sandbox.tsa_url
        self.sandbox.faults.set("error_500")
        with self.assertRaises(urllib.error.HTTPError) as caught:
            _post(url, request)
        self.assertEqual(caught.exception.code, 500)

        self.sandbox.faults.set("drop")
        with self.assertRaises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            _post(url, request)

        self.sandbox.faults.set("timeout")
        self.sandbox.timeout_delay = None  # held until the client gives up, however long that takes
        with self.assertRaises((TimeoutError, socket.timeout, urllib.error.URLError)) as caught:
            _post(url, request, timeout=0.5)
        # the client's own timeout, not a connection the responder closed
        self.assertIsInstance(getattr(caught.exception, "reason", caught.exception), (TimeoutError, socket.timeout))

        self.sandbox.faults.set("slow")
        self.sandbox.slow_delay = 0.4
        start = time.monotonic()
        status, body = _post(url, request)
        self.assertGreaterEqual(time.monotonic() - start, 0.4)
        self.assertEqual(tsp.TimeStampResp.load(body)["status"]["status"].native, "granted")

        self.sandbox.faults.set("bad_body")
        status, body = _post(url, request)
        self.assertEqual(status, 200)
        with self.assertRaises(ValueError):
            tsp.TimeStampResp.load(body).native

    def test_faults_seen_by_pyhanko_clients(self):
        digest = hashlib.sha256(b"x").digest()
        cert, authority = _asn1(self.pki.person("homeroom").cert), AuthorityWithCert(_asn1(self.pki.intermediate.cert))
        self.sandbox.timeout_delay = 3
        for fault in ("error_500", "drop", "timeout", "bad_body"):
            self.sandbox.faults.set(fault, "tsa")
            self.sandbox.faults.set(fault, "ocsp")
            # asn1crypto parses lazily: pyHanko's clients let a ValueError out for a non-DER body
            lenient = (ValueError,) if fault == "bad_body" else ()
            with _quiet(), self.assertRaises((TimestampRequestError,) + lenient, msg=fault):
                aio.run_sync(HTTPTimeStamper(self.sandbox.tsa_url, timeout=1).async_timestamp(digest, "sha256"))
            fetcher = RequestsFetcherBackend(per_request_timeout=1).get_fetchers().ocsp_fetcher
            with _quiet(), self.assertRaises((OCSPFetchError,) + lenient, msg=fault):
                aio.run_sync(fetcher.fetch(cert, authority))
        # a fault on one endpoint leaves the others alone; signing a B-T PDF then fails
        self.sandbox.faults.clear()
        self.sandbox.faults.set("error_500", "tsa")
        self.assertEqual(_get(self.sandbox.crl_url())[0], 200)
        pdf = pades.prepare(make_pdf(), ["sig_homeroom"])
        signer = xades.KeySigner(
            self.pki.person("homeroom").key, self.pki.person("homeroom").cert, [self.pki.intermediate.cert]
        )
        url = self.sandbox.tsa_url + "?fault-test"  # not the URL cached by pades for other tests
        with _quiet(), self.assertRaises((TimestampRequestError, SigningError)):
            pades.sign(pdf, "sig_homeroom", signer, reason="r", location="l", timestamper_url=url)
        self.sandbox.faults.clear()
        signed = pades.sign(pdf, "sig_homeroom", signer, reason="r", location="l", timestamper_url=url)
        self.assertTrue(pades_verify.verify(signed, [self.pki.root_pem])["signatures"][0]["timestamp_ok"])


def _verify_args(cert, answer):
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    if isinstance(cert.public_key(), ec.EllipticCurvePublicKey):
        return (ec.ECDSA(answer.signature_hash_algorithm),)
    return (padding.PKCS1v15(), answer.signature_hash_algorithm)
