"""Is a certificate revoked?  Asked of its certificate authority over HTTP.  No Odoo import here.

::

    client = RevocationClient(timeout=10)
    outcome = client.check(cert, issuer)                      # CRL, then nothing else
    outcome = client.check(cert, issuer, methods=("crl", "ocsp"))
    outcome.status    # "good" | "revoked" | "unknown"
    outcome.reason    # why (see REASONS), outcome.url, outcome.revoked_at, outcome.detail

* CRL: fetched from the certificate's CRL distribution points (http/https
  only), believed only when it names the certificate's issuer, is signed by
  ``issuer`` and is not past its nextUpdate.  A good CRL is kept in an
  in-process cache keyed by its URL until its nextUpdate, and at most
  ``CrlCache.max_age`` seconds, so a batch of signatures fetches it once.
* OCSP: asked of ``ocsp_url`` or the responder in the certificate's AIA, with
  a nonce; the answer must be about this serial, signed by the issuer or by a
  responder the issuer gave OCSPSigning, echo the nonce (or, from a responder
  that ignores nonces, be current).  Answers are not cached.
* Methods are tried in order; the first that gives "good" or "revoked" wins.
  Timeouts, refused connections and HTTP 5xx are retried ``retries`` times.
* ``at``: the moment asked about (default now): a certificate revoked after
  it is still "good" then (what a verifier asks about a signing time).
* Never raises for network or format trouble: an "unknown" outcome says why.
"""

import collections
import datetime
import logging
import os
import threading
from dataclasses import dataclass

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509 import ocsp

_logger = logging.getLogger(__name__)

UTC = datetime.timezone.utc
GOOD, REVOKED, UNKNOWN = "good", "revoked", "unknown"
METHODS = ("crl", "ocsp")
MAX_CRL_BYTES = 20 * 1024 * 1024
MAX_OCSP_BYTES = 1024 * 1024
# an OCSP answer without our nonce is believed this long after its thisUpdate
OCSP_NONCELESS_AGE = datetime.timedelta(days=1)
CLOCK_SKEW = datetime.timedelta(minutes=5)
REASONS = {
    # status "good" / "revoked": where the answer came from
    "crl": "the certificate authority's revocation list",
    "ocsp": "the certificate authority's OCSP responder",
    # status "unknown"
    "no_issuer": "the issuer's certificate is not known, so no answer can be checked",
    "no_source": "the certificate names no revocation list or OCSP responder reachable over HTTP",
    "unreachable": "the revocation service did not answer (timeout or connection refused)",
    "http_error": "the revocation service answered with an HTTP error",
    "unreadable": "the revocation service's answer is not a revocation list or OCSP response",
    "wrong_issuer": "the revocation list was issued by another certificate authority",
    "bad_signature": "the answer is not signed by the certificate's issuer",
    "stale": "the revocation list is out of date (past its next update)",
    "ocsp_refused": "the OCSP responder refused to answer",
    "ocsp_invalid": "the OCSP answer is about another certificate or was replayed",
    "ocsp_unknown": "the OCSP responder does not know the certificate",
}


@dataclass(frozen=True)
class Outcome:
    status: str  # GOOD, REVOKED or UNKNOWN
    reason: str  # a key of REASONS
    url: str = ""  # the list or responder that answered (or failed)
    revoked_at: datetime.datetime = None
    detail: str = ""  # for logs: what exactly went wrong

    @property
    def conclusive(self):
        return self.status in (GOOD, REVOKED)


class _Failed(Exception):
    def __init__(self, reason, detail=""):
        super().__init__(detail or reason)
        self.reason, self.detail = reason, detail


def _now():
    return datetime.datetime.now(UTC)


# ---------------------------------------------------------------------------
# pure judgements (no HTTP)
# ---------------------------------------------------------------------------
def load_crl(data):
    """A CertificateRevocationList from PEM or DER bytes (ValueError otherwise)."""
    if isinstance(data, x509.CertificateRevocationList):
        return data
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def crl_problem(crl, cert, issuer, now=None, require_fresh=True):
    """Why ``crl`` cannot answer for ``cert`` (a key of REASONS), or None."""
    if issuer is None:
        return "no_issuer"
    if crl.issuer != cert.issuer:
        return "wrong_issuer"
    try:
        valid = crl.is_signature_valid(issuer.public_key())
    except (TypeError, ValueError):  # a key type the CRL's algorithm does not fit
        valid = False
    if not valid:
        return "bad_signature"
    next_update = crl.next_update_utc
    if require_fresh and next_update is not None and next_update < (now or _now()) - CLOCK_SKEW:
        return "stale"
    return None


def status_from_crl(crl, cert, issuer, at=None, now=None, url="", require_fresh=True):
    """The Outcome ``crl`` gives for ``cert`` at ``at`` (default: now)."""
    problem = crl_problem(crl, cert, issuer, now=now, require_fresh=require_fresh)
    if problem:
        detail = ("next update was %s" % crl.next_update_utc.isoformat()) if problem == "stale" else ""
        return Outcome(UNKNOWN, problem, url, detail=detail)
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None and (at is None or entry.revocation_date_utc <= at):
        return Outcome(REVOKED, "crl", url, revoked_at=entry.revocation_date_utc)
    return Outcome(GOOD, "crl", url)


def crl_urls(cert):
    """The http(s) URLs of ``cert``'s CRL distribution points."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in (point.full_name or ())
        if isinstance(name, x509.UniformResourceIdentifier) and _is_http(name.value)
    ]


def ocsp_url_of(cert):
    """The OCSP responder named in ``cert``'s Authority Information Access, or None."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    return next(
        (
            a.access_location.value
            for a in aia
            if a.access_method == x509.oid.AuthorityInformationAccessOID.OCSP and _is_http(a.access_location.value)
        ),
        None,
    )


def _is_http(url):
    return url.lower().startswith(("http://", "https://"))


def ocsp_request(cert, issuer, nonce):
    return (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuer, hashes.SHA1())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )


def status_from_ocsp(answer_der, cert, issuer, nonce, at=None, now=None, url=""):
    """The Outcome an OCSP response (DER) gives for ``cert`` at ``at``."""
    now = now or _now()
    try:
        answer = ocsp.load_der_ocsp_response(answer_der)
    except ValueError as exc:
        return Outcome(UNKNOWN, "unreadable", url, detail=str(exc))
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return Outcome(UNKNOWN, "ocsp_refused", url, detail=answer.response_status.name)
    if answer.serial_number != cert.serial_number:
        return Outcome(UNKNOWN, "ocsp_invalid", url, detail="answer about serial %x" % answer.serial_number)
    try:
        echoed = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        echoed = None
    if echoed is not None and echoed != nonce:
        return Outcome(UNKNOWN, "ocsp_invalid", url, detail="nonce mismatch")
    if echoed is None and not (
        now - OCSP_NONCELESS_AGE <= answer.this_update_utc <= now + CLOCK_SKEW
        and (answer.next_update_utc is None or answer.next_update_utc >= now)
    ):
        return Outcome(UNKNOWN, "ocsp_invalid", url, detail="no nonce and not current")
    try:
        _check_ocsp_signer(answer, issuer, now)
    except (InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound, ValueError, TypeError) as exc:
        # a forged answer, a wrong responder, a missing extension, a key of another type
        return Outcome(UNKNOWN, "bad_signature", url, detail="%s: %s" % (type(exc).__name__, exc))
    if answer.certificate_status == ocsp.OCSPCertStatus.GOOD:
        return Outcome(GOOD, "ocsp", url)
    if answer.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        if at is None or answer.revocation_time_utc <= at:
            return Outcome(REVOKED, "ocsp", url, revoked_at=answer.revocation_time_utc)
        return Outcome(GOOD, "ocsp", url)
    return Outcome(UNKNOWN, "ocsp_unknown", url)


def _check_ocsp_signer(answer, issuer, now):
    signer = issuer
    if answer.certificates:  # a delegated responder: the issuer gave it OCSPSigning
        signer = answer.certificates[0]
        signer.verify_directly_issued_by(issuer)
        eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
            raise ValueError("the responder's certificate lacks OCSPSigning")
        if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
            raise ValueError("the responder's certificate is not valid now")
    key = signer.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(answer.signature_hash_algorithm))
    else:
        key.verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), answer.signature_hash_algorithm)


# ---------------------------------------------------------------------------
# the cache
# ---------------------------------------------------------------------------
class CrlCache:
    """Good CRLs by URL, each until its nextUpdate and at most ``max_age``
    seconds (a revocation published meanwhile is seen that much later)."""

    def __init__(self, max_age=300, max_entries=64):
        self.max_age = datetime.timedelta(seconds=max_age)
        self.max_entries = max_entries
        self._entries = collections.OrderedDict()  # url -> (crl, expires)
        self._lock = threading.Lock()

    def get(self, url, now=None):
        now = now or _now()
        with self._lock:
            entry = self._entries.get(url)
            if entry is None:
                return None
            if entry[1] <= now:
                del self._entries[url]
                return None
            return entry[0]

    def put(self, url, crl, now=None):
        now = now or _now()
        expires = now + self.max_age
        if crl.next_update_utc is not None:
            expires = min(expires, crl.next_update_utc)
        if expires <= now:
            return
        with self._lock:
            self._entries[url] = (crl, expires)
            self._entries.move_to_end(url)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()


CRL_CACHE = CrlCache()


# ---------------------------------------------------------------------------
# the client
# ---------------------------------------------------------------------------
class RevocationClient:
    """Asks a certificate's CA whether it is revoked (see the module doc).

    ``timeout``: seconds per request (a plain number: Odoo's test runner
    compares it with an int).  ``retries``: extra attempts after a timeout,
    a refused connection or HTTP 5xx.  ``cache``: a CrlCache (default the
    process's ``CRL_CACHE``; None for none).  ``ocsp_url``: ask this
    responder instead of the certificate's AIA.
    """

    def __init__(self, timeout=10, retries=1, cache=CRL_CACHE, ocsp_url=None, session=None):
        self.timeout, self.retries, self.cache, self.ocsp_url = timeout, retries, cache, ocsp_url
        self._http = session or requests.Session()

    def close(self):
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def check(self, cert, issuer, at=None, methods=("crl",)):
        """The Outcome for ``cert`` (issued by ``issuer``) at ``at``."""
        if issuer is None:
            return Outcome(UNKNOWN, "no_issuer")
        first_failure = None
        for method in methods:
            if method not in METHODS:
                raise ValueError("unknown revocation method %r" % (method,))
            outcomes = (
                self._crl_outcomes(cert, issuer, at) if method == "crl" else self._ocsp_outcomes(cert, issuer, at)
            )
            for outcome in outcomes:
                if outcome.conclusive:
                    return outcome
                _logger.info(
                    "revocation %s for serial %x: %s %s",
                    outcome.url or method,
                    cert.serial_number,
                    outcome.reason,
                    outcome.detail,
                )
                first_failure = first_failure or outcome
        return first_failure or Outcome(UNKNOWN, "no_source")

    def _crl_outcomes(self, cert, issuer, at):
        for url in crl_urls(cert):
            crl = self.cache.get(url) if self.cache is not None else None
            if crl is None:
                try:
                    crl = load_crl(self._fetch("GET", url, MAX_CRL_BYTES))
                except _Failed as failed:
                    yield Outcome(UNKNOWN, failed.reason, url, detail=failed.detail)
                    continue
                except ValueError as exc:
                    yield Outcome(UNKNOWN, "unreadable", url, detail=str(exc))
                    continue
            outcome = status_from_crl(crl, cert, issuer, at=at, url=url)
            if outcome.conclusive and self.cache is not None:
                self.cache.put(url, crl)
            yield outcome

    def _ocsp_outcomes(self, cert, issuer, at):
        url = self.ocsp_url or ocsp_url_of(cert)
        if not url:
            return
        nonce = os.urandom(16)
        try:
            answer = self._fetch(
                "POST", url, MAX_OCSP_BYTES, ocsp_request(cert, issuer, nonce), "application/ocsp-request"
            )
        except _Failed as failed:
            yield Outcome(UNKNOWN, failed.reason, url, detail=failed.detail)
            return
        yield status_from_ocsp(answer, cert, issuer, nonce, at=at, url=url)

    def _fetch(self, method, url, limit, body=None, content_type=None):
        headers = {"Content-Type": content_type} if content_type else {}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                with self._http.request(
                    method, url, data=body, headers=headers, timeout=self.timeout, stream=True
                ) as response:
                    if response.status_code >= 500 and not last:
                        continue
                    if response.status_code != 200:
                        raise _Failed("http_error", "HTTP %d" % response.status_code)
                    data = bytearray()
                    for chunk in response.iter_content(64 * 1024):
                        data += chunk
                        if len(data) > limit:
                            raise _Failed("unreadable", "more than %d bytes" % limit)
            except (requests.Timeout, requests.ConnectionError) as exc:
                if last:
                    raise _Failed("unreachable", type(exc).__name__) from None
                continue
            except requests.RequestException as exc:
                raise _Failed("unreachable", type(exc).__name__) from None
            return bytes(data)
        raise _Failed("unreachable")  # not reached: the last attempt returns or raises
