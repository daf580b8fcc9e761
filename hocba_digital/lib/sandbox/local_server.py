"""The threaded HTTP server every sandbox of lib/ runs on 127.0.0.1.  No Odoo import here.

A subclass names its request handler (``handler_class``, which finds the
sandbox as ``self.server.sandbox``) and its thread; ``port=0`` takes a free
port, known after ``start()``; ``tls=(certfile, keyfile)`` serves HTTPS and
``client_ca`` then requires a client certificate signed by that CA.
``bind()`` takes the port before ``start()`` when the URL must be known early.

Faults: ``faults`` is the sandbox's :class:`faults.FaultPlan` (the faults of
``fault_kinds``); a handler asks it with ``faults.pick(endpoint, headers)``
and waits with ``hold(slow_delay)`` for "slow" and ``hold_until_gone(connection)``
for "timeout", which ``stop()`` cuts short.

"timeout" is decided by the client, never by a race between two clocks: the
answer is held until the client has given up and closed the connection (at most
``timeout_delay`` seconds; ``timeout_delay=None``, what tests use: no limit).  A
loaded machine makes the client's timeout come later, never the answer first.
A handler calls ``done()`` when it has finished with a request; a test waits
for that with ``wait_done(n)`` (e.g. before it looks at what the fake stored).
"""

import select
import ssl
import threading
import time
from http.server import ThreadingHTTPServer

from . import faults as sandbox_faults


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout or drop faults) is not an error here


class LocalServer:
    handler_class = None
    thread_name = "local-server"
    fault_kinds = sandbox_faults.FAULTS

    def __init__(self, host="127.0.0.1", port=0, tls=None, client_ca=None, *, timeout_delay=3.0, slow_delay=0.2):
        self.host, self.port, self.tls, self.client_ca = host, port, tls, client_ca
        self.faults = sandbox_faults.FaultPlan(allowed=self.fault_kinds)
        self.timeout_delay, self.slow_delay = timeout_delay, slow_delay
        self._stopping = threading.Event()
        self._server = self._thread = None
        self._done = threading.Condition()
        self.done_count = 0

    @property
    def root_url(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)

    def _handler(self):
        return self.handler_class

    def hold(self, seconds):
        """Wait ``seconds`` in a handler, or less when the server stops."""
        self._stopping.wait(seconds)

    def hold_until_gone(self, connection, poll=0.05):
        """The "timeout" fault: wait in a handler until the client closes
        ``connection`` (it gave up waiting for the answer), or ``timeout_delay``
        seconds when that is not None, or the server stops."""
        deadline = None if self.timeout_delay is None else time.monotonic() + self.timeout_delay
        while not self._stopping.is_set():
            wait = poll if deadline is None else min(poll, deadline - time.monotonic())
            if wait <= 0:
                return
            try:
                readable, _w, _x = select.select([connection], [], [], wait)
            except (OSError, ValueError):  # closed meanwhile
                return
            if readable:  # end of stream: nobody waits for this answer any more
                return

    def done(self):
        """A handler has finished with one request."""
        with self._done:
            self.done_count += 1
            self._done.notify_all()

    def wait_done(self, count, timeout=60):
        """Wait until ``count`` requests were finished (``done()``) since the last
        ``reset_done()``; False if that did not happen within ``timeout`` seconds
        (a bound against a hang, not a condition of any outcome)."""
        with self._done:
            return self._done.wait_for(lambda: self.done_count >= count, timeout)

    def reset_done(self):
        with self._done:
            self.done_count = 0

    def bind(self):
        """Take the port (``port`` is then known) without serving yet."""
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self._handler())
        self._server.sandbox = self
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            if self.client_ca:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(self.client_ca)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        return self

    def start(self):
        if self._thread is not None:
            return self
        self._stopping.clear()
        self.bind()
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        if self._server is not None:
            self._server.server_close()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
