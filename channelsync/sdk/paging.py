"""Paginators a channel declares, and detail fan-out the core runs call by call.

A plugin never loops over pages or parses page tokens. It declares how its
platform pages (one of the paginators below) and writes one method that fetches
the page an ``At`` describes and answers a ``Reply``::

    class Shop(Channel):
        listing_pages = PageNumber()

        def listing_page(self, at: At) -> Reply[Listing]:
            body = self.client.get("/skus", page=at.page, per_page=at.size)
            return Reply([to_listing(s) for s in body["skus"]], total=body["total"])

The core turns the paginator's position into the opaque page token it keeps,
follows it page after page, and stops on a token seen twice (a platform loop).

Paginators (pick the one the platform's API speaks):

* ``NextToken()`` — the platform hands out the next page's token or key
  (``Reply.next_token``); ``at.token`` is the one to send (None: first page).
* ``PageNumber(first=1)`` — ``at.page`` from ``first`` on; stops after the
  last page by ``Reply.total_pages`` or ``Reply.total`` items, or, when the
  platform says neither, after a short page.
* ``Offset()`` — ``at.offset`` from 0, advanced by the records a page held.
* ``Keyset(key)`` — oldest first by a key (a modified time, an id): ``at.key``
  is the largest key seen so far (None: the window's start), so a record that
  changes while we page cannot shift an unseen one onto a page already read.
  When a whole page shares one key, ``at.page`` counts pages within that key.
* ``NewestFirst(key)`` — the platform sorts newest first: ``at.key`` is the
  smallest key seen so far, to send as the upper bound (None: the window's end).
* ``Phases(values, inner)`` — the same listing read in several passes (on sale,
  then off the shelf): ``at.phase`` is the current value, ``inner`` pages each.

Fan-out: where a list call returns ids and each record needs its own detail
call, put ``Detail`` objects in ``Reply.items`` instead of models. The core
makes each detail call on its own, under the channel's rate budget, with its
own retries (a failure on call 29 re-sends call 29, not the 28 before it);
skips a detail whose ``modified_at`` equals what it has stored (the poll
overlap then costs list calls, not a call per order); skips one the platform
says is gone (``NotFound`` between the list and the read); and reads each
key once per page. A detail may itself be paged (``pages`` + ``paginator``)
or answer further ``Detail`` objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Generic, Sequence, TypeVar

from channelsync.sdk.errors import Rejected

T = TypeVar("T")


@dataclass(frozen=True)
class At:
    """The page to fetch, as the paginator places it. Read the fields your paginator names."""

    size: int = 50
    token: str | None = None
    page: int = 1
    offset: int = 0
    key: Any = None
    phase: Any = None


@dataclass(frozen=True)
class Reply(Generic[T]):
    """One page as the platform answered it.

    ``items``: models, or ``Detail`` objects for the core to fetch. ``count``:
    the records the platform returned when that differs from ``len(items)``
    (a product page that became one listing per variation, records skipped);
    paginators judge "a full page" by it. ``next_token``, ``has_more``,
    ``total`` and ``total_pages``: what the platform said, where it says it.
    ``last_key``: for ``Keyset`` / ``NewestFirst`` when their ``key`` cannot
    be read off the items (e.g. items that are ``Detail`` objects).
    """

    items: Sequence[Any]
    next_token: str | None = None
    has_more: bool | None = None
    total: int | None = None
    total_pages: int | None = None
    count: int | None = None
    last_key: Any = None

    @property
    def records(self) -> int:
        return len(self.items) if self.count is None else self.count


@dataclass(frozen=True)
class Detail(Generic[T]):
    """A record the core fetches with its own call (fan-out).

    ``key``: the record's id (read once per page). ``fetch()``: one call,
    answering a model, a list of models, another ``Detail``, or None (nothing).
    Or, for a paged child: ``pages(at) -> Reply`` with its ``paginator``.
    ``modified_at``: the record's modified time as the list call reported it;
    when the core has it stored with exactly this time the call is skipped.
    """

    key: str
    fetch: Callable[[], Any] | None = None
    modified_at: datetime | None = None
    pages: Callable[[At], Reply[T]] | None = None
    paginator: "Paginator | None" = None


class Paginator:
    """How a platform pages: where the first page is and, from a reply, where the next is."""

    def first(self, size: int) -> At:
        return At(size=size)

    def next(self, at: At, reply: Reply) -> At | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def short(self, at: At, reply: Reply) -> bool:
        """A page with fewer records than asked for is the last one."""
        return reply.records < at.size or reply.records == 0


@dataclass(frozen=True)
class NextToken(Paginator):
    """The platform's own next-page token (or key); None or "" ends, as do an empty page,
    ``has_more=False`` and, where the platform gives a ``total``, having read that many."""

    def next(self, at: At, reply: Reply) -> At | None:
        read = at.offset + reply.records
        if not reply.next_token or reply.has_more is False or reply.records == 0:
            return None
        if reply.total is not None and read >= reply.total:
            return None
        return replace(at, token=str(reply.next_token), offset=read)


@dataclass(frozen=True)
class PageNumber(Paginator):
    """Numbered pages from ``first``; the last by total pages, total items or a short page."""

    first_page: int = 1

    def first(self, size: int) -> At:
        return At(size=size, page=self.first_page)

    def next(self, at: At, reply: Reply) -> At | None:
        if reply.records == 0 or reply.has_more is False:
            return None
        number = at.page - self.first_page + 1  # pages read so far
        if reply.total_pages is not None:
            more = number < reply.total_pages
        elif reply.total is not None:
            more = number * at.size < reply.total
        elif reply.has_more is not None:
            more = reply.has_more
        else:
            more = not self.short(at, reply)
        return replace(at, page=at.page + 1) if more else None


@dataclass(frozen=True)
class Offset(Paginator):
    """A record offset from 0, moved on by the records each page held."""

    def next(self, at: At, reply: Reply) -> At | None:
        offset = at.offset + reply.records
        if reply.records == 0 or reply.has_more is False:
            return None
        more = offset < reply.total if reply.total is not None else not self.short(at, reply)
        return replace(at, offset=offset) if more else None


@dataclass(frozen=True)
class Keyset(Paginator):
    """Oldest first by ``key(item)``; the next page starts at the largest key seen."""

    key: Callable[[Any], Any] | None = None
    descending: bool = False

    def next(self, at: At, reply: Reply) -> At | None:
        if self.short(at, reply) and reply.has_more is not True:
            return None
        if reply.total_pages is not None and at.page >= reply.total_pages:
            return None  # the last page of the query from this key holds everything left
        edge = reply.last_key
        if edge is None:
            keys = [self.key(i) for i in reply.items if not isinstance(i, Detail)] if self.key else []
            if not keys:
                raise Rejected("keyset paging: a full page without keys (set Reply.last_key)", code="page-key")
            edge = min(keys) if self.descending else max(keys)
        moved = at.key is None or (edge < at.key if self.descending else edge > at.key)
        return replace(at, key=edge, page=1) if moved else replace(at, page=at.page + 1)


def NewestFirst(key: Callable[[Any], Any] | None = None) -> Keyset:  # noqa: N802 - reads as a class
    """Newest first: ``at.key`` is the smallest key seen, the next page's upper bound."""
    return Keyset(key, descending=True)


@dataclass(frozen=True)
class Phases(Paginator):
    """Several passes over one listing (e.g. on sale, then delisted), each paged by ``inner``."""

    values: tuple = ()
    inner: Paginator = field(default_factory=NextToken)

    def first(self, size: int) -> At:
        return replace(self.inner.first(size), phase=self.values[0])

    def next(self, at: At, reply: Reply) -> At | None:
        following = self.inner.next(at, reply)
        if following is not None:
            return following
        index = self.values.index(at.phase) + 1
        return replace(self.inner.first(at.size), phase=self.values[index]) if index < len(self.values) else None


# --- page tokens: the core keeps a string; a paginator's position round-trips through it --------------------------

_FIELDS = ("token", "page", "offset", "key", "phase")


def encode(at: At, paginator: Paginator, size: int) -> str:
    """The opaque token for ``at`` (only what differs from the first page)."""
    start = paginator.first(size)
    return json.dumps({f: _dump(getattr(at, f)) for f in _FIELDS if getattr(at, f) != getattr(start, f)},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode(token: str | None, paginator: Paginator, size: int) -> At:
    """The position a token names; None is the first page. A token not made here is refused."""
    start = paginator.first(size)
    if token is None:
        return start
    try:
        fields = json.loads(token)
        if not isinstance(fields, dict) or set(fields) - set(_FIELDS):
            raise ValueError
        return replace(start, **{f: _load(v) for f, v in fields.items()})
    except (ValueError, TypeError):
        raise Rejected(f"not a page token of this channel: {token!r}", code="page-token") from None


def _dump(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    return value
