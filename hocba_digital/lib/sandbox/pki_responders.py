"""OCSP, time-stamping and CRL answers for a demo PKI, plus a local HTTP sandbox.

No Odoo import here.  Pure functions turn request bytes into response bytes:
``answer_ocsp`` (RFC 6960; each ``Authority`` is an issuing CA, the responder
signing for it - delegated with id-pkix-ocsp-nocheck, or the CA itself - and
its revoked serials), ``answer_tsa`` (RFC 3161; nonce echoed, certificates
only when certReq asks) and ``current_crl`` (what a ``pki_factory.DemoPKI``
publishes).  ``PkiSandbox`` serves them for one DemoPKI on 127.0.0.1 and can
be told to misbehave, so that callers meet a TSA or OCSP responder that is
down, slow or broken::

    with PkiSandbox.with_pki(PEOPLE) as sandbox:   # the PKI's URLs point to it
        pades.sign(..., timestamper_url=sandbox.tsa_url)
        sandbox.faults.set("error_500", "tsa")      # or sandbox.faults.set("drop") (all)
"""

import base64
import collections
import contextlib
import datetime
import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp

from . import faults
from .local_server import LocalServer

UTC = datetime.timezone.utc
TSA_POLICY = "2.25.256486961310051742296642737359884185772"  # UUID arc: needs no registration
ENDPOINTS = ("ocsp", "tsa", "crl", "certs")
MAX_REQUEST = 64 * 1024
_TSA_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


# ---------------------------------------------------------------------------
# OCSP
# ---------------------------------------------------------------------------
class Authority:
    """One issuing CA as the OCSP responder sees it.

    ``revoked``: {serial: (revocation datetime, x509.ReasonFlags or None)}.
    ``known_serials``: None means every serial of this issuer exists (good
    unless revoked); a set makes any other serial "unknown".
    Without ``responder_cert`` the CA signs its own responses.
    """

    def __init__(
        self, issuer_cert, issuer_key, responder_cert=None, responder_key=None, revoked=None, known_serials=None
    ):
        self.issuer_cert = issuer_cert
        self.issuer_key = issuer_key
        self.responder_cert = responder_cert or issuer_cert
        self.responder_key = responder_key or issuer_key
        self.revoked = dict(revoked or {})
        self.known_serials = known_serials

    def matches(self, algorithm, name_hash, key_hash):
        name = hashes.Hash(algorithm)
        name.update(self.issuer_cert.subject.public_bytes())
        key = hashes.Hash(algorithm)
        key.update(_public_key_bits(self.issuer_cert))
        return name.finalize() == name_hash and key.finalize() == key_hash


def _public_key_bits(cert):
    # the CertID key hash is over the BIT STRING value of subjectPublicKey
    spki = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)).public_key
    return spki["public_key"].contents[1:]


def revoked_from_crl(crl_der):
    """{serial: (revocation datetime, reason or None)} of a DER (or PEM) CRL."""
    crl = x509.load_pem_x509_crl(crl_der) if crl_der.lstrip().startswith(b"-----") else x509.load_der_x509_crl(crl_der)
    result = {}
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reason = None
        result[entry.serial_number] = (entry.revocation_date_utc, reason)
    return result


def _ocsp_error(status):
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def answer_ocsp(request_der, authorities, *, now=None, validity=datetime.timedelta(hours=1)):
    """DER OCSPResponse for ``request_der``; never raises on bad input.

    Malformed request -> malformedRequest; issuer not among ``authorities``
    -> unauthorized; otherwise a signed response good / revoked / unknown,
    with the request's nonce echoed.  Only one CertID per request (what
    every client sends; cryptography cannot parse more).
    """
    try:
        request = ocsp.load_der_ocsp_request(bytes(request_der))
        algorithm = request.hash_algorithm
    except (ValueError, UnsupportedAlgorithm):  # any unreadable body
        return _ocsp_error(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    authority = next(
        (a for a in authorities if a.matches(algorithm, request.issuer_name_hash, request.issuer_key_hash)), None
    )
    if authority is None:
        return _ocsp_error(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = (now or datetime.datetime.now(UTC)).replace(microsecond=0)
    serial = request.serial_number
    revoked_at, reason = None, None
    if serial in authority.revoked:
        status = ocsp.OCSPCertStatus.REVOKED
        revoked_at, reason = authority.revoked[serial]
    elif authority.known_serials is not None and serial not in authority.known_serials:
        status = ocsp.OCSPCertStatus.UNKNOWN
    else:
        status = ocsp.OCSPCertStatus.GOOD
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            request.issuer_name_hash,
            request.issuer_key_hash,
            serial,
            algorithm,
            status,
            now - datetime.timedelta(minutes=1),
            now + validity,
            revoked_at,
            reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, authority.responder_cert)
    )
    if authority.responder_cert != authority.issuer_cert:
        builder = builder.certificates([authority.responder_cert])
    with contextlib.suppress(x509.ExtensionNotFound):  # a request without a nonce
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
        builder = builder.add_extension(x509.OCSPNonce(nonce.nonce), critical=False)
    return builder.sign(authority.responder_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------------------
# RFC 3161
# ---------------------------------------------------------------------------
class _RejectionResp(core.Sequence):
    # asn1crypto's TimeStampResp wants a token; a refusal has none
    _fields = [("status", tsp.PKIStatusInfo)]


def _tsa_reject(fail_info, text):
    return _RejectionResp(
        {
            "status": tsp.PKIStatusInfo(
                {
                    "status": "rejection",
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({fail_info}),
                }
            )
        }
    ).dump()


def _asn1(cert):
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def answer_tsa(request_der, tsa_cert, tsa_key, *, chain=(), now=None, policy=TSA_POLICY, serial=None):
    """DER TimeStampResp for ``request_der``; never raises on bad input.

    Granted with a token signed by ``tsa_key`` (RSA PKCS#1 v1.5 or ECDSA,
    SHA-256, ESS signingCertificate) for SHA-256/384/512 imprints;
    rejection with badAlg / badDataFormat / unacceptedPolicy otherwise.
    ``chain`` (e.g. the intermediate) is added after the TSA certificate
    when the request sets certReq.
    """
    try:
        request = tsp.TimeStampReq.load(bytes(request_der))
        imprint = request["message_imprint"]
        hash_name = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
        nonce = request["nonce"].native
        cert_req = bool(request["cert_req"].native)
        req_policy = request["req_policy"].native
    except (ValueError, TypeError, KeyError):  # what asn1crypto raises on bytes that are not a TimeStampReq
        return _tsa_reject("bad_data_format", "unreadable TimeStampReq")
    if hash_name not in _TSA_HASHES:
        return _tsa_reject("bad_alg", "unsupported hash algorithm %s" % hash_name)
    if len(digest or b"") != _TSA_HASHES[hash_name]().digest_size:
        return _tsa_reject("bad_data_format", "hashed message does not fit %s" % hash_name)
    if req_policy is not None and req_policy != policy:
        return _tsa_reject("unaccepted_policy", "only policy %s is offered" % policy)
    now = now or datetime.datetime.now(UTC)
    asn1_tsa = _asn1(tsa_cert)
    info = {
        "version": "v1",
        "policy": policy,
        "message_imprint": imprint,
        "serial_number": serial or int.from_bytes(os.urandom(8), "big"),
        "gen_time": now.astimezone(UTC),
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(name="directory_name", value=asn1_tsa.subject),
    }
    if nonce is not None:
        info["nonce"] = nonce
    info_der = tsp.TSTInfo(info).dump()
    # ESS signingCertificate v1, not v2: when pyHanko force-encodes a signature
    # holding the token, asn1crypto re-encodes an ESSCertIDv2 (rebuilding its
    # default hash_algorithm) so many times that one B-T signature took ~15 s.
    ess = tsp.SigningCertificate(
        {
            "certs": [
                {
                    "cert_hash": hashlib.sha1(asn1_tsa.dump()).digest(),  # noqa: S324 - an identifier, as RFC 2634 says
                    "issuer_serial": {
                        "issuer": [asn1_x509.GeneralName(name="directory_name", value=asn1_tsa.issuer)],
                        "serial_number": asn1_tsa.serial_number,
                    },
                }
            ]
        }
    )
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "signing_time", "values": [cms.Time({"utc_time": core.UTCTime(now.astimezone(UTC))})]},
            {"type": "message_digest", "values": [hashlib.sha256(info_der).digest()]},
            {"type": "signing_certificate", "values": [ess]},
        ]
    )
    if isinstance(tsa_key, rsa.RSAPrivateKey):
        signature = tsa_key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        sig_alg = "sha256_rsa"
    elif isinstance(tsa_key, ec.EllipticCurvePrivateKey):
        signature = tsa_key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
        sig_alg = "sha256_ecdsa"
    else:
        return _tsa_reject("system_failure", "unsupported TSA key")
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": asn1_tsa.issuer, "serial_number": asn1_tsa.serial_number},
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_alg}),
            "signature": signature,
        }
    )
    signed_data = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(info_der)},
        "signer_infos": [signer_info],
    }
    if cert_req:
        signed_data["certificates"] = [asn1_tsa] + [_asn1(c) for c in chain]
    token = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


# ---------------------------------------------------------------------------
# A DemoPKI's published material
# ---------------------------------------------------------------------------
def current_crl(pki, name="intermediate"):
    """DER CRL published as ``/crl/<name>.crl`` ("intermediate" or "root")."""
    return {"intermediate": pki.crl_der, "root": pki.root_crl_der}[name]


def authorities_of(pki, strict=False):
    """OCSP authorities of a DemoPKI: the intermediate (delegated responder
    ``pki.ocsp``) and the root (signs for the intermediate itself), with the
    revocations of their current CRLs.  ``strict``: serials the PKI did not
    register are "unknown"."""
    known = None
    if strict:
        known = {i.serial_number for i in list(pki.people.values()) + [pki.seal, pki.ocsp, pki.tsa]}
    return [
        Authority(
            pki.intermediate.cert,
            pki.intermediate.key,
            pki.ocsp.cert,
            pki.ocsp.key,
            revoked_from_crl(pki.crl_der),
            known,
        ),
        Authority(
            pki.root.cert,
            pki.root.key,
            revoked=revoked_from_crl(pki.root_crl_der),
            known_serials={pki.intermediate.serial_number} if strict else None,
        ),
    ]


def certificate_der(pki, name):
    """DER certificate published as ``/certs/<name>.cer`` (CA, service or person key)."""
    if name in pki.people:
        return pki.people[name].cert_der
    if name in ("root", "intermediate", "seal", "ocsp", "tsa"):
        return getattr(pki, name).cert_der
    raise KeyError(name)


# ---------------------------------------------------------------------------
# The HTTP sandbox
# ---------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        self._serve("POST")

    def do_GET(self):  # noqa: N802
        self._serve("GET")

    def _reply(self, code, body, content_type="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, method):
        sandbox = self.server.sandbox
        parts = self.path.split("?")[0].strip("/").split("/", 1)
        endpoint = parts[0] if parts[0] in ENDPOINTS else "other"
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST:
            return self._reply(413, b"request too large", "text/plain")
        body = self.rfile.read(length) if length else b""
        fault = sandbox.count(endpoint)
        if fault in (faults.TIMEOUT, faults.DROP):
            if fault == faults.TIMEOUT:  # hold the connection, never answer
                sandbox.hold_until_gone(self.connection)
            self.close_connection = True
            return None
        if fault == faults.ERROR_500:
            return self._reply(500, ("injected failure %s" % fault).encode(), "text/plain")
        if fault == faults.SLOW:
            sandbox.hold(sandbox.slow_delay)
        pki = sandbox.pki
        rest = parts[1] if len(parts) > 1 else ""
        if endpoint == "ocsp" and (method == "POST" or rest):
            request = body if method == "POST" else base64.b64decode(unquote(rest) + "==", validate=False)
            answer, kind = answer_ocsp(request, authorities_of(pki, sandbox.strict)), "application/ocsp-response"
        elif endpoint == "tsa" and method == "POST":
            answer = answer_tsa(body, pki.tsa.cert, pki.tsa.key, chain=[pki.intermediate.cert])
            kind = "application/timestamp-reply"
        elif endpoint == "crl" and method == "GET" and rest.endswith(".crl") and rest[:-4] in ("root", "intermediate"):
            answer, kind = current_crl(pki, rest[:-4]), "application/pkix-crl"
        elif endpoint == "certs" and method == "GET" and rest.endswith(".cer"):
            try:
                answer, kind = certificate_der(pki, rest[:-4]), "application/pkix-cert"
            except KeyError:
                return self._reply(404, b"no such certificate", "text/plain")
        else:
            return self._reply(404, b"not found", "text/plain")
        if fault == faults.BAD_BODY:
            answer = b"<html>garbage, not DER</html>"
        return self._reply(200, answer, kind)


class PkiSandbox(LocalServer):
    """OCSP / TSA / CRL / certificate server on ``host``, for one DemoPKI.

    The port is bound at construction (``port=0``: the system picks one) so
    ``url`` is known before the PKI is made: build the PKI with
    ``base_url=sandbox.url`` (or use ``with_pki``), assign it to ``pki``,
    then ``start()`` / ``stop()`` or use the sandbox as a context manager.

    Faults (``faults.PKI``), with ``faults.set(kind)`` for every endpoint or
    ``faults.set(kind, endpoint)`` (endpoint in ``ENDPOINTS``) for one, or
    ``faults.add(kind, times, endpoint=...)`` for the next requests:
    "timeout" holds the request until the client gives up (at most
    ``timeout_delay`` seconds) then closes without answer, "drop" closes at
    once without answer, "error_500" answers HTTP 500, "slow" answers
    correctly after ``slow_delay`` seconds, "bad_body"
    answers 200 with bytes that are not DER.  ``counts[endpoint]`` counts
    requests.
    """

    handler_class = _Handler
    thread_name = "pki-sandbox"
    fault_kinds = faults.PKI

    def __init__(self, pki=None, host="127.0.0.1", port=0, strict=False):
        super().__init__(host, port, timeout_delay=30.0, slow_delay=1.0)
        self.pki = pki
        self.strict = strict
        self.counts = collections.Counter()
        self._lock = threading.Lock()
        self.bind()

    @classmethod
    def with_pki(cls, people=(), host="127.0.0.1", port=0, strict=False, **build_kwargs):
        """A sandbox and a new DemoPKI (``pki_factory.build_pki``) whose URLs point to it."""
        from .pki_factory import build_pki

        sandbox = cls(host=host, port=port, strict=strict)
        sandbox.pki = build_pki(people, base_url=sandbox.url, **build_kwargs)
        return sandbox

    @property
    def url(self):
        return self.root_url

    @property
    def ocsp_url(self):
        return self.url + "/ocsp"

    @property
    def tsa_url(self):
        return self.url + "/tsa"

    def crl_url(self, name="intermediate"):
        return "%s/crl/%s.crl" % (self.url, name)

    def count(self, endpoint):
        """Count one request to ``endpoint``; return the fault to apply to it."""
        with self._lock:
            self.counts[endpoint] += 1
        return self.faults.pick(endpoint)

    def revoke(self, *items):
        """Add revocations (as ``DemoPKI.make_crl`` items) to those already published."""
        current = [
            (serial, when, reason) if reason is not None else (serial, when)
            for serial, (when, reason) in revoked_from_crl(self.pki.crl_der).items()
        ]
        return self.pki.revoke(*current, *items)

    def start(self):
        if self.pki is None:
            raise ValueError("PkiSandbox needs a pki before it starts")
        return super().start()
