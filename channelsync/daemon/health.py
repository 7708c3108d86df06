"""/healthz and /metrics for the running daemon (127.0.0.1 by default)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from prometheus_client import make_wsgi_app

from channelsync.telemetry import metrics
from channelsync.sim.server import SimServer

if TYPE_CHECKING:
    from channelsync.daemon import Daemon


def start_health_server(daemon: "Daemon", host: str, port: int) -> SimServer:
    metrics_app = make_wsgi_app(metrics.REGISTRY)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return metrics_app(environ, start_response)
        if path == "/healthz":
            body = daemon.health()
            code = "200 OK" if body["status"] == "ok" else "503 Service Unavailable"
            payload = json.dumps(body, default=str).encode()
            start_response(code, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /healthz or /metrics\n"]

    return SimServer(app, host, port).start()
