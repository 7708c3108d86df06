"""Serve a WSGI app (a simulator) over real HTTP on 127.0.0.1, in a thread.

Faults that lose the answer really lose it here: a ``DropConnection`` raised
by the app closes the connection with nothing written (``reset``: with a TCP
RST), so clients meet genuine read timeouts and resets, not an HTTP 500.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Iterator
from wsgiref.simple_server import (
    ServerHandler,
    WSGIRequestHandler,
    WSGIServer,
    make_server,
)

from channelsync.sim.faults import DROP_KEY, DropConnection


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.to_reset: set[socket.socket] = set()

    def shutdown_request(self, request) -> None:
        if request in self.to_reset:
            self.to_reset.discard(request)
            # SO_LINGER 0 turns close() into an RST; skip the polite FIN of shutdown(SHUT_WR)
            with contextlib.suppress(OSError):
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_request(request)
            return
        super().shutdown_request(request)


class _Answer(ServerHandler):
    def handle_error(self) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, DropConnection):  # on purpose: write nothing, close the connection
            self.request_handler.close_connection = True
            if error.reset:
                self.request_handler.server.to_reset.add(self.request_handler.connection)
            return
        super().handle_error()  # a simulator bug: the 500 and its traceback stay visible


class _Handler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def get_environ(self) -> dict:
        environ = super().get_environ()
        environ[DROP_KEY] = True
        return environ

    def handle(self) -> None:
        """The stdlib's ``handle`` with ``_Answer`` as the handler (so drops stay silent)."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _Answer(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=False)
        handler.request_handler = self
        handler.run(self.server.get_app())


class SimServer:
    """A running HTTP server for one WSGI app; ``base_url`` names it."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.httpd = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "SimServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        closing = getattr(self.app, "closing", None)
        if closing is not None:  # held connections let go at once
            closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def serve(app, host: str = "127.0.0.1", port: int = 0) -> Iterator[SimServer]:
    server = SimServer(app, host, port).start()
    try:
        yield server
    finally:
        server.stop()
