"""The server part of the local sandboxes of outside services.  No Odoo import here."""
import ssl
import threading
from http.server import ThreadingHTTPServer


class SandboxServer:
    """A ``ThreadingHTTPServer`` on ``self.host:self.port`` (port 0: any free
    port, read back after ``start``) served by a daemon thread; a context
    manager.  Handlers reach the sandbox as ``self.server.sandbox``; ``stop``
    sets ``_stopping`` first, which wakes handlers sleeping in a fault.

    Subclasses set ``host``, ``port`` and ``tls`` (None, or ``(certfile,
    keyfile)``), call ``_init_server()`` and return their handler class from
    ``_handler()``.
    """

    thread_name = "sandbox"

    def _init_server(self):
        self._stopping = threading.Event()
        self._server = self._thread = None

    def _handler(self):
        raise NotImplementedError

    def start(self):
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self._server.daemon_threads = True
        self._server.sandbox = self
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name=self.thread_name, daemon=True)
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
