"""One channel's sync cycle, built from the parts: poll orders, drain the outbox.

A ``ChannelRunner`` owns one adapter, its rate budget and a database
connection; the daemon runs one per channel in its own thread, the CLI
builds one when no daemon is running.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

import httpx
import pluggy
import structlog

from channelsync.sync import credentials, paging, push, retry

from channelsync.engine import inventory, outbox, pricing

from channelsync.telemetry import metrics
from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import ChannelError, UserError
from channelsync.sync.http import make_client
from channelsync.sdk.models import Listing, ListingContent
from channelsync.engine.orders import IngestResult, ingest
from channelsync.sync.ratelimit import TokenBucket
from channelsync.config.settings import ChannelConfig, Config
from channelsync.store import Store, parse_ts, ts, utcnow

log = structlog.get_logger("channelsync.sync.runner")


def build_channel(cfg: ChannelConfig, types: dict[str, type[Channel]],
                  transport: httpx.BaseTransport | None = None,
                  store: Store | None = None) -> tuple[Channel, TokenBucket]:
    """An adapter for a configured channel, with its HTTP client and rate budget; with a
    store, renewed credentials are restored and kept."""
    cls = types.get(cfg.plugin)
    if cls is None:
        raise UserError(f"channels.{cfg.name}.plugin: no plugin provides channel type {cfg.plugin!r}")
    caps = cls.capabilities
    bucket = TokenBucket(cfg.rate_per_second or caps.rate_per_second, cfg.burst or caps.rate_burst)
    base_url = cfg.settings.get("base_url")
    client = make_client(cfg.name, base_url, bucket=bucket, transport=transport) if base_url else None
    settings = credentials.overlay(store, cfg.name, cfg.settings) if store is not None else cfg.settings
    channel = cls(cfg.name, settings, client)
    if store is not None:
        channel.credential_sink = lambda values: credentials.save(store, cfg.name, cfg.settings, values)
    return channel, bucket


@dataclass
class CycleStats:
    orders_seen: int = 0
    orders_changed: int = 0
    unmatched_lines: int = 0
    pushes_queued: int = 0
    pushes: push.PushStats = field(default_factory=push.PushStats)
    poll_ms: int = 0
    push_ms: int = 0
    error: str | None = None


class ChannelRunner:
    def __init__(self, config: Config, name: str, store: Store, channel: Channel, bucket: TokenBucket,
                 pm: pluggy.PluginManager, on_queued: Callable[[], None] = lambda: None) -> None:
        self.config = config
        self.cfg = config.channels[name]
        self.name = name
        self.store = store
        self.channel = channel
        self.bucket = bucket
        self.hook = pm.hook
        self.on_queued = on_queued
        with store.write():
            store.execute("INSERT INTO channels (name, plugin) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                          "SET plugin = excluded.plugin", (name, self.cfg.plugin))

    # --- orders ----------------------------------------------------------
    def poll(self, now: datetime | None = None) -> CycleStats:
        """Read orders in ``[cursor - overlap, now - lag]``, window by window; each
        window's orders and the cursor move commit together."""
        stats = CycleStats()
        now = now or utcnow()
        started = time.monotonic()
        cursor = parse_ts(self.store.scalar("SELECT order_cursor FROM channels WHERE name = ?", (self.name,)))
        start = (cursor or now - timedelta(seconds=self.cfg.initial_lookback)) - timedelta(seconds=self.cfg.order_overlap)
        until = now - timedelta(seconds=self.cfg.order_lag)
        try:
            for since, end in paging.windows(start, until, self.channel.capabilities.max_order_window):
                found = {}
                for fetch in (self.channel.fetch_orders, self.channel.fetch_refunds):
                    for order in paging.items(lambda tok, f=fetch: self.call_with_retry(lambda: f(since, end, tok))):
                        found[order.external_id] = order  # the later read of the same order wins
                result = ingest(self.store, self.config, self.cfg, list(found.values()), cursor=end,
                                absolute=self.absolute)
                self._after_ingest(result, stats)
                stats.orders_seen += len(found)
            self._health("ok", None, poll_ok=True)
        except ChannelError as exc:
            stats.error = str(exc)
            self._health("failing", f"order poll: {exc}")
            log.warning("poll_failed", channel=self.name, error=str(exc))
        stats.poll_ms = int((time.monotonic() - started) * 1000)
        return stats

    @property
    def absolute(self) -> bool:
        return self.channel.capabilities.stock_mode == "absolute"

    def _after_ingest(self, result: IngestResult, stats: CycleStats) -> None:
        stats.orders_changed += len(result.changed)
        stats.unmatched_lines += result.unmatched_lines
        stats.pushes_queued += result.pushes_queued
        if result.unmatched_lines:
            log.warning("order_lines_unmatched", channel=self.name, lines=result.unmatched_lines)
        metrics.ORDERS_INGESTED.labels(self.name).inc(len(result.changed))
        if result.pushes_queued:
            self.on_queued()  # other channels' workers push now, not at their next tick
        for order, before in result.changed:
            self.hook.order_ingested(channel=self.name, order=order, previous_status=before)

    def call_with_retry(self, fn):
        """One platform call under the core's retry policy and this channel's rate budget."""
        return retry.call(fn, refresh_auth=self.channel.refresh_auth, bucket=self.bucket)

    # --- pushes ----------------------------------------------------------
    def drain(self, stop: Callable[[], bool] = lambda: False) -> push.PushStats:
        stats = push.drain(self, stop)
        metrics.QUEUE_DEPTH.labels(self.name).set(outbox.depth(self.store, self.name)["pending"])
        if stats.retry and not stats.ok:
            self._health("degraded", "pushes are being retried")
        return stats

    def cycle(self, stop: Callable[[], bool] = lambda: False) -> CycleStats:
        """Poll, then push; logs the canonical line of the cycle."""
        stats = self.poll()
        started = time.monotonic()
        stats.pushes = self.drain(stop)
        stats.push_ms = int((time.monotonic() - started) * 1000)
        line = {"orders_seen": stats.orders_seen, "orders_changed": stats.orders_changed,
                "unmatched_lines": stats.unmatched_lines, "pushes_queued": stats.pushes_queued,
                "pushes_ok": stats.pushes.ok, "pushes_retry": stats.pushes.retry,
                "pushes_parked": stats.pushes.parked, "queue_depth": outbox.depth(self.store, self.name)["pending"],
                "poll_ms": stats.poll_ms, "push_ms": stats.push_ms}
        if stats.error:
            line["error"] = stats.error
        log.info("channel_cycle", channel=self.name, **line)
        self.hook.cycle_finished(channel=self.name, stats=line)
        return stats

    # --- what push.py asks of the runner ------------------------------------
    def price(self, sku_code: str, at: datetime) -> pricing.PriceDecision | None:
        sku = self.store.one("SELECT base_price, cost FROM skus WHERE code = ?", (sku_code,))
        if sku is None:
            return None
        decision = pricing.channel_price(sku_code, sku["base_price"], sku["cost"], self.cfg,
                                         self.config.promotions, at)
        if decision.floored:
            log.warning("price_floored", channel=self.name, sku=sku_code, reason=decision.reason)
        return decision

    def content(self, sku_code: str, listing: dict | None) -> ListingContent | None:
        row = self.store.one(
            "SELECT s.code, s.product_code, s.title AS sku_title, s.attributes, s.status AS sku_status, "
            "p.title, p.description, p.status FROM skus s JOIN products p ON p.code = s.product_code WHERE s.code = ?",
            (sku_code,))
        if row is None:
            return None
        on_shelf = row["sku_status"] == "active" and row["status"] == "active"
        decision = self.price(sku_code, utcnow())
        return ListingContent(
            sku_code=sku_code, product_code=row["product_code"], title=row["sku_title"] or row["title"],
            description=row["description"], on_shelf=on_shelf, price=decision.price if decision else None,
            quantity=inventory.channel_target(self.store, self.cfg, sku_code), attributes=json.loads(row["attributes"]),
            external_id=listing["external_id"] if listing else None, item_id=listing["item_id"] if listing else None)

    def link_published(self, sku_code: str, listings: list[Listing]) -> None:
        now = ts(utcnow())
        with self.store.write():
            for ls in listings:
                code = ls.sku_code or sku_code
                self.store.execute(
                    "INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, "
                    "seen_on_shelf, linked_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (channel, sku_code) DO NOTHING",
                    (self.name, code, ls.external_id, ls.item_id, ls.quantity, ls.quantity, ls.price, int(ls.on_shelf), now))

    def _health(self, health: str, error: str | None, poll_ok: bool = False) -> None:
        now = ts(utcnow())
        expires = self.channel.token_expires_at()
        with self.store.write():
            self.store.execute(
                "UPDATE channels SET health = ?, last_error = ?, last_poll_at = ?, "
                "last_poll_ok_at = CASE WHEN ? THEN ? ELSE last_poll_ok_at END, token_expires_at = ? WHERE name = ?",
                (health, error, now, poll_ok, now, ts(expires) if expires else None, self.name))

    def close(self) -> None:
        self.channel.close()


def status_rows(store: Store, config: Config) -> list[dict[str, Any]]:
    """Per channel: health, last poll/push, cursor, queue depth, parked failures (no secrets)."""
    rows = []
    for name, cfg in config.channels.items():
        ch = store.one("SELECT * FROM channels WHERE name = ?", (name,)) or {}
        failures = store.query("SELECT sku_code, kind, attempts, last_error, updated_at FROM outbox "
                               "WHERE channel = ? AND status = 'failed' ORDER BY updated_at DESC LIMIT 20", (name,))
        rows.append({
            "channel": name, "plugin": cfg.plugin, "enabled": cfg.enabled,
            "health": ch.get("health", "unknown"), "last_error": ch.get("last_error"),
            "last_poll_ok_at": ch.get("last_poll_ok_at"), "last_push_at": ch.get("last_push_at"),
            "order_cursor": ch.get("order_cursor"), "token_expires_at": ch.get("token_expires_at"),
            "queue": outbox.depth(store, name), "failures": failures,
            "listings": store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ?", (name,)),
            "unmatched_listings": store.scalar("SELECT COUNT(*) FROM unmatched_listings WHERE channel = ?", (name,)),
        })
    return rows

