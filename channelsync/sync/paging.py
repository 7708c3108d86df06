"""Paging and window splitting: the core loops, the adapter fetches one page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterator, TypeVar

from channelsync.config.settings import ChannelConfig
from channelsync.sdk.channel import Capabilities
from channelsync.sdk.errors import Rejected
from channelsync.sdk.models import Page

T = TypeVar("T")

MAX_PAGES = 100_000


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


def items(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    for page in pages(fetch):
        yield from page.items


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
