"""daemon/health.py: /healthz from a callback, /metrics from the registry, on a server of its own."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from channelsync.daemon.health import HealthServer


@pytest.fixture(scope="module")
def _shared():
    """One server for the module (stopping one takes a poll interval); each test sets its callback."""
    holder = {"health": lambda: {"status": "ok"}}
    server = HealthServer(lambda: holder["health"](), host="127.0.0.1", port=0).start()
    yield server, holder
    server.stop()


@pytest.fixture
def serve(_shared):
    server, holder = _shared

    def start(health) -> HealthServer:
        holder["health"] = health
        return server

    yield start
    holder["health"] = lambda: {"status": "ok"}


def test_base_url_is_the_bound_port(serve):
    server = serve(lambda: {"status": "ok"})
    host, port = server.httpd.server_address[:2]
    assert host == "127.0.0.1" and port > 0
    assert server.base_url == f"http://127.0.0.1:{port}"


def test_healthz_ok_is_200_with_the_callbacks_body(serve):
    body = {"status": "ok", "channels": {"a": {"health": "ok"}}}
    server = serve(lambda: body)
    response = httpx.get(server.base_url + "/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


@pytest.mark.parametrize("status", ["degraded", "failing", "OK", None])
def test_healthz_anything_but_ok_is_503_with_the_callbacks_body(serve, status):
    body = {"status": status, "channels": {"a": {"health": "failing", "last_error": "boom"}}}
    server = serve(lambda: body)
    response = httpx.get(server.base_url + "/healthz")
    assert response.status_code == 503
    assert response.json() == body


def test_healthz_without_a_status_is_503(serve):
    server = serve(lambda: {"channels": {}})
    assert httpx.get(server.base_url + "/healthz").status_code == 503


def test_healthz_asks_the_callback_every_time(serve):
    answers = iter([{"status": "ok"}, {"status": "degraded"}])
    server = serve(lambda: next(answers))
    assert httpx.get(server.base_url + "/healthz").status_code == 200
    assert httpx.get(server.base_url + "/healthz").status_code == 503


def test_healthz_ignores_a_query_and_writes_times_as_text(serve):
    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    server = serve(lambda: {"status": "ok", "heartbeat_at": at})
    response = httpx.get(server.base_url + "/healthz?verbose=1")
    assert response.status_code == 200
    assert response.json()["heartbeat_at"] == str(at)


def test_metrics_is_prometheus_text(serve):
    server = serve(lambda: {"status": "ok"})
    response = httpx.get(server.base_url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE channelsync_api_calls_total counter" in response.text
    assert "channelsync_queue_depth" in response.text


@pytest.mark.parametrize("path", ["/", "/health", "/healthz/x", "/metricsx"])
def test_other_paths_are_404(serve, path):
    server = serve(lambda: {"status": "ok"})
    response = httpx.get(server.base_url + path)
    assert response.status_code == 404
    assert "/healthz" in response.text


def test_stop_frees_the_port():
    server = HealthServer(lambda: {"status": "ok"}, host="127.0.0.1", port=0).start()
    port = server.httpd.server_address[1]
    assert httpx.get(server.base_url + "/healthz").status_code == 200
    server.stop()
    server.thread.join(1)
    assert not server.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    # nobody listens there any more: a new listener may take the port
    # (SO_REUSEADDR only steps over connections in TIME_WAIT, never over a listener)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
