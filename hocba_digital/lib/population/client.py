"""Client of an online reconciliation service of the population database.  No Odoo import here.

::

    client = PopulationClient("https://host/api/population/v1", token, school_code="31012345")
    found = client.check([("3100000001", Identity("Nguyễn Thị Mai Anh", date(2017, 3, 14),
                                                    "female", "031317004521"))])
    found["3100000001"]      # Identity held by the population database, or None

The contract (``docs/reconciliation.md``): ``POST {base}/reconciliations`` with
a bearer token and an ``Idempotency-Key`` header, at most ``batch_size``
pupils a request.  Each request gets its own key, kept for its retries, so a
retry after a timeout is answered from the service's memory and never counted
twice.  Timeouts, dropped connections, HTTP 5xx and 429 are retried
(``max_attempts`` in all, exponential backoff capped at ``max_backoff``, or the
service's ``Retry-After`` within that cap); other refusals and malformed
answers are not.

Errors: ``PopulationAuthError`` (token refused), ``PopulationUnavailable``
(no usable answer after the retries), ``PopulationBadAnswer`` (the answer does
not follow the contract), ``PopulationError`` otherwise.  Messages and logs
never contain the token.
"""

import datetime
import logging
import time
import uuid
from urllib.parse import urlsplit

import requests

from ..rules import personal_id as pid
from ..secret import Secret
from .reconcile import Identity

_logger = logging.getLogger(__name__)

MAX_BATCH = 200  # the contract's limit per request


class PopulationError(Exception):
    """The reconciliation with the online service failed."""


class PopulationAuthError(PopulationError):
    """The service refused the token."""


class PopulationUnavailable(PopulationError):
    """No usable answer after the retries: timeout, connection error, HTTP 5xx / 429."""


class PopulationBadAnswer(PopulationError):
    """The service answered something the contract does not allow."""


def identity_to_json(ref, identity):
    return {
        "ref": ref,
        "full_name": identity.name,
        "birth_date": identity.birth_date.isoformat() if identity.birth_date else None,
        "sex": identity.sex,
        "personal_id": identity.personal_id or None,
    }


def identity_from_json(data):
    """An Identity from the contract's ``citizen`` object; ValueError when malformed."""
    if not isinstance(data, dict):
        raise ValueError("citizen is not an object")
    name, sex, number = data.get("full_name"), data.get("sex"), data.get("personal_id")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("full_name")
    if sex not in (pid.MALE, pid.FEMALE):
        raise ValueError("sex")
    if not isinstance(number, str) or len(number) != 12 or not number.isdigit():
        raise ValueError("personal_id")
    try:
        birth_date = datetime.date.fromisoformat(data.get("birth_date"))
    except (TypeError, ValueError):
        raise ValueError("birth_date") from None
    return Identity(" ".join(name.split()), birth_date, sex, number)


class PopulationClient:
    """``base_url``: the API base, e.g. ``https://host/api/population/v1``.
    ``timeout``: seconds per request (a plain number).  ``sleep``: how to wait
    between attempts (tests pass their own)."""

    def __init__(
        self,
        base_url,
        token,
        *,
        school_code="",
        timeout=20.0,
        max_attempts=3,
        backoff=1.0,
        max_backoff=10.0,
        batch_size=100,
        verify=True,
        session=None,
        sleep=time.sleep,
    ):
        if not base_url:
            raise PopulationError("no address for the population database service")
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.__token = Secret(token)
        self.school_code = school_code or ""
        self.timeout, self.verify = timeout, verify
        self.max_attempts = max(1, int(max_attempts))
        self.backoff, self.max_backoff = backoff, max_backoff
        self.batch_size = max(1, min(int(batch_size), MAX_BATCH))
        self._own_session = session is None
        self._http = session or requests.Session()
        self._sleep = sleep
        self.requests_sent = 0  # HTTP requests, retries included

    def __repr__(self):
        return "<PopulationClient %s>" % self.host

    def close(self):
        if self._own_session:
            self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- API -------------------------------------------------------------------
    def status(self):
        """``GET {base}/status``: the service's own status object."""
        return self._request("GET", "status", None, None)

    def check(self, pupils):
        """``pupils``: ``(ref, Identity)`` pairs with distinct refs.  Returns
        ``{ref: Identity or None}`` for every pupil, or raises; nothing is
        returned half done."""
        pupils = list(pupils)
        refs = [ref for ref, _identity in pupils]
        if len(set(refs)) != len(refs):
            raise PopulationError("two pupils are sent with the same code")
        found = {}
        for start in range(0, len(pupils), self.batch_size):
            batch = pupils[start : start + self.batch_size]
            body = {
                "school_code": self.school_code,
                "pupils": [identity_to_json(ref, identity) for ref, identity in batch],
            }
            data = self._request("POST", "reconciliations", body, uuid.uuid4().hex)
            found.update(self._results(data, [ref for ref, _identity in batch]))
        return found

    # -- HTTP ------------------------------------------------------------------
    def _results(self, data, refs):
        results = data.get("results")
        if not isinstance(results, list):
            raise PopulationBadAnswer("the answer of %s has no list of results" % self.host)
        found, wanted = {}, set(refs)
        for item in results:
            ref = item.get("ref") if isinstance(item, dict) else None
            if ref not in wanted or ref in found:
                raise PopulationBadAnswer(
                    "the answer of %s has a result for %r, which was not asked or is repeated" % (self.host, ref)
                )
            status = item.get("status")
            if status == "not_found":
                found[ref] = None
            elif status == "found":
                try:
                    found[ref] = identity_from_json(item.get("citizen"))
                except ValueError as exc:
                    raise PopulationBadAnswer("the answer of %s for %r: malformed %s" % (self.host, ref, exc)) from None
            else:
                raise PopulationBadAnswer("the answer of %s for %r: unknown status %r" % (self.host, ref, status))
        missing = wanted - set(found)
        if missing:
            raise PopulationBadAnswer(
                "the answer of %s has no result for %d pupils (e.g. %r)" % (self.host, len(missing), sorted(missing)[0])
            )
        return found

    def _request(self, method, endpoint, body, idempotency_key):
        url = "%s/%s" % (self.base_url, endpoint)
        headers = {"Authorization": "Bearer %s" % (self.__token.reveal() or "")}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        problem = None
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                self._sleep(self._delay(attempt, problem))
            self.requests_sent += 1
            _logger.debug("population %s %s attempt %d key %s", self.host, endpoint, attempt, idempotency_key)
            try:
                response = self._http.request(
                    method, url, json=body, headers=headers, timeout=self.timeout, verify=self.verify
                )
            except requests.exceptions.SSLError:
                raise PopulationError("TLS handshake with %s failed (untrusted certificate?)" % self.host) from None
            except requests.exceptions.Timeout:
                problem = PopulationUnavailable("%s did not answer in time" % self.host)
                continue
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                problem = PopulationUnavailable("cannot reach %s (%s)" % (self.host, type(exc).__name__))
                continue
            except requests.exceptions.RequestException as exc:
                raise PopulationError("request to %s failed: %s" % (self.host, type(exc).__name__)) from None
            status = response.status_code
            if status >= 500 or status == 429:
                problem = PopulationUnavailable("%s answered HTTP %d%s" % (self.host, status, self._said(response)))
                problem.retry_after = self._retry_after(response)
                continue
            return self._parse(response)
        raise PopulationUnavailable("%s after %d attempts" % (problem, self.max_attempts))

    def _delay(self, attempt, problem):
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 2))
        retry_after = getattr(problem, "retry_after", None)
        if retry_after is not None:
            delay = min(self.max_backoff, max(delay, retry_after))
        return delay

    @staticmethod
    def _retry_after(response):
        try:
            return max(0.0, float(response.headers.get("Retry-After")))
        except (TypeError, ValueError):
            return None

    def _said(self, response):
        """``: <message>`` of an error answer, without our token."""
        try:
            data = response.json()
        except ValueError:
            return ""
        if not isinstance(data, dict):
            return ""
        text = str(data.get("message") or data.get("error") or "")[:300]
        token = self.__token.reveal()
        return (": " + text.replace(token, "***") if token else ": " + text) if text else ""

    def _parse(self, response):
        status = response.status_code
        if status in (401, 403):
            raise PopulationAuthError(
                "%s refused the access token (HTTP %d%s)" % (self.host, status, self._said(response))
            )
        if status != 200:
            raise PopulationError("%s refused the request (HTTP %d%s)" % (self.host, status, self._said(response)))
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise PopulationBadAnswer("the answer of %s is not a JSON object" % self.host)
        return data
