"""httpx clients for channels: the rate budget and call metrics sit under every request."""

from __future__ import annotations

import httpx
import structlog

from channelsync.sync.ratelimit import TokenBucket
from channelsync.sync.stopping import NEVER, Stop
from channelsync.telemetry import metrics

log = structlog.get_logger("channelsync.sync.http")
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class BudgetedTransport(httpx.BaseTransport):
    """Waits for the channel's token bucket before each request and counts it."""

    def __init__(self, inner: httpx.BaseTransport, bucket: TokenBucket | None, channel: str,
                 stop: Stop = NEVER) -> None:
        self.inner = inner
        self.bucket = bucket
        self.channel = channel
        self.stop = stop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.stop.check()  # stopping: no new call goes out
        if self.bucket is not None:
            self.bucket.acquire()
            self.stop.check()
        metrics.API_CALLS.labels(self.channel).inc()
        # the path only: query strings and bodies carry signatures and tokens
        log.debug("api_call", channel=self.channel, method=request.method, path=request.url.path)
        try:
            response = self.inner.handle_request(request)
        except Exception:
            metrics.API_ERRORS.labels(self.channel, "transport").inc()
            raise
        log.debug("api_response", channel=self.channel, path=request.url.path, status=response.status_code)
        if response.status_code >= 400:
            metrics.API_ERRORS.labels(self.channel, str(response.status_code)).inc()
        return response

    def close(self) -> None:
        self.inner.close()


def make_client(channel: str, base_url: str, *, bucket: TokenBucket | None = None,
                transport: httpx.BaseTransport | None = None,
                timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, stop: Stop = NEVER) -> httpx.Client:
    """The client a channel adapter gets as ``self.http``.

    ``transport`` lets tests serve a simulator in-process (``httpx.WSGITransport``).
    """
    inner = transport if transport is not None else httpx.HTTPTransport()
    return httpx.Client(
        base_url=base_url,
        transport=BudgetedTransport(inner, bucket, channel, stop),
        timeout=timeout,
        headers={"User-Agent": "channelsync/0.1"},
    )
