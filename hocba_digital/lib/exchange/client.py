"""The one client of the Department / Ministry transcript store.  No Odoo import here.

::

    with ExchangeClient("https://store.example.vn/api/hocba/v1", token,
                        client_cert_pem=cert, client_key_pem=key) as client:
        outcome = client.submit(package.body, package.sha256, idempotency_key(document_id),
                                school_code="31000001")
        if outcome.kind == RETRY:
            wait = backoff_delay(attempts, retry_after=outcome.retry_after)

Every answer becomes an :class:`Outcome` (never an exception):

* ``acknowledged``: 201, the store filed it and gave its reference;
* ``duplicate``: 200, the store already had this key with these bytes (an
  earlier attempt got through): the same acknowledgement again;
* ``rejected``: the store refused the content (4xx): sending it again cannot
  help until someone fixes it;
* ``retry``: no answer (timeout, dropped connection), 5xx, 408, 425, 429 or an
  acknowledgement that does not match what was sent; ``maybe_delivered`` says
  the request may have reached the store (no answer came back), ``stop`` that
  the rest of the batch should wait too (the store is unreachable, or refuses
  our credentials: every package would meet the same answer).

A retry always uses the same idempotency key and the same bytes, so the store
files a package once however many times it is sent (``docs/exchange.md``).
Within one call the client retries only a connection that could not be opened
(once); anything after the request left is for the caller, with backoff.
"""

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .package import MEDIA_TYPE

ACKNOWLEDGED, DUPLICATE, REJECTED, RETRY = "acknowledged", "duplicate", "rejected", "retry"
KEY_HEADER = "Idempotency-Key"
SHA_HEADER = "X-Hocba-Package-SHA256"
SCHOOL_HEADER = "X-Hocba-School"
PACKAGES = "/packages"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
BACKOFF_BASE = 60.0
BACKOFF_CAP = 3600.0
RETRYABLE_4XX = {408, 425, 429}
AUTH = {401, 403}
MAX_MESSAGE = 500


@dataclass(frozen=True)
class Outcome:
    kind: str
    message: str = ""
    receiver_ref: str = None
    received_at: str = None
    http_status: int = None
    retry_after: float = None
    stop: bool = False
    maybe_delivered: bool = False  # the request may have reached the store: no answer came

    @property
    def delivered(self):
        return self.kind in (ACKNOWLEDGED, DUPLICATE)


def backoff_delay(attempts, *, base=BACKOFF_BASE, cap=BACKOFF_CAP, retry_after=None, key=""):
    """Seconds to wait before attempt ``attempts + 1``: ``base * 2**(attempts-1)``,
    at most ``cap``, at least what the store asked (``Retry-After``, also capped),
    plus up to 10 % spread taken from ``key`` so packages failed together do not
    all come back in the same second (deterministic: tests can check it)."""
    attempts = max(1, int(attempts))
    delay = min(cap, base * 2 ** min(attempts - 1, 32))
    if retry_after:
        delay = min(cap, max(delay, float(retry_after)))
    spread = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) / 0xFFFF if key else 0.0
    return delay * (1 + 0.1 * spread)


def _retry_after(response):
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


def _message(response):
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "")[:MAX_MESSAGE]
    if not isinstance(body, dict):
        return str(body)[:MAX_MESSAGE]
    text = body.get("message") or body.get("error") or ""
    details = body.get("details") or []
    if details:
        text = "%s: %s" % (text, "; ".join(str(d) for d in details[:5]))
    if body.get("error") and body.get("message"):
        text = "%s (%s)" % (text, body["error"])
    return text[:MAX_MESSAGE]


class _Adapter(HTTPAdapter):
    """Applies the client's (connect, read) timeouts and, when given, its CA to
    every request of the session, whatever the caller or the environment says
    (``REQUESTS_CA_BUNDLE`` would otherwise replace ``Session.verify``)."""

    def __init__(self, timeout, verify=None, **kwargs):
        super().__init__(**kwargs)
        self.timeout, self.verify = timeout, verify

    def send(self, request, **kwargs):
        kwargs["timeout"] = self.timeout
        if self.verify:
            kwargs["verify"] = self.verify
        return super().send(request, **kwargs)


class ExchangeClient:
    """One ``requests.Session`` to the store at ``base_url`` (its ``/packages``
    endpoint), with a bearer ``token``, connect / read timeouts, the server
    checked against ``ca_pem`` (default: the system's roots) and an optional
    TLS client certificate (PEM text; written to a private temporary directory
    for the session's life, since ``requests`` takes file names)."""

    def __init__(
        self,
        base_url,
        token,
        *,
        client_cert_pem=None,
        client_key_pem=None,
        ca_pem=None,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        user_agent=None,
    ):
        if not base_url:
            raise ValueError("no transcript store URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._tmp = None
        self.session = requests.Session()
        retry = Retry(
            total=1, connect=1, read=False, status=0, other=0, redirect=0, allowed_methods=None, raise_on_status=False
        )
        self.session.headers.update(
            {
                "Authorization": "Bearer %s" % (token or ""),
                "User-Agent": user_agent or "hocba_digital-exchange/1",
                "Accept": "application/json",
            }
        )
        if client_cert_pem or ca_pem:
            self._tmp = tempfile.mkdtemp(prefix="hocba-exchange-")
        if client_cert_pem:
            cert = self._write("client.pem", client_cert_pem)
            key = self._write("client.key", client_key_pem) if client_key_pem else None
            self.session.cert = (cert, key) if key else cert
        ca_file = self._write("ca.pem", ca_pem) if ca_pem else None
        for scheme in ("https://", "http://"):
            self.session.mount(scheme, _Adapter(self.timeout, ca_file, max_retries=retry))

    def _write(self, name, text):
        path = os.path.join(self._tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
        return path

    def close(self):
        self.session.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------------
    def submit(self, body, package_sha256, key, *, school_code=None):
        """Send one package; the :class:`Outcome` of the answer."""
        headers = {"Content-Type": MEDIA_TYPE, KEY_HEADER: key, SHA_HEADER: package_sha256}
        if school_code:
            headers[SCHOOL_HEADER] = school_code
        try:
            response = self.session.post(self.base_url + PACKAGES, data=body, headers=headers)
        except requests.exceptions.SSLError as exc:
            return Outcome(RETRY, "TLS failure with the transcript store: %s" % exc, stop=True)
        except requests.exceptions.ConnectTimeout:
            return Outcome(
                RETRY, "the transcript store cannot be reached (no connection within %g s)" % self.timeout[0], stop=True
            )
        except requests.exceptions.Timeout:
            return Outcome(
                RETRY,
                "no answer within %g s; the store may have it: it is sent again with the same key" % self.timeout[1],
                maybe_delivered=True,
            )
        except requests.exceptions.ConnectionError as exc:
            refused = "refused" in str(exc).lower() or "failed to establish" in str(exc).lower()
            return Outcome(
                RETRY,
                "the connection failed (%s)%s"
                % (
                    type(exc).__name__,
                    "" if refused else "; the store may have it: it is sent again with the same key",
                ),
                stop=refused,
                maybe_delivered=not refused,
            )
        except requests.exceptions.RequestException as exc:
            return Outcome(RETRY, "the request failed: %s" % exc, maybe_delivered=True)
        return self.outcome(response, key, package_sha256)

    def status(self, key):
        """What the store holds under ``key``: an acknowledged / duplicate outcome,
        ``rejected`` for 404 (it has nothing), ``retry`` when it cannot say."""
        try:
            response = self.session.get("%s%s/%s" % (self.base_url, PACKAGES, key))
        except requests.exceptions.RequestException as exc:
            return Outcome(RETRY, "the request failed: %s" % exc)
        if response.status_code == 404:
            return Outcome(REJECTED, "the store holds nothing under this key", http_status=404)
        return self.outcome(response, key, None)

    @staticmethod
    def outcome(response, key, package_sha256):
        status = response.status_code
        if status in (200, 201):
            try:
                ack = response.json()
            except ValueError:
                ack = None
            if not isinstance(ack, dict) or not ack.get("receiver_ref"):
                return Outcome(RETRY, "the store answered %s without an acknowledgement" % status, http_status=status)
            if ack.get("idempotency_key") != key or (package_sha256 and ack.get("package_sha256") != package_sha256):
                return Outcome(
                    RETRY,
                    "the acknowledgement is not about this package (key %s, "
                    "SHA-256 %s)" % (ack.get("idempotency_key"), ack.get("package_sha256")),
                    http_status=status,
                    maybe_delivered=True,
                )
            kind = DUPLICATE if status == 200 or ack.get("duplicate") else ACKNOWLEDGED
            return Outcome(
                kind, "", receiver_ref=str(ack["receiver_ref"]), received_at=ack.get("received_at"), http_status=status
            )
        message = _message(response) or "HTTP %s" % status
        if status in AUTH:
            return Outcome(
                RETRY, "the store refused our credentials (%s): %s" % (status, message), http_status=status, stop=True
            )
        if status in RETRYABLE_4XX or status >= 500:
            return Outcome(
                RETRY,
                "the store answered %s: %s" % (status, message),
                http_status=status,
                retry_after=_retry_after(response),
                stop=status in (429, 503),
            )
        return Outcome(REJECTED, "the store rejected the package (%s): %s" % (status, message), http_status=status)
