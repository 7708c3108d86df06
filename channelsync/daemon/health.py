"""/healthz and /metrics for the running daemon, on a small server of its own (127.0.0.1 by default).

The server knows nothing of the daemon: it is given a callback that returns the
health document, and answers 200 when its ``status`` is "ok", 503 otherwise.
``health_document`` builds that document from the channels' status rows under
the ``daemon.unhealthy_when`` policy.
"""

from __future__ import annotations

import errno
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from channelsync.sdk.errors import UserError
from channelsync.telemetry import metrics

POLICIES = ("any_failing", "any_degraded", "all_failing")


def health_document(rows: list[dict], alive: dict[str, bool], *, policy: str = "any_failing",
                    stopping: bool = False, run_id: str = "") -> dict:
    """``status`` "ok" or "failing", and per enabled channel its health, why, poll and push.

    Always failing: the daemon is stopping, or a channel's worker is not running. Then by
    ``policy``: "any_failing" (a channel failing), "any_degraded" (also pushes retried or
    parked), "all_failing" (every channel failing)."""
    channels, reasons = {}, []
    for r in rows:
        if not r["enabled"]:
            continue
        name, worker = r["channel"], alive.get(r["channel"], False)
        channels[name] = {"health": r["health"] if worker else "failing", "reason": r["last_error"],
                          "worker_alive": worker, "poll": r["poll"], "push": r["push"], "queue": r["queue"]}
        if not worker:
            channels[name]["reason"] = "worker not running"
    words = [c["health"] for c in channels.values()]
    bad = {"any_failing": lambda: "failing" in words,
           "any_degraded": lambda: any(w in ("failing", "degraded") for w in words),
           "all_failing": lambda: bool(words) and all(w == "failing" for w in words)}[policy]()
    for name, c in channels.items():
        if c["health"] in (("failing", "degraded") if policy == "any_degraded" else ("failing",)) or not c["worker_alive"]:
            reasons.append(f"{name}: {c['health']}: {c['reason'] or 'no detail'}")
    if stopping:
        reasons.insert(0, "the daemon is stopping")
    failing = stopping or not channels or not all(alive.values()) or bad
    return {"status": "failing" if failing else "ok", "policy": policy, "run_id": run_id,
            "reasons": reasons if failing else [], "channels": channels}


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
        try:
            self.httpd = _Server((host, port), health)
        except OSError as exc:
            why = {errno.EADDRINUSE: "is already in use (another channelsync daemon, or another program?)",
                   errno.EACCES: "needs privileges this user does not have (use a port above 1023)",
                   errno.EADDRNOTAVAIL: "is not an address of this machine"}.get(exc.errno, f"cannot be used: {exc}")
            raise UserError(f"daemon.http_port / daemon.http_host: {host}:{port} {why}; choose another "
                            "daemon.http_port, or 0 to turn /healthz and /metrics off") from None
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
