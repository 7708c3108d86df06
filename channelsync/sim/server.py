"""Serve a WSGI app (a simulator) over real HTTP on 127.0.0.1, in a thread."""

from __future__ import annotations

import contextlib
import threading
from socketserver import ThreadingMixIn
from typing import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def handle_error(self) -> None:  # a simulated timeout drops the connection silently
        self.close_connection = True


class SimServer:
    """A running HTTP server for one WSGI app; ``base_url`` names it."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        # wsgiref prints tracebacks of app exceptions to stderr; a simulated
        # timeout is one on purpose, so report it as a dropped connection.
        self.httpd.handle_error = lambda request, client_address: None
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "SimServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def serve(app, host: str = "127.0.0.1", port: int = 0) -> Iterator[SimServer]:
    server = SimServer(app, host, port).start()
    try:
        yield server
    finally:
        server.stop()
