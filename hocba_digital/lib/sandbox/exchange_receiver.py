"""The receiving side of the exchange contract, without the HTTP server.
No Odoo import here.

``Receiver(store, token)`` answers ``submit(headers, body)`` and
``status(headers, key)`` with ``(HTTP status, JSON payload)`` exactly as
``docs/exchange.md`` says; ``sandbox/exchange_sandbox.py`` puts it behind a threaded
HTTP server on 127.0.0.1 and the demo database behind an Odoo route
(``hocba_digital_demo/controllers/demo_exchange.py``).  What it keeps goes to a store:

* :class:`MemoryStore`: in the process (tests, bench);
* :class:`DirectoryStore`: one JSON record per key and one ZIP per package in a
  directory, with a file lock, so several processes (Odoo's workers) share it.

Which requests fail and how (tests, bench) is a ``faults.FaultPlan``: queued
faults, a rate, or a request header.
"""

import contextlib
import datetime
import fcntl
import hashlib
import hmac
import json
import os
import re
import threading

from ..exchange import package as ep

KEY_HEADER, SHA_HEADER = "Idempotency-Key", "X-Hocba-Package-SHA256"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _error(status, code, message, details=()):
    return status, {"error": code, "message": message, "details": list(details)}


class MemoryStore:
    """Records and packages in memory; ``lock`` serialises a submit."""

    def __init__(self):
        self._records, self._bodies = {}, {}
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def locked(self):
        with self._lock:
            yield

    def get(self, key):
        record = self._records.get(key)
        return dict(record) if record else None

    def put(self, record, body=None):
        self._records[record["idempotency_key"]] = dict(record)
        if body is not None:
            self._bodies[record["receiver_ref"]] = body

    def body(self, receiver_ref):
        return self._bodies.get(receiver_ref)

    def records(self):
        with self._lock:
            return [dict(r) for r in self._records.values()]

    def next_ref(self):
        return "SO-%08d" % (len(self._records) + 1)

    def clear(self):
        with self._lock:
            self._records.clear()
            self._bodies.clear()


class DirectoryStore:
    """``<path>/records/<sha256(key)>.json`` and ``<path>/packages/<ref>.zip``;
    an exclusive ``flock`` on ``<path>/.lock`` serialises submits across
    processes."""

    def __init__(self, path):
        self.path = path
        for sub in ("records", "packages"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)

    @contextlib.contextmanager
    def locked(self):
        with open(os.path.join(self.path, ".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _record_path(self, key):
        return os.path.join(self.path, "records", hashlib.sha256(key.encode()).hexdigest() + ".json")

    def get(self, key):
        try:
            with open(self._record_path(key), "rb") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None

    def _write(self, path, data):
        tmp = "%s.%d.tmp" % (path, os.getpid())
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)  # readers never see half a file

    def put(self, record, body=None):
        if body is not None:
            self._write(os.path.join(self.path, "packages", record["receiver_ref"] + ".zip"), body)
        self._write(self._record_path(record["idempotency_key"]), json.dumps(record).encode())

    def body(self, receiver_ref):
        try:
            with open(os.path.join(self.path, "packages", receiver_ref + ".zip"), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def records(self):
        folder = os.path.join(self.path, "records")
        found = []
        for name in sorted(os.listdir(folder)):
            if name.endswith(".json"):
                with open(os.path.join(folder, name), "rb") as handle:
                    found.append(json.load(handle))
        return found

    def next_ref(self):
        return "SO-%08d" % (len(os.listdir(os.path.join(self.path, "records"))) + 1)


class Receiver:
    """The contract's logic: bearer token, idempotency key, package checks,
    one record per key, ``receipts`` counting every submit under a key."""

    def __init__(self, store, token, *, schools=None):
        self.store, self.token, self.schools = store, token, schools

    def _authorised(self, headers):
        given = headers.get("Authorization") or ""
        return (
            bool(self.token)
            and given.startswith("Bearer ")
            and hmac.compare_digest(given[7:].encode(), self.token.encode())
        )

    @staticmethod
    def ack(record, duplicate):
        return {
            key: record.get(key)
            for key in ("receiver_ref", "idempotency_key", "package_sha256", "received_at", "document_id", "version")
        } | {"duplicate": duplicate}

    def submit(self, headers, body, content_type=None):
        if not self._authorised(headers):
            return _error(401, "unauthorized", "Missing or wrong bearer token")
        key = headers.get(KEY_HEADER) or ""
        if not KEY_PATTERN.match(key):
            return _error(
                400,
                "idempotency_key_missing",
                "An Idempotency-Key header of 8 to 128 characters [A-Za-z0-9._:-] is required",
            )
        if (content_type or headers.get("Content-Type") or "").split(";")[0].strip() != ep.MEDIA_TYPE:
            return _error(415, "unsupported_media_type", "The package must be sent as %s" % ep.MEDIA_TYPE)
        if len(body) > ep.MAX_PACKAGE:
            return _error(413, "too_large", "The package is larger than %d bytes" % ep.MAX_PACKAGE)
        digest = ep.sha256(body)
        declared = headers.get(SHA_HEADER)
        if declared and declared != digest:
            return _error(400, "sha256_mismatch", "The body does not match %s" % SHA_HEADER)
        with self.store.locked():
            record = self.store.get(key)
            if record is not None:
                if record["package_sha256"] != digest:
                    return _error(
                        409,
                        "idempotency_key_reused",
                        "This key was used for another package (%s)" % record["receiver_ref"],
                    )
                record["receipts"] += 1
                self.store.put(record)
                return 200, self.ack(record, True)
            try:
                manifest, _files = ep.read(body)
            except ep.PackageError as exc:
                return _error(422, "package_invalid", "The package is not valid", exc.reasons)
            school = manifest["school"]["code"]
            if self.schools is not None and school not in self.schools:
                return _error(403, "school_not_allowed", "This token may not send for school %s" % school)
            document = manifest["document"]
            record = {
                "receiver_ref": self.store.next_ref(),
                "idempotency_key": key,
                "package_sha256": digest,
                "received_at": _now(),
                "receipts": 1,
                "document_id": document["id"],
                "version": document["version"],
                "replaces": (document.get("replaces") or {}).get("id"),
                "school_code": school,
                "moet_code": manifest["pupil"]["moet_code"],
                "school_year": manifest["school_year"],
            }
            self.store.put(record, body)
            return 201, self.ack(record, False)

    def status(self, headers, key):
        if not self._authorised(headers):
            return _error(401, "unauthorized", "Missing or wrong bearer token")
        record = self.store.get(key)
        if record is None:
            return _error(404, "not_found", "Nothing was received under this key")
        return 200, self.ack(record, True)

    # -- what the tests and the bench count --------------------------------
    def records(self):
        return self.store.records()

    def receipts(self):
        """{idempotency key: number of submits that reached the store}."""
        return {r["idempotency_key"]: r["receipts"] for r in self.store.records()}
