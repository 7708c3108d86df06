"""Paging, detail fan-out and window splitting: the core loops, the adapter fetches one page.

``pages`` follows a channel's page tokens; ``resolve`` turns the ``Detail``
objects a page may hold (``channelsync.sdk.paging``) into models, one call
each through ``call`` — in the daemon ``Lane.call``, so every detail call
waits for the rate budget and is retried on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, TypeVar

import structlog

from channelsync.config.settings import ChannelConfig
from channelsync.sdk.channel import Capabilities
from channelsync.sdk.errors import NotFound, Rejected
from channelsync.sdk.models import Page
from channelsync.sdk.paging import At, Detail

T = TypeVar("T")

MAX_PAGES = 100_000

log = structlog.get_logger("channelsync.sync.paging")

#: runs one platform call (``Lane.call``: budget and retries); the default calls it plainly
Call = Callable[[Callable[[], Any]], Any]
#: the stored modified time of a record by key (skip a detail whose list entry says the same)
Stored = Callable[[str], datetime | None]


def _plain(fn: Callable[[], Any]) -> Any:
    return fn()


def pages(fetch: Callable[[str | None], Page[T]], start: str | None = None) -> Iterator[Page[T]]:
    """Follow ``next_token`` (from ``start``, to resume) until None; a token seen twice is a
    platform loop, not more data."""
    token: str | None = start
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = fetch(token)
        yield page
        token = page.next_token
        if token is None:
            return
        if token in seen:
            raise Rejected(f"paging loop: the platform returned page token {token!r} twice", code="paging-loop")
        seen.add(token)
    raise Rejected(f"more than {MAX_PAGES} pages", code="paging-limit")


def items(fetch: Callable[[str | None], Page[T]], call: Call = _plain, stored: Stored | None = None,
          size: int = 50) -> Iterator[T]:
    """Every item of every page, details fetched (see ``resolve``)."""
    for page in pages(fetch):
        yield from resolve(page.items, call, stored, size)


class FanOut:
    """Counts of one resolution, for the canonical log line and tests."""

    def __init__(self) -> None:
        self.fetched = 0
        self.skipped_unchanged = 0
        self.gone = 0


def resolve(found: Any, call: Call = _plain, stored: Stored | None = None, size: int = 50,
            stats: FanOut | None = None) -> list:
    """Models for a page's items: ``Detail`` objects fetched call by call, each key once.

    A detail whose ``modified_at`` equals ``stored(key)`` is not fetched (the core
    already has that version); one the platform no longer has (``NotFound``) is
    skipped. Any other failure propagates after ``call``'s own retries.
    """
    stats = stats or FanOut()
    out: list = []
    seen: set[str] = set()
    queue = list(found) if isinstance(found, (list, tuple)) else [found]
    while queue:
        item = queue.pop(0)
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            queue[0:0] = list(item)
            continue
        if not isinstance(item, Detail):
            out.append(item)
            continue
        if item.key in seen:
            continue
        seen.add(item.key)
        if stored is not None and item.modified_at is not None and stored(item.key) == item.modified_at:
            stats.skipped_unchanged += 1
            continue
        try:
            answer = _child_pages(item, call, size) if item.pages is not None else call(item.fetch)
        except NotFound as exc:
            stats.gone += 1
            log.info("detail_gone", key=item.key, error=str(exc))
            continue
        stats.fetched += 1
        queue[0:0] = list(answer) if isinstance(answer, (list, tuple)) else [answer]
    return out


def _child_pages(detail: Detail, call: Call, size: int) -> list:
    """Every page of a paged detail (a product's variations), each page one call."""
    paginator = detail.paginator
    if paginator is None:
        raise Rejected(f"detail {detail.key}: pages without a paginator", code="page-token")
    at: At | None = paginator.first(size)
    seen: set[At] = set()
    found: list = []
    while at is not None:
        if at in seen:
            raise Rejected(f"paging loop in the details of {detail.key}", code="paging-loop")
        seen.add(at)
        reply = call(lambda at=at: detail.pages(at))
        found.extend(reply.items)
        at = paginator.next(at, reply)
    return found


def order_windows(capabilities: Capabilities, cfg: ChannelConfig) -> tuple[timedelta, timedelta]:
    """The longest order window and the longest refund window for a channel: the
    platform's limits, shortened (never lengthened) by the channel's config."""
    longest = capabilities.max_order_window
    if cfg.order_window:
        longest = min(longest, timedelta(seconds=cfg.order_window))
    refunds = capabilities.max_refund_window or longest
    if cfg.refund_window:
        refunds = min(refunds, timedelta(seconds=cfg.refund_window))
    return longest, min(refunds, longest)


def windows(since: datetime, until: datetime, longest: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Split ``[since, until)`` into consecutive windows no longer than ``longest``."""
    start = since
    while start < until:
        end = min(until, start + longest)
        yield start, end
        start = end
