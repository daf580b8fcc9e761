"""A local stand-in for the population database's reconciliation service.  No Odoo import here.

::

    registry = PopulationRegistry(citizens, tokens={"secret-token"})
    with PopulationSandbox(registry) as sandbox:            # 127.0.0.1, free port
        client = PopulationClient(sandbox.base_url, "secret-token")
        sandbox.faults.add("timeout")                        # the next request is too slow

:class:`PopulationRegistry` is the service itself (lookup, idempotency, errors)
as plain Python, so the demo database's controller serves the same contract
without a thread; :class:`PopulationSandbox` is a threaded HTTP server on
127.0.0.1 around it.  The contract is in ``docs/reconciliation.md``.

A pupil is looked up by personal ID, else by full name (compared as
``population_reconcile.name_key``) and birth date when exactly one citizen has
them: then the citizen's own personal ID comes back, and the school sees that
its number differs.

Test switches: ``faults.add(kind, times=1)`` (``faults.POPULATION``, see
``lib/sandbox/faults.py``) makes the next requests fail: ``"timeout"`` (the
request is processed, then answered only once the client gave up, at most
``timeout_delay`` seconds), ``"slow"`` (answered after ``slow_delay`` seconds), ``"error_500"``,
``"error_503"``, ``"rate_limit"`` (429 with ``Retry-After``), ``"drop"``
(connection closed without an answer), ``"bad_body"`` (200 with a body that is
not JSON), ``"wrong_results"`` (200 with one result missing).  ``calls`` counts HTTP requests,
``registry.processed`` the distinct requests processed (a replay of a known
Idempotency-Key is not processed again).
"""

import collections
import contextlib
import datetime
import hashlib
import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler

from ..population.client import MAX_BATCH
from ..population.reconcile import Identity, name_key
from ..rules import personal_id as pid
from . import faults
from .local_server import LocalServer

_logger = logging.getLogger(__name__)

API = "/api/population/v1"
MAX_BODY = 2 * 1024 * 1024
_HTTP_ERRORS = {faults.ERROR_500: 500, faults.ERROR_503: 503, faults.RATE_LIMIT: 429}


class Refusal(Exception):
    def __init__(self, status, error, message):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def payload(self):
        return {"error": self.error, "message": self.message}


def citizen_to_json(identity):
    return {
        "personal_id": identity.personal_id,
        "full_name": identity.name,
        "birth_date": identity.birth_date.isoformat(),
        "sex": identity.sex,
    }


def citizens_from_json(items):
    return [
        Identity(item["full_name"], datetime.date.fromisoformat(item["birth_date"]), item["sex"], item["personal_id"])
        for item in items
    ]


class PopulationRegistry:
    """The citizens the service knows and its answers.  ``tokens``: the bearer
    tokens accepted (None: any non-empty token)."""

    def __init__(self, citizens, tokens=None):
        self.citizens = list(citizens)
        self.tokens = set(tokens) if tokens is not None else None
        self._by_id = {c.personal_id: c for c in self.citizens}
        self._by_name = collections.defaultdict(list)
        for citizen in self.citizens:
            self._by_name[(name_key(citizen.name), citizen.birth_date)].append(citizen)
        self._answers = {}  # idempotency key -> (body digest, payload)
        self._lock = threading.Lock()
        self.processed = 0
        self.pupils_checked = 0

    def lookup(self, personal_id, name, birth_date):
        citizen = self._by_id.get(personal_id) if personal_id else None
        if citizen is None:
            same = self._by_name.get((name_key(name), birth_date), [])
            citizen = same[0] if len(same) == 1 else None
        return citizen

    def authorise(self, header):
        token = header[7:] if (header or "").startswith("Bearer ") else ""
        known = self.tokens
        if not token or (known is not None and not any(hmac.compare_digest(token, t) for t in known)):
            raise Refusal(401, "invalid_token", "The access token is missing or not valid")

    def reconcile(self, body, idempotency_key):
        """The answer (a dict) to ``POST reconciliations``; raises Refusal."""
        if not idempotency_key or not 8 <= len(idempotency_key) <= 128:
            raise Refusal(400, "invalid_request", "The Idempotency-Key header is required")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            known = self._answers.get(idempotency_key)
            if known is not None:
                if known[0] != digest:
                    raise Refusal(409, "idempotency_conflict", "This Idempotency-Key was used for another request")
                return dict(known[1], replayed=True)
            pupils = self._pupils(body)
            results = []
            for pupil in pupils:
                citizen = self.lookup(pupil["personal_id"], pupil["full_name"], pupil["birth_date"])
                result = {"ref": pupil["ref"], "status": "found" if citizen else "not_found"}
                if citizen:
                    result["citizen"] = citizen_to_json(citizen)
                results.append(result)
            self.processed += 1
            self.pupils_checked += len(pupils)
            payload = {"request_id": "RQ-%06d" % self.processed, "results": results}
            self._answers[idempotency_key] = (digest, payload)
            return payload

    @staticmethod
    def _pupils(body):
        pupils = body.get("pupils") if isinstance(body, dict) else None
        if not isinstance(pupils, list) or not pupils:
            raise Refusal(400, "invalid_request", "pupils must be a non-empty list")
        if len(pupils) > MAX_BATCH:
            raise Refusal(413, "too_many_pupils", "At most %d pupils per request" % MAX_BATCH)
        checked, refs = [], set()
        for index, pupil in enumerate(pupils):
            try:
                ref = pupil["ref"]
                if not isinstance(ref, str) or not ref or ref in refs:
                    raise ValueError
                birth_date = datetime.date.fromisoformat(pupil["birth_date"])
                name = pupil["full_name"]
                if not isinstance(name, str) or pupil.get("sex") not in (pid.MALE, pid.FEMALE):
                    raise ValueError
            except (KeyError, TypeError, ValueError):
                raise Refusal(400, "invalid_request", "pupils[%d] is malformed" % index) from None
            refs.add(ref)
            checked.append(
                {
                    "ref": ref,
                    "full_name": name,
                    "birth_date": birth_date,
                    "personal_id": pid.normalize(pupil.get("personal_id")),
                }
            )
        return checked

    def handle(self, method, endpoint, headers, raw_body):
        """``(HTTP status, payload dict)`` of one request, as the contract says."""
        try:
            self.authorise(headers.get("Authorization"))
            if method == "GET" and endpoint == "status":
                return 200, {"status": "ok", "citizens": len(self.citizens)}
            if method == "POST" and endpoint == "reconciliations":
                try:
                    body = json.loads(raw_body or b"null")
                except ValueError:
                    raise Refusal(400, "invalid_request", "The body is not JSON") from None
                return 200, self.reconcile(body, headers.get("Idempotency-Key"))
            raise Refusal(404, "not_found", "Unknown endpoint")
        except Refusal as refusal:
            return refusal.status, refusal.payload()


class PopulationSandbox(LocalServer):
    """Threaded HTTP server on ``host:port`` (port 0: any free port) serving a
    :class:`PopulationRegistry` under ``API``; a context manager."""

    thread_name = "population-sandbox"
    fault_kinds = faults.POPULATION

    def __init__(self, registry, host="127.0.0.1", port=0, timeout_delay=2.0, slow_delay=0.2, tls=None):
        super().__init__(host, port, tls, timeout_delay=timeout_delay, slow_delay=slow_delay)
        self.registry = registry
        self.calls = collections.Counter()
        self.idempotency_keys = []  # as received, replays included
        self._lock = threading.Lock()

    @property
    def base_url(self):
        return self.root_url + API

    def take_fault(self, endpoint, headers):
        """Count one request; the fault to play on it, if any."""
        with self._lock:
            self.calls[endpoint] += 1
            if headers.get("Idempotency-Key"):
                self.idempotency_keys.append(headers["Idempotency-Key"])
        return self.faults.pick(endpoint)

    def _handler(self):
        return _Handler


class _Handler(BaseHTTPRequestHandler):
    server_version = "HocbaPopulationSandbox/1.0"

    def log_message(self, fmt, *args):  # bodies and headers are never logged
        _logger.debug("population sandbox: " + fmt, *args)

    def _send(self, status, body, content_type="application/json", headers=()):
        with contextlib.suppress(OSError):  # the client gave up (timeout fault)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    def _serve(self, method):
        sandbox = self.server.sandbox
        path = self.path.split("?", 1)[0]
        endpoint = path[len(API) :].strip("/") if path.startswith(API + "/") else path
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(413, b'{"error": "too_large", "message": "Body too large"}')
        raw = self.rfile.read(length)
        fault = sandbox.take_fault(endpoint, self.headers)
        if fault == faults.DROP:
            self.close_connection = True
            return None
        if fault in _HTTP_ERRORS:
            return self._send(
                _HTTP_ERRORS[fault],
                json.dumps({"error": "unavailable", "message": "Injected failure"}).encode(),
                headers=[("Retry-After", "1")] if fault == faults.RATE_LIMIT else (),
            )
        status, payload = sandbox.registry.handle(method, endpoint, self.headers, raw)
        if fault == faults.TIMEOUT:
            sandbox.hold_until_gone(self.connection)
        elif fault == faults.SLOW:
            sandbox.hold(sandbox.slow_delay)
        if fault == faults.BAD_BODY and status == 200:
            return self._send(200, b"<html>Gateway says hello</html>", "text/html")
        if fault == faults.WRONG_RESULTS and status == 200 and payload.get("results"):
            payload = dict(payload, results=payload["results"][1:])
        headers = [("Idempotent-Replayed", "true")] if payload.pop("replayed", False) else []
        return self._send(status, json.dumps(payload, ensure_ascii=False).encode(), headers=headers)

    def do_GET(self):
        return self._serve("GET")

    def do_POST(self):
        return self._serve("POST")
