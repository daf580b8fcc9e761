"""CSC (Cloud Signature Consortium API v1.0.4) remote signing behind ``xades.Signer``.  No Odoo import here.

::

    signer = CscSigner("https://csc.example.vn/csc/v1", "cred-42", access_token=token)
    with signer.batch(2 * len(documents), pin=pin):    # one credentials/authorize
        for doc in documents:
            xades.sign_tier(doc, signer, ...)
            pades.sign(pdf, field, signer, ...)

* The certificate and chain come from ``credentials/info`` when the signer is
  made (``credential_id=None``: the account's only one, from ``credentials/list``).
* Authentication: a bearer ``access_token``, or ``username`` + ``password`` for
  ``auth/login`` (HTTP Basic; that token is renewed when expired or refused).
* The PIN / OTP of ``credentials/authorize`` is given to ``batch`` only and is
  forgotten when the batch ends.  A batch authorises ``count`` signatures with
  one SAD (at most the service's ``multisign`` per SAD; beyond that, or when the
  SAD expires, it authorises again with the same PIN; an OTP is used once).
  For SCAL 2 credentials every SAD is bound to its hashes: one authorisation per
  ``sign`` call (``sign_digests`` binds a whole list at once).
* ``sign(data, algorithm)`` hashes ``data`` locally and sends the digest to
  ``signatures/signHash`` (RSA PKCS#1 v1.5, e.g. sha256WithRSAEncryption
  1.2.840.113549.1.1.11, or ECDSA).  Every returned signature is checked
  against the certificate before use; a raw ``r || s`` ECDSA value is
  DER-encoded, as ``xades.Signer`` requires.
* Errors: ``CscAuthError`` (login, token, PIN / OTP, SAD), ``CscUnavailable``
  (timeout, connection refused / dropped, HTTP 5xx / 429), ``CscError``
  otherwise (all ``CscError``).  Messages, ``repr`` and logs never contain the
  PIN, OTP, password, access token or SAD.
"""

import base64
import contextlib
import hashlib
import logging
import threading
import time
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils

from ...secret import Secret
from ..xades import Signer

_logger = logging.getLogger(__name__)

HASH_OIDS = {"sha256": "2.16.840.1.101.3.4.2.1", "sha384": "2.16.840.1.101.3.4.2.2", "sha512": "2.16.840.1.101.3.4.2.3"}
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
SIGN_OIDS = {  # sha*WithRSAEncryption (PKCS#1 v1.5), ecdsa-with-SHA*
    ("rsa", "sha256"): "1.2.840.113549.1.1.11",
    ("rsa", "sha384"): "1.2.840.113549.1.1.12",
    ("rsa", "sha512"): "1.2.840.113549.1.1.13",
    ("ec", "sha256"): "1.2.840.10045.4.3.2",
    ("ec", "sha384"): "1.2.840.10045.4.3.3",
    ("ec", "sha512"): "1.2.840.10045.4.3.4",
}
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
# error codes that mean "who you are / what you typed is not accepted"
_AUTH_ERRORS = {
    "invalid_token",
    "expired_token",
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "access_denied",
    "invalid_pin",
    "invalid_otp",
    "invalid_sad",
    "expired_sad",
}


class CscError(Exception):
    """Anything that stops a CSC signature."""


class CscAuthError(CscError):
    """Login, access token, PIN / OTP or SAD refused (or missing)."""


class CscUnavailable(CscError):
    """The service did not answer usefully: timeout, connection error, HTTP 5xx / 429."""


class _Batch:
    """State of one ``CscSigner.batch``: the PIN / OTP and the current SAD."""

    def __init__(self, count, pin, otp):
        self.planned_left, self.sad_left, self.sad_until = count, 0, 0.0
        self.pin, self.otp, self.sad = Secret(pin), Secret(otp), Secret(None)

    def usable(self, n):
        return bool(self.sad) and self.sad_left >= n and time.monotonic() < self.sad_until

    def clear(self):
        self.pin = self.otp = self.sad = Secret(None)
        self.sad_left = 0


class CscSigner(Signer):
    """A credential of a CSC remote signing service as a ``xades.Signer``.

    ``service_url``: the API base, e.g. ``https://host/csc/v1``.  ``timeout``:
    seconds, or ``(connect, read)`` (a plain number is safer under Odoo's test
    runner, whose patched ``Session.send`` compares it with an int).
    ``verify``: True (system CAs), False, or the path of a CA bundle for the
    service's TLS certificate.  ``session``: a ``requests.Session`` to use.
    """

    def __init__(
        self,
        service_url,
        credential_id=None,
        *,
        access_token=None,
        username=None,
        password=None,
        timeout=30.0,
        verify=True,
        description=None,
        session=None,
    ):
        if access_token is None and username is None:
            raise ValueError("give access_token, or username and password")
        self.service_url = service_url.rstrip("/")
        self.host = urlsplit(self.service_url).netloc or self.service_url
        self.username = username
        self.__password = Secret(password)
        self.__token = Secret(access_token)
        self._token_until = None  # monotonic expiry of a login token; None = not ours to renew
        self.timeout, self.verify, self.description = timeout, verify, description
        self._http = session or requests.Session()
        self._lock, self._batch = threading.RLock(), None
        try:
            self.credential_id = credential_id or self._only_credential()
            self._load_info()
        except BaseException:
            if session is None:
                self._http.close()
            raise

    def __repr__(self):
        return "<CscSigner %s credential=%r>" % (self.host, self.credential_id)

    def close(self):
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._http.close()

    # -- HTTP -----------------------------------------------------------------
    def _scrub(self, text, extra=()):
        """``text`` (from the service) without any secret of ours in it."""
        found = [self.__password, self.__token] + (
            [self._batch.pin, self._batch.otp, self._batch.sad] if self._batch is not None else []
        )
        text = str(text)[:300]
        for secret in [f.reveal() for f in found] + list(extra):
            text = text.replace(str(secret), "***") if secret else text
        return text

    def _call(self, endpoint, body, *, bearer=True, extra_secrets=()):
        url = "%s/%s" % (self.service_url, endpoint)
        for attempt in (1, 2):
            kwargs = {"json": body, "timeout": self.timeout, "verify": self.verify}
            if endpoint == "auth/login":
                kwargs["auth"] = (self.username, self.__password.reveal() or "")
            elif bearer:
                kwargs["headers"] = {"Authorization": "Bearer %s" % self._access_token()}
            _logger.debug("CSC %s %s", self.host, endpoint)
            try:
                response = self._http.post(url, **kwargs)
            except requests.exceptions.SSLError:
                raise CscError(
                    "TLS handshake with the CSC service at %s failed (untrusted certificate? see verify=)" % self.host
                ) from None
            except requests.exceptions.Timeout:
                raise CscUnavailable(
                    "the CSC service at %s did not answer %s in time" % (self.host, endpoint)
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                raise CscUnavailable(
                    "cannot reach the CSC service at %s (%s): %s" % (self.host, endpoint, type(exc).__name__)
                ) from None
            except requests.exceptions.RequestException as exc:
                raise CscError("CSC request %s to %s failed: %s" % (endpoint, self.host, type(exc).__name__)) from None
            if response.status_code == 401 and attempt == 1 and bearer and self._can_login():
                self.__token = Secret(None)  # expired or revoked: log in again, once
                continue
            return self._parse(endpoint, response, extra_secrets)

    def _parse(self, endpoint, response, extra_secrets):
        try:
            data = response.json()
        except ValueError:
            data = None
        status = response.status_code
        if status == 200:
            if not isinstance(data, dict):
                raise CscError("CSC %s at %s: the answer is not a JSON object" % (endpoint, self.host))
            return data
        data = data if isinstance(data, dict) else {}
        code = self._scrub(data.get("error") or "", extra_secrets)
        text = self._scrub(data.get("error_description") or response.reason or "", extra_secrets)
        message = "CSC %s at %s refused (HTTP %d %s): %s" % (endpoint, self.host, status, code, text)
        if status >= 500 or status == 429:
            raise CscUnavailable(message)
        if (
            status in (401, 403)
            or code in _AUTH_ERRORS
            or "SAD" in text
            or (endpoint == "credentials/authorize" and ("PIN" in text or "OTP" in text))
        ):
            raise CscAuthError(message)
        raise CscError(message)

    def _can_login(self):
        return self.username is not None and bool(self.__password)

    def _access_token(self):
        expired = self._token_until is not None and time.monotonic() >= self._token_until
        if (not self.__token or expired) and self._can_login():
            self.login()
        if not self.__token:
            raise CscAuthError("no access token for the CSC service at %s" % self.host)
        return self.__token.reveal()

    def login(self):
        """``auth/login`` with HTTP Basic (username / password) for a fresh access token."""
        if not self._can_login():
            raise CscAuthError("no username / password for the CSC service at %s" % self.host)
        data = self._call("auth/login", {"rememberMe": False}, bearer=False)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise CscError("CSC auth/login at %s: no access_token in the answer" % self.host)
        self.__token = Secret(token)
        lifetime = _int(data.get("expires_in"), 3600)
        self._token_until = time.monotonic() + max(1, lifetime - min(30, lifetime // 10))

    # -- credential -----------------------------------------------------------
    def _only_credential(self):
        ids = self._call("credentials/list", {}).get("credentialIDs") or []
        if len(ids) != 1:
            raise CscError("the CSC account at %s has %d credentials: give credential_id" % (self.host, len(ids)))
        return ids[0]

    def _load_info(self):
        data = self._call(
            "credentials/info",
            {"credentialID": self.credential_id, "certificates": "chain", "certInfo": True, "authInfo": True},
        )
        try:
            certs = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in data["cert"]["certificates"]]
            if not certs:
                raise ValueError("empty certificate list")
            key = data["key"]
            self.key_algorithms = list(key["algo"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CscError(
                "CSC credentials/info at %s: unreadable certificate or key data (%s)" % (self.host, type(exc).__name__)
            ) from None
        self.key_status = key.get("status", "enabled")
        self.cert_status = data["cert"].get("status", "valid")
        self.certificate = certs[0]  # the spec puts the signer's certificate first
        self.chain = [c for c in certs[1:] if c != self.certificate]
        self.auth_mode = data.get("authMode", "explicit")
        self.scal = _int(data.get("SCAL"), 1)
        self.multisign = max(1, _int(data.get("multisign"), 1))
        self.pin_presence = str((data.get("PIN") or {}).get("presence", "false")).lower()
        self.otp_presence = str((data.get("OTP") or {}).get("presence", "false")).lower()
        _ = self.key_type  # fails early on an unsupported key type

    @property
    def needs_activation(self):
        """True when ``credentials/authorize`` wants a PIN or an OTP from the user."""
        return self.auth_mode == "explicit" and "true" in (self.pin_presence, self.otp_presence)

    def _mechanism(self, algorithm):
        if algorithm not in HASH_OIDS:
            raise CscError("unsupported hash algorithm %r" % (algorithm,))
        key_type = self.key_type
        specific = SIGN_OIDS[(key_type, algorithm)]
        if specific in self.key_algorithms:
            return specific
        generic = RSA_ENCRYPTION if key_type == "rsa" else EC_PUBLIC_KEY
        if generic in self.key_algorithms:  # the service combines it with hashAlgo
            return generic
        raise CscError(
            "credential %r does not offer %s with %s (it offers %s)"
            % (self.credential_id, key_type, algorithm, ", ".join(self.key_algorithms))
        )

    # -- batches --------------------------------------------------------------
    @contextlib.contextmanager
    def batch(self, count, pin=None, otp=None):
        """Authorise ``count`` signatures with ``pin`` / ``otp`` (one SAD where the service allows)."""
        if count < 1:
            raise ValueError("a batch needs at least one signature")
        with self._lock:
            if self._batch is not None:
                raise CscError("a batch is already open on %r" % self)
            self._batch = _Batch(count, pin, otp)
        try:
            if self.scal < 2:  # a wrong PIN shows at once, not at the first document
                self._authorize(self._batch, min(count, self.multisign))
            yield self
        finally:
            with self._lock:
                self._batch.clear()
                self._batch = None

    @property
    def in_batch(self):
        return self._batch is not None

    def _authorize(self, batch, count, digests=None):
        if self.needs_activation and not batch.pin and not batch.otp:
            raise CscAuthError(
                "credential %r needs a PIN / OTP: sign inside signer.batch(n, pin=...)" % self.credential_id
            )
        body = {"credentialID": self.credential_id, "numSignatures": count}
        if digests is not None:
            body["hash"] = [base64.b64encode(d).decode() for d in digests]
        if batch.pin:
            body["PIN"] = batch.pin.reveal()
        if batch.otp:
            body["OTP"] = batch.otp.reveal()
            batch.otp = Secret(None)  # one-time: a second authorisation needs a new one
        if self.description:
            body["description"] = self.description
        _logger.debug("CSC authorising %d signature(s) with credential %r", count, self.credential_id)
        data = self._call("credentials/authorize", body, extra_secrets=(body.get("PIN"), body.get("OTP")))
        sad = data.get("SAD")
        if not isinstance(sad, str) or not sad:
            raise CscError("CSC credentials/authorize at %s: no SAD in the answer" % self.host)
        lifetime = _int(data.get("expiresIn"), 3600)
        batch.sad, batch.sad_left = Secret(sad), count
        batch.sad_until = time.monotonic() + max(1, lifetime - min(5, lifetime // 10))

    def _sad_for(self, batch, digests):
        if self.scal >= 2:
            self._authorize(batch, len(digests), digests)
        elif not batch.usable(len(digests)):
            self._authorize(batch, max(len(digests), min(self.multisign, batch.planned_left)))
        batch.sad_left -= len(digests)
        batch.planned_left = max(0, batch.planned_left - len(digests))
        return batch.sad.reveal()

    # -- signing --------------------------------------------------------------
    def sign(self, data, algorithm):
        self._mechanism(algorithm)
        return self.sign_digests([hashlib.new(algorithm, data).digest()], algorithm)[0]

    def sign_digests(self, digests, algorithm, pin=None, otp=None):
        """Sign precomputed ``digests``; outside a batch, ``pin`` / ``otp`` authorise just these."""
        digests = list(digests)
        sign_oid = self._mechanism(algorithm)
        size = hashlib.new(algorithm).digest_size
        if not digests or any(len(d) != size for d in digests):
            raise CscError("give one or more %s digests of %d bytes" % (algorithm, size))
        with self._lock:
            if self.key_status != "enabled":
                raise CscError("the key of credential %r is %s" % (self.credential_id, self.key_status))
            own = self._batch is None
            if own:
                self._batch = _Batch(len(digests), pin, otp)
            try:
                signatures = []
                for start in range(0, len(digests), self.multisign):
                    chunk = digests[start : start + self.multisign]
                    sad = self._sad_for(self._batch, chunk)
                    signatures += self._sign_hash(sad, chunk, algorithm, sign_oid)
                return signatures
            finally:
                if own:
                    self._batch.clear()
                    self._batch = None

    def _sign_hash(self, sad, digests, algorithm, sign_oid):
        body = {
            "credentialID": self.credential_id,
            "SAD": sad,
            "hashAlgo": HASH_OIDS[algorithm],
            "signAlgo": sign_oid,
            "hash": [base64.b64encode(d).decode() for d in digests],
        }
        data = self._call("signatures/signHash", body)
        values = data.get("signatures")
        if not isinstance(values, list) or len(values) != len(digests):
            raise CscError("CSC signatures/signHash at %s: expected %d signature(s)" % (self.host, len(digests)))
        out = []
        for digest, value in zip(digests, values):
            try:
                signature = base64.b64decode(value, validate=True)
            except (TypeError, ValueError):
                raise CscError("CSC signatures/signHash at %s: a signature is not base64" % self.host) from None
            if self.key_type == "ec":
                signature = self._der_ecdsa(signature)
            self._check(digest, signature, algorithm)
            out.append(signature)
        return out

    def _der_ecdsa(self, signature):
        size = (self.certificate.public_key().key_size + 7) // 8
        with contextlib.suppress(ValueError):  # not DER: maybe plain r || s, below
            r, s = asym_utils.decode_dss_signature(signature)
            if asym_utils.encode_dss_signature(r, s) == signature:
                return signature
        if len(signature) == 2 * size:  # plain r || s (as some services return it)
            return asym_utils.encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
        raise CscError("CSC signatures/signHash at %s: unreadable ECDSA signature" % self.host)

    def _check(self, digest, signature, algorithm):
        # A wrong credential or a broken service would otherwise only show up
        # when someone verifies the transcript.
        public_key = self.certificate.public_key()
        prehashed = asym_utils.Prehashed(_HASHES[algorithm]())
        try:
            if self.key_type == "rsa":
                public_key.verify(signature, digest, padding.PKCS1v15(), prehashed)
            else:
                public_key.verify(signature, digest, ec.ECDSA(prehashed))
        except InvalidSignature:
            raise CscError(
                "the CSC service at %s returned a signature that does not match the certificate "
                "of credential %r" % (self.host, self.credential_id)
            ) from None


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
