"""sync/http.py: the client every adapter gets, with the rate budget and call metrics under it."""

from __future__ import annotations

import itertools

import httpx
import pytest

from channelsync.sync.http import DEFAULT_TIMEOUT, BudgetedTransport, make_client
from channelsync.telemetry.metrics import REGISTRY

_names = itertools.count()


@pytest.fixture
def channel() -> str:
    """A channel name of its own, so the process-wide counters start from nothing for this test."""
    return f"http-test-{next(_names)}"


def calls(channel: str) -> float:
    return REGISTRY.get_sample_value("channelsync_api_calls_total", {"channel": channel}) or 0.0


def errors(channel: str, status: str) -> float:
    return REGISTRY.get_sample_value("channelsync_api_errors_total", {"channel": channel, "status": status}) or 0.0


class CountingBucket:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.acquired = 0

    def acquire(self) -> float:
        self.acquired += 1
        self.log.append("acquire")
        return 0.0


def answering(status: int = 200, log: list[str] | None = None, seen: list[httpx.Request] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if log is not None:
            log.append("request")
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json={"status": status})

    return httpx.MockTransport(handler)


# --- make_client ----------------------------------------------------------------------------------

def test_make_client_sets_base_url_user_agent_and_timeout(channel):
    seen: list[httpx.Request] = []
    client = make_client(channel, "http://platform.test/router/", transport=answering(seen=seen))
    assert client.base_url == httpx.URL("http://platform.test/router/")
    assert client.timeout == DEFAULT_TIMEOUT
    assert client.get("items", params={"page": 2}).json() == {"status": 200}
    assert str(seen[0].url) == "http://platform.test/router/items?page=2"
    assert seen[0].headers["User-Agent"].startswith("channelsync/")
    client.close()


def test_default_timeout_is_bounded():
    assert DEFAULT_TIMEOUT.connect == 5.0 and DEFAULT_TIMEOUT.read == 15.0


def test_make_client_takes_a_timeout(channel):
    client = make_client(channel, "http://platform.test", transport=answering(), timeout=3.0)
    assert client.timeout == httpx.Timeout(3.0)
    client.close()


def test_make_client_puts_the_budget_under_every_request(channel):
    bucket = CountingBucket([])
    client = make_client(channel, "http://platform.test", bucket=bucket, transport=answering())
    assert isinstance(client._transport, BudgetedTransport)
    assert client._transport.channel == channel
    client.get("/a")
    client.post("/b", json={})
    assert bucket.acquired == 2
    client.close()


# --- BudgetedTransport ----------------------------------------------------------------------------

def test_a_token_is_taken_before_each_request(channel):
    log: list[str] = []
    bucket = CountingBucket(log)
    client = httpx.Client(base_url="http://platform.test",
                          transport=BudgetedTransport(answering(log=log), bucket, channel))
    for _ in range(3):
        client.get("/x")
    assert bucket.acquired == 3
    assert log == ["acquire", "request"] * 3
    client.close()


def test_no_bucket_means_no_wait(channel):
    client = httpx.Client(base_url="http://platform.test", transport=BudgetedTransport(answering(), None, channel))
    assert client.get("/x").status_code == 200
    assert calls(channel) == 1
    client.close()


def test_calls_are_counted_per_channel(channel):
    other = channel + "-other"
    client = make_client(channel, "http://platform.test", transport=answering())
    client.get("/x")
    client.get("/y")
    assert calls(channel) == 2
    assert calls(other) == 0
    assert errors(channel, "200") == 0  # a success is not an error
    client.close()


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
def test_error_statuses_are_counted_and_returned(channel, status):
    client = make_client(channel, "http://platform.test", transport=answering(status))
    response = client.get("/x")
    assert response.status_code == status  # the transport counts, it does not judge
    assert calls(channel) == 1
    assert errors(channel, str(status)) == 1
    assert errors(channel, "transport") == 0
    client.close()


def test_a_3xx_is_not_an_error(channel):
    client = make_client(channel, "http://platform.test", transport=answering(304))
    client.get("/x")
    assert errors(channel, "304") == 0
    client.close()


@pytest.mark.parametrize("error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_transport_errors_are_counted_and_reraised(channel, error):
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client = make_client(channel, "http://platform.test", transport=httpx.MockTransport(handler))
    with pytest.raises(type(error)):
        client.get("/x")
    assert calls(channel) == 1
    assert errors(channel, "transport") == 1
    client.close()


def test_closing_the_client_closes_the_inner_transport(channel):
    class Inner(httpx.BaseTransport):
        closed = False

        def handle_request(self, request):  # pragma: no cover - never called
            raise AssertionError

        def close(self) -> None:
            self.closed = True

    inner = Inner()
    make_client(channel, "http://platform.test", transport=inner).close()
    assert inner.closed
