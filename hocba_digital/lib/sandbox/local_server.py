"""The threaded HTTP server every sandbox of lib/ runs on 127.0.0.1.  No Odoo import here.

A subclass names its request handler (``handler_class``, which finds the
sandbox as ``self.server.sandbox``) and its thread; ``port=0`` takes a free
port, known after ``start()``; ``tls=(certfile, keyfile)`` serves HTTPS and
``client_ca`` then requires a client certificate signed by that CA.
``_stopping`` is set by ``stop()`` to wake handlers sleeping in a fault.
"""
import ssl
import threading
from http.server import ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout or drop faults) is not an error here


class LocalServer:
    handler_class = None
    thread_name = "local-server"

    def __init__(self, host="127.0.0.1", port=0, tls=None, client_ca=None):
        self.host, self.port, self.tls, self.client_ca = host, port, tls, client_ca
        self._stopping = threading.Event()
        self._server = self._thread = None

    @property
    def root_url(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)

    def _handler(self):
        return self.handler_class

    def start(self):
        self._stopping.clear()
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
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.thread_name,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
