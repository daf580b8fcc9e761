"""One fault vocabulary and one fault plan for every fake service of lib/sandbox.
No Odoo import here.

Each sandbox (CSC, PKI responders, exchange store, population service) owns a
:class:`FaultPlan` as ``sandbox.faults`` and asks it, for each request, which
fault to play: a queued one (``add``), else a standing one (``set``), else the
request's ``X-Hocba-Sandbox-Fault`` header, else, with probability ``rate``, one
of ``kinds`` drawn from a seeded generator.  A service plays only the faults it
implements (``CSC``, ``PKI``, ``EXCHANGE``, ``POPULATION`` below); its plan
refuses the others.

The names (what a fault looks like to the client):

``timeout``
    no answer until the client gave up and closed the connection (at most the
    sandbox's ``timeout_delay`` seconds; None, what tests use: no limit), so the
    client's own timeout decides, however loaded the machine.  PKI: no answer
    at all; CSC: 503 then; exchange: the package is stored, then the
    connection is closed; population: the request is processed, then answered.
``slow``
    the right answer, after the sandbox's ``slow_delay`` seconds (shorter).
``error_500`` / ``error_503``
    HTTP 500 / 503, nothing done.
``rate_limit``
    HTTP 429 with ``Retry-After``, nothing done.
``drop``
    the connection is closed without an answer, nothing done.
``lost_answer``
    the request is done (stored), then the connection is closed without an
    answer: the crash between send and acknowledgement.
``duplicate_ack``
    done, and the acknowledgement is written twice.
``reject``
    HTTP 422, a content rejection, nothing done.
``bad_body``
    HTTP 200 with a body that is not what the contract says (not DER, not JSON).
``wrong_results``
    HTTP 200, well formed, with one result missing.
``bad_signature``
    the signature that comes back is corrupted.

Old names, still accepted on input (``LEGACY``): ``"500"`` and ``"error500"``
(``error_500``), ``"error503"`` (``error_503``), ``"garbage"`` and
``"malformed"`` (``bad_body``), ``"drop_after_store"`` (``lost_answer``).
"""

import collections
import random
import threading

FAULT_HEADER = "X-Hocba-Sandbox-Fault"

TIMEOUT, SLOW, DROP, LOST_ANSWER = "timeout", "slow", "drop", "lost_answer"
ERROR_500, ERROR_503, RATE_LIMIT = "error_500", "error_503", "rate_limit"
DUPLICATE_ACK, REJECT = "duplicate_ack", "reject"
BAD_BODY, WRONG_RESULTS, BAD_SIGNATURE = "bad_body", "wrong_results", "bad_signature"

FAULTS = (
    TIMEOUT,
    SLOW,
    ERROR_500,
    ERROR_503,
    RATE_LIMIT,
    DROP,
    LOST_ANSWER,
    DUPLICATE_ACK,
    REJECT,
    BAD_BODY,
    WRONG_RESULTS,
    BAD_SIGNATURE,
)
LEGACY = {
    "500": ERROR_500,
    "error500": ERROR_500,
    "error503": ERROR_503,
    "garbage": BAD_BODY,
    "malformed": BAD_BODY,
    "drop_after_store": LOST_ANSWER,
}

# what each service plays
CSC = (TIMEOUT, SLOW, ERROR_500, DROP, BAD_SIGNATURE)
PKI = (TIMEOUT, SLOW, ERROR_500, DROP, BAD_BODY)
EXCHANGE = (TIMEOUT, SLOW, ERROR_500, DROP, LOST_ANSWER, DUPLICATE_ACK, REJECT)
POPULATION = (TIMEOUT, SLOW, ERROR_500, ERROR_503, RATE_LIMIT, DROP, BAD_BODY, WRONG_RESULTS)
# what a client may retry safely (the exchange's default random faults)
RETRYABLE = (TIMEOUT, ERROR_500, DROP, LOST_ANSWER, DUPLICATE_ACK)


def canonical(kind):
    """The name of ``kind`` in ``FAULTS`` (an old name is translated); ValueError if unknown."""
    kind = LEGACY.get(kind, kind)
    if kind not in FAULTS:
        raise ValueError("fault must be one of %s" % ", ".join(FAULTS))
    return kind


class FaultPlan:
    """Which fault the next request gets, if any.

    ``allowed``: the faults the service plays (default: all of ``FAULTS``);
    ``rate`` and ``kinds`` (default: those of ``RETRYABLE`` the service plays):
    random faults from a generator seeded with ``seed``.
    ``injected`` counts the faults handed out, by name.
    """

    def __init__(self, rate=0.0, kinds=None, seed=None, allowed=FAULTS):
        self.allowed = tuple(canonical(k) for k in allowed)
        self.rate = rate
        if kinds is None:  # the retryable ones this service plays
            kinds = [k for k in RETRYABLE if k in self.allowed]
        self.kinds = tuple(self._check(k) for k in kinds)
        self._queue = []  # [kind, endpoint or None, times left, requests to let through first]
        self._standing = {}  # endpoint or None -> kind
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = collections.Counter()

    def _check(self, kind):
        kind = canonical(kind)
        if kind not in self.allowed:
            raise ValueError("this service plays only the faults %s" % ", ".join(self.allowed))
        return kind

    def add(self, kind, times=1, after=0, endpoint=None):
        """``kind`` for the next ``times`` requests (to ``endpoint``, or any), once
        ``after`` of them went through."""
        kind = self._check(kind)
        with self._lock:
            self._queue.append([kind, endpoint, times, after])

    def set(self, kind, endpoint=None):
        """``kind`` for every request (to ``endpoint``, or any endpoint without a
        standing fault of its own) until ``clear``; ``kind=None`` lifts it."""
        with self._lock:
            if kind is None:
                self._standing.pop(endpoint, None)
            else:
                self._standing[endpoint] = self._check(kind)

    def clear(self):
        """No more faults: the queue, the standing faults and the rate are emptied."""
        with self._lock:
            self._queue.clear()
            self._standing.clear()
            self.rate = 0.0

    def pick(self, endpoint=None, headers=None):
        """The fault to play on one request to ``endpoint`` (None: none)."""
        with self._lock:
            queued, kind = self._queued(endpoint)
            if not queued:  # else a queued fault, or a request it lets through first
                kind = self._standing.get(endpoint, self._standing.get(None))
                if kind is None and headers is not None:
                    asked = LEGACY.get(headers.get(FAULT_HEADER), headers.get(FAULT_HEADER))
                    kind = asked if asked in self.allowed else None
                if kind is None and self.rate and self.kinds and self._random.random() < self.rate:
                    kind = self._random.choice(self.kinds)
            if kind:
                self.injected[kind] += 1
            return kind

    def _queued(self, endpoint):
        for entry in self._queue:
            if entry[1] not in (None, endpoint):
                continue
            if entry[3] > 0:
                entry[3] -= 1
                return True, None
            entry[2] -= 1
            if entry[2] <= 0:
                self._queue.remove(entry)
            return True, entry[0]
        return False, None
