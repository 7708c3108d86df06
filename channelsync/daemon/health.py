"""/healthz and /metrics for the running daemon, on a small server of its own (127.0.0.1 by default).

The server knows nothing of the daemon: it is given a callback that returns the
health document, and answers 200 when its ``status`` is "ok", 503 otherwise.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from channelsync.telemetry import metrics


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.REGISTRY))
        elif path == "/healthz":
            body = self.server.health()
            code = 200 if body.get("status") == "ok" else 503
            self._send(code, "application/json", json.dumps(body, default=str).encode())
        else:
            self._send(404, "text/plain", b"not found: try /healthz or /metrics\n")

    def _send(self, code: int, content_type: str, payload: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - scrapes every few seconds are not news
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], health: Callable[[], dict]) -> None:
        super().__init__(address, _Handler)
        self.health = health


class HealthServer:
    """Serves ``health()`` on /healthz and the metrics registry on /metrics, in a thread."""

    def __init__(self, health: Callable[[], dict], host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = _Server((host, port), health)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="health-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "HealthServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
