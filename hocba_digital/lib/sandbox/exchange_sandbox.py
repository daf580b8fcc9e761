"""A local transcript store speaking ``docs/exchange.md``, for tests, the bench
and demonstrations.  No Odoo import here.

::

    with ExchangeSandbox(token="t0ken") as sandbox:          # 127.0.0.1, a free port
        client = ExchangeClient(sandbox.url, "t0ken")
        sandbox.faults.add("lost_answer")                     # the next request
        sandbox.faults.rate = 0.05                            # then 5 % of them
        ...
        sandbox.receiver.receipts()                           # {key: submits}

    cd hocba_digital && python3 -m lib.sandbox.exchange_sandbox --port 8199 --token t0ken \
        --dir /tmp/store --fault-rate 0.05

Faults (``faults.EXCHANGE``, see ``lib/sandbox/faults.py``), per request, from
``faults`` (queued, rate) or the request header ``X-Hocba-Sandbox-Fault``:

* ``timeout``: the package is stored, then no answer until the client gave up
  and closed the connection (at most ``timeout_delay`` seconds; None: no limit):
  it cannot know it was stored;
* ``slow``: the answer comes after ``slow_delay`` seconds (shorter), normally;
* ``error_500``: 500 and nothing stored;
* ``drop``: the connection is closed before anything is stored;
* ``lost_answer``: stored, then the connection is closed without an answer
  (the crash between send and acknowledgement);
* ``duplicate_ack``: stored, and the acknowledgement is written twice;
* ``reject``: 422, nothing stored (a content rejection).

TLS: ``tls=(certfile, keyfile)``, and ``client_ca`` to require a client
certificate signed by it (``make_tls_files`` writes a CA, a server certificate
for 127.0.0.1 and a client certificate).  Not a secure service otherwise.
"""

import argparse
import contextlib
import datetime
import json
import logging
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from . import faults as sandbox_faults
from .exchange_receiver import DirectoryStore, MemoryStore, Receiver
from .faults import FaultPlan
from .local_server import LocalServer

_logger = logging.getLogger(__name__)

API = "/api/hocba/v1"
MAX_BODY = 25 * 1024 * 1024


class ExchangeSandbox(LocalServer):
    """Threaded HTTP server on ``host:port`` (0: a free port); a context manager."""

    thread_name = "exchange-sandbox"
    fault_kinds = sandbox_faults.EXCHANGE

    def __init__(
        self,
        token="sandbox-token",
        *,
        host="127.0.0.1",
        port=0,
        store=None,
        faults=None,
        timeout_delay=3.0,
        slow_delay=0.2,
        tls=None,
        client_ca=None,
        schools=None,
    ):
        super().__init__(host, port, tls, client_ca, timeout_delay=timeout_delay, slow_delay=slow_delay)
        self.receiver = Receiver(store or MemoryStore(), token, schools=schools)
        if faults is not None:
            self.faults = faults
        self.requests = 0
        self._count_lock = threading.Lock()

    @property
    def url(self):
        return self.root_url + API

    def reset(self):
        """Forget faults and, for a memory store, what was received."""
        self.faults.clear()
        if isinstance(self.receiver.store, MemoryStore):
            self.receiver.store.clear()
        self.requests = 0
        self.reset_done()

    def _count(self):
        with self._count_lock:
            self.requests += 1


class _Handler(BaseHTTPRequestHandler):
    server_version = "HocbaExchangeSandbox/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        _logger.debug("exchange sandbox: " + fmt, *args)

    def _send(self, status, payload, twice=False):
        body = json.dumps(payload).encode()
        try:
            for _i in range(2 if twice else 1):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status in (429, 503):
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout fault)
            self.close_connection = True

    def _drop(self):
        self.close_connection = True
        with contextlib.suppress(OSError):  # already closed by the client
            self.connection.shutdown(2)

    def _path(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        return path[len(API) :] if path.startswith(API) else None

    def do_GET(self):  # noqa: N802
        sandbox = self.server.sandbox
        path = self._path()
        if not path or not path.startswith("/packages/"):
            return self._send(404, {"error": "not_found", "message": "Unknown endpoint"})
        return self._send(*sandbox.receiver.status(self.headers, path[len("/packages/") :]))

    def do_POST(self):  # noqa: N802
        try:
            return self._post()
        finally:
            self.server.sandbox.done()

    def _post(self):
        sandbox = self.server.sandbox
        sandbox._count()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"error": "too_large", "message": "Body too large"})
            return self._drop()
        body = self.rfile.read(length)
        if self._path() != "/packages":
            return self._send(404, {"error": "not_found", "message": "Unknown endpoint"})
        fault = sandbox.faults.pick("packages", self.headers)
        if fault == sandbox_faults.DROP:
            return self._drop()
        if fault == sandbox_faults.ERROR_500:
            return self._send(500, {"error": "server_error", "message": "Injected failure"})
        if fault == sandbox_faults.REJECT:
            return self._send(
                422,
                {
                    "error": "content_rejected",
                    "message": "Injected rejection",
                    "details": ["the sandbox was told to reject this package"],
                },
            )
        if fault == sandbox_faults.SLOW:
            sandbox.hold(sandbox.slow_delay)
        status, payload = sandbox.receiver.submit(self.headers, body)
        if fault == sandbox_faults.LOST_ANSWER:
            return self._drop()
        if fault == sandbox_faults.TIMEOUT:
            sandbox.hold_until_gone(self.connection)
            return self._drop()
        return self._send(status, payload, twice=fault == sandbox_faults.DUPLICATE_ACK and status < 300)


ExchangeSandbox.handler_class = _Handler


# ---------------------------------------------------------------------------
# TLS material for tests and demonstrations
# ---------------------------------------------------------------------------
def make_tls_files(directory, host="127.0.0.1"):
    """A CA, a server certificate for ``host`` (and localhost) and a client
    certificate, as PEM files in ``directory``: a dict of their paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def issue(name, key, issuer=None, issuer_key=None, ca=False, san=None, eku=None):
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        return builder.sign(issuer_key or key, hashes.SHA256())

    def write(name, data):
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    pem = serialization.Encoding.PEM

    def key_pem(key):
        return key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _i in range(3))
    ca = issue("Exchange sandbox test CA", ca_key, ca=True)
    try:
        names = [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        names = [x509.DNSName(host)]
    server = issue(
        host, server_key, ca, ca_key, san=names + [x509.DNSName("localhost")], eku=ExtendedKeyUsageOID.SERVER_AUTH
    )
    client = issue("School exchange client", client_key, ca, ca_key, eku=ExtendedKeyUsageOID.CLIENT_AUTH)
    return {
        "ca": write("ca.pem", ca.public_bytes(pem)),
        "server_cert": write("server.pem", server.public_bytes(pem)),
        "server_key": write("server.key", key_pem(server_key)),
        "client_cert": write("client.pem", client.public_bytes(pem)),
        "client_key": write("client.key", key_pem(client_key)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="A local transcript store (docs/exchange.md).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--token", default="sandbox-token")
    parser.add_argument("--dir", help="keep what is received in this directory (default: memory)")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument(
        "--fault",
        action="append",
        choices=sandbox_faults.EXCHANGE,
        default=[],
        help="fault kinds of the rate (default: the retryable ones)",
    )
    args = parser.parse_args(argv)
    store = DirectoryStore(args.dir) if args.dir else MemoryStore()
    faults = FaultPlan(args.fault_rate, args.fault or None, allowed=sandbox_faults.EXCHANGE)
    sandbox = ExchangeSandbox(args.token, host=args.host, port=args.port, store=store, faults=faults)
    sandbox.start()
    sys.stdout.write("transcript store sandbox on %s (token %s)\n" % (sandbox.url, args.token))
    sys.stdout.flush()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
