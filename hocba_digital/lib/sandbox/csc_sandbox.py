"""A local CSC API v1 signing service for tests and the demo.  No Odoo import here.

::

    with CscSandbox(max_pin_tries=3) as sandbox:            # 127.0.0.1, free port
        sandbox.add_user("lan", "password")
        sandbox.add_issued("lan-rsa", pki.person("homeroom"), [pki.intermediate.cert],
                           owner="lan", pin="123456")
        signer = CscSigner(sandbox.service_url, "lan-rsa", username="lan", password="password")

Implements the part of CSC v1.0.4 that ``csc_signer`` uses (all POST + JSON
under ``/csc/v1/``): ``info``, ``auth/login`` (HTTP Basic -> bearer token),
``credentials/list``, ``credentials/info``, ``credentials/authorize`` (PIN ->
SAD good for ``numSignatures`` hashes, bound to them for SCAL 2) and
``signatures/signHash``.  Keys live in memory (``pki_factory.Issued``, PKCS#12
or any cryptography key).  A credential locks after ``max_pin_tries`` wrong
PINs in a row (``unlock`` resets it).

Test switches: ``faults.add(kind, times=1, endpoint=None)`` (``faults.CSC``,
see ``lib/sandbox/faults.py``) makes the next calls fail: ``"timeout"`` (503
only once the client gave up, at most ``timeout_delay`` seconds), ``"slow"`` (the answer after
``slow_delay`` seconds), ``"error_500"``, ``"drop"`` (close the connection
without an answer), ``"bad_signature"`` (signHash returns a corrupted value).
``counters`` counts calls per endpoint.

This is *not* a secure service: plain HTTP unless ``tls=(certfile, keyfile)``,
unencrypted keys in memory, no rate limiting beyond the PIN lockout.
"""

import base64
import binascii
import collections
import contextlib
import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from ..signing.keys.csc_signer import EC_PUBLIC_KEY, HASH_OIDS, RSA_ENCRYPTION, SIGN_OIDS
from . import faults
from .local_server import LocalServer

_logger = logging.getLogger(__name__)

API = "/csc/v1/"
_HASH_BY_OID = {oid: name for name, oid in HASH_OIDS.items()}
_SIGN_BY_OID = {oid: pair for pair, oid in SIGN_OIDS.items()}
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class _Fail(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class _Credential:
    id: str
    key: object
    certificate: object
    chain: list
    owner: str
    pin: str
    auth_mode: str
    scal: int
    raw_ecdsa: bool
    description: str
    failed_pins: int = 0
    locked: bool = False

    @property
    def key_type(self):
        return "rsa" if isinstance(self.key, rsa.RSAPrivateKey) else "ec"

    def algorithms(self):
        generic = RSA_ENCRYPTION if self.key_type == "rsa" else EC_PUBLIC_KEY
        return [generic] + [oid for (kind, _h), oid in SIGN_OIDS.items() if kind == self.key_type]

    def sign(self, digest, hash_name):
        prehashed = asym_utils.Prehashed(_HASHES[hash_name]())
        if self.key_type == "rsa":
            return self.key.sign(digest, padding.PKCS1v15(), prehashed)
        signature = self.key.sign(digest, ec.ECDSA(prehashed))
        if self.raw_ecdsa:
            size = (self.key.key_size + 7) // 8
            r, s = asym_utils.decode_dss_signature(signature)
            signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return signature


class CscSandbox(LocalServer):
    """Threaded CSC v1 server on ``host:port`` (port 0: any free port); a context manager."""

    thread_name = "csc-sandbox"
    fault_kinds = faults.CSC

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        *,
        multisign=10,
        max_pin_tries=3,
        sad_lifetime=300,
        token_lifetime=3600,
        timeout_delay=3.0,
        slow_delay=0.2,
        tls=None,
        name="Hoc Ba So CSC sandbox",
    ):
        super().__init__(host, port, tls, timeout_delay=timeout_delay, slow_delay=slow_delay)
        self.multisign, self.max_pin_tries = multisign, max_pin_tries
        self.sad_lifetime, self.token_lifetime = sad_lifetime, token_lifetime
        self.name = name
        self.users, self.credentials = {}, {}
        self.counters = collections.Counter()
        self._tokens = {}  # token -> (username, expires at)
        self._sads = {}  # SAD -> dict(credential, left, until, hashes)
        self._lock = threading.RLock()

    # -- set-up ---------------------------------------------------------------
    def add_user(self, username, password):
        self.users[username] = password

    def issue_token(self, username, lifetime=None):
        """A bearer token for ``username`` (what ``auth/login`` would return)."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (username, time.time() + (lifetime or self.token_lifetime))
        return token

    def expire_tokens(self):
        with self._lock:
            self._tokens.clear()

    def add_credential(
        self,
        credential_id,
        key,
        certificate,
        chain=(),
        *,
        owner,
        pin=None,
        auth_mode="explicit",
        scal=1,
        raw_ecdsa=False,
        description="",
    ):
        """``pin=None`` with ``auth_mode="implicit"``: authorisation without PIN.
        ``raw_ecdsa``: ECDSA signatures come back as plain ``r || s``."""
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise ValueError("unsupported private key type %s" % type(key).__name__)
        chain = [c for c in chain if c != certificate]
        self.credentials[credential_id] = _Credential(
            credential_id, key, certificate, chain, owner, pin, auth_mode, scal, raw_ecdsa, description
        )

    def add_issued(self, credential_id, issued, chain=(), **kw):
        """From a ``pki_factory.Issued`` (key + certificate)."""
        self.add_credential(credential_id, issued.key, issued.cert, chain, **kw)

    def add_pkcs12(self, credential_id, data, passphrase, **kw):
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        key, cert, more = pkcs12.load_key_and_certificates(data, passphrase or None)
        self.add_credential(credential_id, key, cert, more or (), **kw)

    def unlock(self, credential_id):
        credential = self.credentials[credential_id]
        credential.failed_pins, credential.locked = 0, False

    def reset_counters(self):
        with self._lock:
            self.counters.clear()

    def count(self, endpoint):
        return self.counters[endpoint]

    # -- server ---------------------------------------------------------------
    @property
    def url(self):
        return self.root_url

    @property
    def service_url(self):
        return self.url + API.rstrip("/")

    def _handler(self):
        return _Handler

    # -- request plumbing -----------------------------------------------------
    def take_fault(self, endpoint):
        """Count one call of ``endpoint``; the fault to play on it, if any."""
        with self._lock:
            self.counters[endpoint] += 1
        return self.faults.pick(endpoint)

    def _user(self, headers):
        value = headers.get("Authorization") or ""
        if not value.startswith("Bearer "):
            raise _Fail(401, "invalid_token", "Missing bearer access token")
        with self._lock:
            username, until = self._tokens.get(value[7:], (None, 0))
        if username is None or time.time() >= until:
            raise _Fail(401, "invalid_token", "The access token is not valid")
        return username

    def _credential(self, body, username):
        credential = self.credentials.get(body.get("credentialID"))
        if credential is None or credential.owner != username:
            raise _Fail(400, "invalid_request", "Invalid parameter credentialID")
        return credential

    def dispatch(self, endpoint, body, headers, fault=None):
        if endpoint == "signatures/signHash":
            return self._sign_hash(body, headers, corrupt=fault == faults.BAD_SIGNATURE)
        handler = {
            "info": self._info,
            "auth/login": self._login,
            "credentials/list": self._list,
            "credentials/info": self._cred_info,
            "credentials/authorize": self._authorize,
        }.get(endpoint)
        if handler is None:
            raise _Fail(404, "invalid_request", "Unknown endpoint")
        return handler(body, headers)

    # -- endpoints ------------------------------------------------------------
    def _info(self, body, headers):
        return {
            "specs": "1.0.4.0",
            "name": self.name,
            "logo": "",
            "region": "VN",
            "lang": "vi-VN",
            "description": "Local test service",
            "authType": ["basic"],
            "methods": [
                "auth/login",
                "credentials/list",
                "credentials/info",
                "credentials/authorize",
                "signatures/signHash",
            ],
        }

    def _login(self, body, headers):
        value = headers.get("Authorization") or ""
        try:
            username, _sep, password = base64.b64decode(value[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username = password = None
        known = self.users.get(username)
        if (
            not value.startswith("Basic ")
            or known is None
            or not hmac.compare_digest(known.encode(), password.encode())
        ):
            raise _Fail(401, "invalid_grant", "Invalid username or password")
        return {"access_token": self.issue_token(username), "expires_in": self.token_lifetime}

    def _list(self, body, headers):
        username = self._user(headers)
        return {"credentialIDs": sorted(c.id for c in self.credentials.values() if c.owner == username)}

    def _cred_info(self, body, headers):
        credential = self._credential(body, self._user(headers))
        which = body.get("certificates", "single")
        certs = {
            "none": [],
            "single": [credential.certificate],
            "chain": [credential.certificate] + credential.chain,
        }.get(which)
        if certs is None:
            raise _Fail(400, "invalid_request", "Invalid parameter certificates")
        cert = credential.certificate
        return {
            "description": credential.description,
            "key": {
                "status": "disabled" if credential.locked else "enabled",
                "algo": credential.algorithms(),
                "len": cert.public_key().key_size,
            },
            "cert": {
                "status": "valid",
                "certificates": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in certs],
                "issuerDN": cert.issuer.rfc4514_string(),
                "subjectDN": cert.subject.rfc4514_string(),
                "serialNumber": format(cert.serial_number, "x"),
            },
            "authMode": credential.auth_mode,
            "SCAL": str(credential.scal),
            "PIN": {"presence": "true" if credential.pin else "false", "format": "N", "label": "PIN"},
            "OTP": {"presence": "false"},
            "multisign": self.multisign,
            "lang": "vi-VN",
        }

    def _authorize(self, body, headers):
        credential = self._credential(body, self._user(headers))
        count = body.get("numSignatures")
        if not isinstance(count, int) or count < 1:
            raise _Fail(400, "invalid_request", "Missing (or invalid type) integer parameter numSignatures")
        if count > self.multisign:
            raise _Fail(400, "invalid_request", "Numbers of signatures is too high")
        pinned = body.get("hash")
        if credential.scal >= 2 and (not isinstance(pinned, list) or len(pinned) != count):
            raise _Fail(400, "invalid_request", "Invalid parameter hash")
        with self._lock:
            if credential.locked:
                raise _Fail(400, "invalid_pin", "The PIN is locked")
            if credential.pin is not None:
                given = body.get("PIN")
                if not isinstance(given, str):
                    raise _Fail(400, "invalid_request", "Missing (or invalid type) string parameter PIN")
                if not hmac.compare_digest(given.encode(), credential.pin.encode()):
                    credential.failed_pins += 1
                    if credential.failed_pins >= self.max_pin_tries:
                        credential.locked = True
                        raise _Fail(400, "invalid_pin", "The PIN is invalid; the PIN is now locked")
                    raise _Fail(
                        400,
                        "invalid_pin",
                        "The PIN is invalid (%d tries left)" % (self.max_pin_tries - credential.failed_pins),
                    )
                credential.failed_pins = 0
            sad = secrets.token_urlsafe(32)
            self._sads[sad] = {
                "credential": credential.id,
                "left": count,
                "until": time.time() + self.sad_lifetime,
                "hashes": set(pinned) if credential.scal >= 2 else None,
            }
        return {"SAD": sad, "expiresIn": self.sad_lifetime}

    def _sign_hash(self, body, headers, corrupt=False):
        credential = self._credential(body, self._user(headers))
        digests = body.get("hash")
        if not isinstance(digests, list) or not digests or not all(isinstance(d, str) for d in digests):
            raise _Fail(400, "invalid_request", "Missing (or invalid type) array parameter hash")
        kind_hash = _SIGN_BY_OID.get(body.get("signAlgo"))
        if body.get("signAlgo") not in credential.algorithms():
            raise _Fail(400, "invalid_request", "Invalid parameter signAlgo")
        hash_name = kind_hash[1] if kind_hash else _HASH_BY_OID.get(body.get("hashAlgo"))
        if hash_name is None or (body.get("hashAlgo") and _HASH_BY_OID.get(body["hashAlgo"]) != hash_name):
            raise _Fail(400, "invalid_request", "Invalid parameter hashAlgo")
        try:
            raw = [base64.b64decode(d, validate=True) for d in digests]
        except binascii.Error:
            raise _Fail(400, "invalid_request", "Invalid Base64 hash string parameter") from None
        if any(len(d) != _HASHES[hash_name].digest_size for d in raw):
            raise _Fail(400, "invalid_request", "Invalid parameter hash")
        with self._lock:
            grant = self._sads.get(body.get("SAD"))
            if grant is None or grant["credential"] != credential.id:
                raise _Fail(400, "invalid_request", "Invalid parameter SAD")
            if time.time() >= grant["until"]:
                del self._sads[body["SAD"]]
                raise _Fail(400, "invalid_request", "SAD expired")
            if len(raw) > grant["left"] or (grant["hashes"] is not None and not set(digests) <= grant["hashes"]):
                raise _Fail(400, "invalid_request", "The SAD does not authorise these hashes")
            grant["left"] -= len(raw)
            if grant["left"] <= 0:
                del self._sads[body["SAD"]]
        signatures = [credential.sign(d, hash_name) for d in raw]
        if corrupt:
            signatures = [s[:-1] + bytes([s[-1] ^ 1]) for s in signatures]
        return {"signatures": [base64.b64encode(s).decode() for s in signatures]}


class _Handler(BaseHTTPRequestHandler):
    server_version = "HocbaCscSandbox/1.0"

    def log_message(self, fmt, *args):  # no stderr noise; bodies and headers are never logged
        _logger.debug("csc sandbox: " + fmt, *args)

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        with contextlib.suppress(OSError):  # the client gave up (timeout fault)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_POST(self):
        sandbox = self.server.sandbox
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        endpoint = path[len(API) :].strip("/") if path.startswith(API) else path
        fault = sandbox.take_fault(endpoint)
        if fault == faults.TIMEOUT:
            sandbox.hold_until_gone(self.connection)
            return self._send(503, {"error": "temporarily_unavailable", "error_description": "Too slow"})
        if fault == faults.DROP:
            self.close_connection = True
            return None
        if fault == faults.SLOW:
            sandbox.hold(sandbox.slow_delay)
        if fault == faults.ERROR_500:
            return self._send(500, {"error": "server_error", "error_description": "Injected failure"})
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return self._send(400, {"error": "invalid_request", "error_description": "The body is not JSON"})
        try:
            payload = sandbox.dispatch(endpoint, body, self.headers, fault)
        except _Fail as fail:
            return self._send(fail.status, {"error": fail.error, "error_description": fail.description})
        except Exception:
            _logger.exception("csc sandbox: %s failed", endpoint)
            return self._send(500, {"error": "server_error", "error_description": "Internal error"})
        return self._send(200, payload)
