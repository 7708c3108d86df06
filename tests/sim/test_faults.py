"""Simulator faults over real HTTP: each is what a client really meets on the wire.

Every built-in simulator is served on 127.0.0.1 and driven through its own
channel adapter, so the adapters' handling of real timeouts, resets, cut-off
bodies, the platforms' own rate-limit answers and deleted listings is what
is checked, not a stand-in exception.
"""

import socket
import threading
import time

import httpx
import pytest

from channelsync.sdk.errors import (
    AuthExpired,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
)
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.sim.server import serve
from channelsync.sync import paging
from channelsync.sync.http import make_client

TYPES = channel_types(make_manager())


@pytest.fixture(params=tuple(sandbox.DEFAULT_PORTS))
def served(request):
    sim = TYPES[request.param].simulator()
    sim.seed("F-1", 5, 1000)
    sim.seed("F-2", 6, 1000)
    with serve(sim) as server:
        creds = sim.credentials(server.base_url)
        client = make_client(request.param, creds["base_url"], timeout=httpx.Timeout(1.0, connect=1.0))
        adapter = TYPES[request.param](request.param, creds, client)
        try:
            yield request.param, sim, adapter, server
        finally:
            adapter.close()


def listings(adapter) -> dict:
    return {ls.sku_code: ls.quantity for ls in paging.items(adapter.list_listings)}


def test_a_timeout_holds_the_connection_past_the_clients_timeout(served):
    _, sim, adapter, _ = served
    sim.inject("timeout", seconds=20)  # far past the client's 1 s: a loaded machine cannot blur the two
    started = time.monotonic()
    with pytest.raises(Transient) as caught:
        adapter.list_listings(None)
    assert "timeout" in str(caught.value).lower(), "the client's own read timeout fired"
    assert time.monotonic() - started < 15, "the client gave up at its timeout, not when the server let go"
    assert listings(adapter)["F-1"] == 5, "the next call is served"


@pytest.mark.parametrize("kind", ["reset", "truncated", "malformed", "error_5xx"])
def test_lost_and_broken_answers_are_transient(served, kind):
    _, sim, adapter, _ = served
    sim.inject(kind)
    with pytest.raises(Transient) as caught:
        adapter.list_listings(None)
    assert not isinstance(caught.value, RateLimited)
    assert listings(adapter)["F-2"] == 6


def test_the_platforms_own_rate_limit_answer(served):
    plugin, sim, adapter, _ = served
    sim.inject("rate_limit", seconds=3)
    with pytest.raises(RateLimited) as caught:
        adapter.list_listings(None)
    if plugin in ("taobao", "ownsite"):  # these two say how long the ban lasts
        assert caught.value.retry_after == pytest.approx(3, abs=0.5)
    assert listings(adapter)


def test_token_expiry_is_renewed(served):
    _, sim, adapter, _ = served
    sim.inject("auth_expired")
    with pytest.raises(AuthExpired):
        adapter.list_listings(None)
    adapter.refresh_auth()
    assert listings(adapter)["F-1"] == 5


def test_an_answer_lost_after_the_write_was_applied(served):
    """``applied``: the platform did the write, the client never hears it — the ambiguous case."""
    plugin, sim, adapter, _ = served
    listing = next(ls for ls in paging.items(adapter.list_listings) if ls.sku_code == "F-1")
    from channelsync.sdk.models import StockUpdate

    update = StockUpdate("F-1", listing.external_id, listing.item_id, 9, 4, 5, "k" * 20)
    write = {"taobao": "quantity.update", "jd": "updateSkuStock", "wechat": "stock/update", "ownsite": "batch",
             "pdd": "pdd.goods.quantity.update"}
    sim.inject("reset", applied=True, match=write[plugin])
    try:
        error = adapter.set_stock([update])[0].error  # adapters that answer per record
    except Transient as exc:
        error = exc
    assert isinstance(error, Transient) and error.maybe_applied, error
    assert sim.stock("F-1") == 9, "the write reached the platform although its answer was lost"


def test_a_listing_deleted_on_the_platform(served):
    _, _, adapter, server = served
    from channelsync.sdk.models import StockUpdate

    listing = next(ls for ls in paging.items(adapter.list_listings) if ls.sku_code == "F-2")
    made = httpx.delete(f"{server.base_url}/_sim/skus/F-2")
    assert made.status_code == 200
    assert "F-2" not in listings(adapter)
    update = StockUpdate("F-2", listing.external_id, listing.item_id, 1, -5, 6, "d" * 20)
    try:
        results = adapter.set_stock([update])
    except (NotFound, Rejected) as exc:  # platforms that fail the whole call
        error = exc
    else:
        error = results[0].error
    assert isinstance(error, (NotFound, Rejected)) and not error.retryable, error
    assert str(error), "the platform's own words are kept for the parked row"


def test_a_match_limits_the_fault_to_some_calls(served):
    _, sim, adapter, _ = served
    sim.inject("error_5xx", count=5, match="no-such-api")
    assert listings(adapter)["F-1"] == 5
    assert sim.faults and sim.faults[0]["count"] == 5, "unmatched calls leave the fault queued"


@pytest.mark.parametrize("plugin", tuple(sandbox.DEFAULT_PORTS))
def test_an_absolute_form_request_target_is_served(plugin):
    """``POST http://host:port/path?...`` (RFC 9112 absolute-form), as some SDKs send it."""
    sim = TYPES[plugin].simulator()
    with serve(sim) as server:
        host, port = server.httpd.server_address[:2]
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.sendall(f"GET http://{host}:{port}/_sim/state HTTP/1.1\r\nHost: {host}:{port}\r\n"
                         "Connection: close\r\n\r\n".encode())
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.0 200"), answer[:200]
        assert b'"skus"' in answer
        # and the platform's own paths: the same answer as the origin-form request gets
        path = {"taobao": "/router/rest", "jd": "/routerjson", "wechat": "/channels/ec/product/list/get",
                "ownsite": "/wp-json/wc/v3/products", "pdd": "/api/router"}[plugin]
        origin = httpx.post(f"{server.base_url}{path}?x=1")
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.sendall(f"POST http://{host}:{port}{path}?x=1 HTTP/1.1\r\nHost: {host}:{port}\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert b"no such path" not in answer
        assert answer.split(b"\r\n", 1)[0].split(b" ")[1] == str(origin.status_code).encode()


def test_stopping_the_server_lets_a_held_connection_go():
    sim = TYPES["jd"].simulator()
    server = serve(sim)
    running = server.__enter__()
    sim.inject("timeout", seconds=60)
    outcome = {}

    def call():
        try:
            httpx.post(f"{running.base_url}/routerjson", timeout=30)
        except httpx.TransportError as exc:
            outcome["error"] = exc

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while sim.faults and time.monotonic() < deadline:  # the call reached the server and is held
        time.sleep(0.05)
    time.sleep(0.3)
    server.__exit__(None, None, None)
    caller.join(timeout=10)
    assert not caller.is_alive() and "error" in outcome, "the held call ended when the server stopped"
