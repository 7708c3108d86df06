"""A lane: one configured channel's working context, the only thing sync modules receive.

It holds what every piece of one channel's work needs — its name and config,
a store connection, the adapter, the rate budget and the hooks — and nothing
else, so the runner, pushes, reconciliation, shipping and the daemon's
handoff depend on a small, named shape instead of on each other.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, Iterator, TypeVar

import httpx
import pluggy

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import channels, stock_policy
from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import ChannelError, UserError
from channelsync.sdk.models import Page
from channelsync.store import Store, utcnow
from channelsync.sync import credentials, paging, retry
from channelsync.sync.http import make_client
from channelsync.sync.ratelimit import TokenBucket
from channelsync.sync.stopping import NEVER, Stop
from channelsync.telemetry import metrics

T = TypeVar("T")


def _nothing() -> None:
    pass


@dataclass
class Answering:
    """Whether the channel's order API and push API last answered, shared by every thread
    on the lane (a ``replace`` copy keeps the same object): the poll that finds the channel
    answering again must know that the push thread saw it down, to bring its backed-off
    pushes forward. A new lane (a restart) starts "recovering", so rows left in back-off
    by the last run go out at the first good poll."""

    poll_down: bool = True
    push_down: bool = False


class Flights:
    """The channel's stock calls on the wire, per SKU, shared by every thread on the lane.

    A read of the platform is judged against ``expected``; a push that lands between the
    read and its record would be taken for drift and repaired twice. Instead of holding the
    lane's lock across the read's network call (pushes would wait behind it), a read notes
    the SKUs' versions before it goes out and records only those no push touched meanwhile:
    none started, none on the wire, none settled (``moved``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: dict[str, int] = {}
        self._flying: dict[str, int] = {}
        self._quiet: threading.Condition | None = None  # on the lane's ``serial`` (``bind``)

    def bind(self, serial) -> None:
        """Waits for calls to land are made holding the lane's lock (which they release while
        waiting: the call's settle takes it)."""
        with self._lock:
            if self._quiet is None:
                self._quiet = threading.Condition(serial)

    def count(self) -> int:
        """SKUs on the wire."""
        with self._lock:
            return len(self._flying)

    def busy(self, skus=None) -> bool:
        """A call carrying any of ``skus`` (None: any call at all) is on the wire."""
        with self._lock:
            return bool(self._flying) if skus is None else any(s in self._flying for s in skus)

    def wait_clear(self, stop, skus=None) -> None:
        """Holding the lane's lock, wait until no call carrying ``skus`` (None: none at all) is
        on the wire or unsettled. ``Interrupted`` when the daemon stops meanwhile. Never call it
        inside a store transaction: the call's settle needs the write lock."""
        if self._quiet is None:
            return
        with self._quiet:
            while self.busy(skus):
                stop.check()
                self._quiet.wait(0.5)

    def start(self, skus) -> None:
        """Calls carrying ``skus`` are about to go out (their rows are prepared)."""
        with self._lock:
            for sku in skus:
                self._version[sku] = self._version.get(sku, 0) + 1
                self._flying[sku] = self._flying.get(sku, 0) + 1

    def end(self, skus) -> None:
        """Those calls returned and their results are settled (or never will be in this run)."""
        with self._lock:
            for sku in skus:
                self._version[sku] = self._version.get(sku, 0) + 1
                left = self._flying.get(sku, 0) - 1
                if left > 0:
                    self._flying[sku] = left
                else:
                    self._flying.pop(sku, None)
        if self._quiet is not None:
            with self._quiet:
                self._quiet.notify_all()

    def snapshot(self, skus) -> dict[str, int]:
        with self._lock:
            return {sku: self._version.get(sku, 0) for sku in skus}

    def moved(self, seen: dict[str, int]) -> set[str]:
        """The SKUs of ``seen`` a push started, settled or still has on the wire since ``snapshot``."""
        with self._lock:
            return {sku for sku, v in seen.items() if self._version.get(sku, 0) != v or sku in self._flying}


class Turns:
    """Ingests waiting for the lane's lock, shared by every thread on the lane. A push thread
    back from the wire takes the lock again for its settle at once, before a poll thread that
    waited all the while was even scheduled: at 0 ms round trips one channel's ingest waited
    25 ms behind its push threads' prepares and settles (each waiting in the writers' queue).
    The settle is no sale's news (its call is out); the ingest is every other channel's."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.waiting = 0

    @contextmanager
    def ingest(self, serial) -> Iterator[None]:
        """Hold ``serial`` for an ingest, counted as waiting until it has it."""
        with self._cond:
            self.waiting += 1
        try:
            serial.acquire()
        finally:
            with self._cond:
                self.waiting -= 1
                self._cond.notify_all()
        try:
            yield
        finally:
            serial.release()

    def let_ingests_first(self, stop, most: float = 0.05) -> None:
        """Before taking the lock back: let the ingests waiting for it go first (at most
        ``most`` seconds; a waiter that has the lock is no longer counted). Woken as each
        one gets it, not by polling; a stop is seen within ``most``."""
        with self._cond:
            self._cond.wait_for(lambda: not self.waiting or stop.is_set(), most)


@dataclass
class Lane:
    name: str
    cfg: ChannelConfig
    config: Config
    store: Store
    adapter: Channel
    budget: TokenBucket
    hooks: pluggy.HookRelay
    #: called when this lane queued pushes for other channels (the daemon wakes their workers)
    on_queued: Callable[[], None] = field(default=_nothing)
    _kept_version: int = 0
    #: the daemon's stop: set, it ends this lane's waits and calls with ``Interrupted``
    stop: Stop = NEVER
    #: held by the work on this channel that must not interleave: an ingest, a push batch, a
    #: resync, a handed-over request. The daemon polls and pushes a channel from two threads
    #: (pushes never wait behind a poll's API calls); this keeps their store effects in turn.
    #: A copy of the lane for another thread (``dataclasses.replace``) shares it.
    serial: threading.RLock = field(default_factory=threading.RLock)
    answering: Answering = field(default_factory=Answering)
    #: the stock calls on the wire (shared by ``replace`` copies, like ``serial``)
    flights: Flights = field(default_factory=Flights)
    #: ingests waiting for ``serial`` (shared likewise)
    turns: Turns = field(default_factory=Turns)

    def __post_init__(self) -> None:
        self.flights.bind(self.serial)

    @property
    def policy(self) -> stock_policy.Policy:
        """How stock is told to this channel (its mode, keys, and whether it can be read)."""
        return stock_policy.Policy.of(self.adapter.capabilities, self.adapter.reads_stock())

    @property
    def absolute(self) -> bool:
        """Blind: the platform takes only absolute quantities and cannot be read, so its own
        orders make ``expected`` unknown (see ``stock_policy.Policy``)."""
        return self.policy.blind

    def call(self, fn: Callable[[], T]) -> T:
        """One platform call under the core's retry policy and this channel's rate budget."""
        self.stop.check()
        return retry.call(fn, refresh_auth=self.adapter.refresh_auth, bucket=self.budget, on_error=self.count_error,
                          sleep=self.stop.sleep)

    def count_error(self, error: ChannelError) -> None:
        """Count an error the platform reported. Here, not in plugins: Taobao, JD and WeChat send
        theirs with HTTP 200, so only the typed error the adapter raises carries the code."""
        metrics.platform_error(self.name, error.code, type(error).__name__)

    def items(self, fetch: Callable[[str | None], Page[T]], stored: paging.Stored | None = None,
              size: int | None = None) -> Iterator[T]:
        """Every item of a paged read, each page and each detail call made through ``call``."""
        return paging.items(lambda tok: self.call(lambda: fetch(tok)), self.call, stored,
                            size or self.adapter.capabilities.listing_page_size)

    def keep_budget(self) -> None:
        """Store what the rate budget learnt since it was last kept (a restart starts from it)."""
        if self.budget.version == self._kept_version:
            return
        rate, ceiling, since = self.budget.learnt()
        refused_at = utcnow() - timedelta(seconds=since) if since is not None else None
        with self.store.write():
            if since is None:
                channels.keep_learnt_rate(self.store, self.name, None, None, None)
            else:
                channels.keep_learnt_rate(self.store, self.name, rate, ceiling, refused_at)
        self._kept_version = self.budget.version

    def close(self) -> None:
        self.adapter.close()


def build_adapter(cfg: ChannelConfig, types: dict[str, type[Channel]],
                  transport: httpx.BaseTransport | None = None,
                  store: Store | None = None, key: bytes | None = None,
                  stop: Stop = NEVER) -> tuple[Channel, TokenBucket]:
    """An adapter for a configured channel, with its HTTP client and rate budget; with a
    store, renewed credentials are restored and kept (encrypted with ``key`` when given)."""
    cls = types.get(cfg.plugin)
    if cls is None:
        raise UserError(f"channels.{cfg.name}.plugin: no plugin provides channel type {cfg.plugin!r}")
    caps = cls.capabilities
    budget = TokenBucket(cfg.rate_per_second or caps.rate_per_second, cfg.burst or caps.rate_burst,
                         sleep=stop.sleep)
    base_url = cfg.settings.get("base_url")
    client = make_client(cfg.name, base_url, bucket=budget, transport=transport, stop=stop) if base_url else None
    settings = credentials.overlay(store, cfg.name, cfg.settings, key) if store is not None else cfg.settings
    adapter = cls(cfg.name, settings, client)
    if store is not None:
        adapter.credential_sink = lambda values: credentials.save(store, cfg.name, cfg.settings, values, key)
    return adapter, budget


def open_lane(config: Config, name: str, store: Store, types: dict[str, type[Channel]], pm: pluggy.PluginManager,
              transport: httpx.BaseTransport | None = None, on_queued: Callable[[], None] = _nothing,
              stop: Stop = NEVER) -> Lane:
    """Build the adapter for channel ``name`` and register the channel in the store."""
    cfg = config.channels[name]
    adapter, budget = build_adapter(cfg, types, transport, store, config.store.key, stop)
    with store.write():
        channels.register(store, name, cfg.plugin)
    learnt = channels.learnt_rate(store, name)
    if learnt is not None:  # what the platform allowed before a restart, unless long ago
        rate, ceiling, refused_at = learnt
        budget.restore(rate, ceiling, (utcnow() - refused_at).total_seconds())
    return Lane(name, cfg, config, store, adapter, budget, pm.hook, on_queued, budget.version, stop)
