"""Draining one channel's outbox: batches of the platform's size, results per row.

Network calls happen outside any database transaction; each batch is
prepared in one transaction and settled in another, so a crash between the
two re-sends the same increment (same idempotency key) rather than a new one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable

import structlog

from channelsync.engine import inventory, outbox

from channelsync.telemetry import metrics

from channelsync.sync import retry
from channelsync.sdk.errors import AuthExpired, ChannelError, RateLimited
from channelsync.sdk.models import PriceUpdate, StockUpdate, UpdateResult
from channelsync.store import parse_ts, ts, utcnow

if TYPE_CHECKING:
    from channelsync.sync.runner import ChannelRunner

log = structlog.get_logger("channelsync.sync.push")

KINDS = ("stock", "price", "shelf", "listing", "publish")


@dataclass
class PushStats:
    ok: int = 0
    retry: int = 0
    parked: int = 0
    skipped: int = 0

    def add(self, other: "PushStats") -> None:
        self.ok += other.ok
        self.retry += other.retry
        self.parked += other.parked
        self.skipped += other.skipped


def drain(runner: "ChannelRunner", stop: Callable[[], bool] = lambda: False, max_batches: int = 1000) -> PushStats:
    """Send every due row of the channel, kind by kind, until none is due."""
    stats = PushStats()
    for _ in range(max_batches):
        if stop():
            break
        sent = False
        for kind in KINDS:
            size = _batch_size(runner, kind)
            rows = outbox.due(runner.store, runner.name, kind, size)
            if rows:
                stats.add(_send(runner, kind, rows))
                sent = True
        if not sent:
            break
    return stats


def _batch_size(runner: "ChannelRunner", kind: str) -> int:
    caps = runner.channel.capabilities
    return {"stock": caps.stock_batch_size, "price": caps.price_batch_size}.get(kind, 1)


def _send(runner: "ChannelRunner", kind: str, rows: list[dict]) -> PushStats:
    store, now = runner.store, utcnow()
    with store.write():
        prepared = [(row, p) for row in rows if (p := _prepare(runner, kind, row, now)) is not None]
    stats = PushStats(skipped=len(rows) - len(prepared))
    if not prepared:
        return stats
    try:
        results = _call(runner, kind, [p for _, p in prepared])
    except ChannelError as exc:
        if not exc.retryable and len(prepared) > 1:
            # one bad record must not block the rest: retry them one by one
            for row, _ in prepared:
                stats.add(_send(runner, kind, [row]))
            return stats
        results = [UpdateResult(_ext(p), exc) for _, p in prepared]
    except Exception as exc:  # a plugin bug: park, say so loudly, keep the worker alive
        log.exception("push_plugin_error", channel=runner.name, kind=kind)
        results = [UpdateResult(_ext(p), ChannelError(f"plugin error: {type(exc).__name__}: {exc}", code="plugin"))
                   for _, p in prepared]
    if any(isinstance(r.error, AuthExpired) for r in results):
        # part of a batch may meet an expired token: renew once, the rows retry at once
        try:
            runner.channel.refresh_auth()
        except ChannelError as exc:
            log.warning("refresh_auth_failed", channel=runner.name, error=str(exc))
    by_id = {r.external_id: r for r in results}
    with store.write():
        for row, payload in prepared:
            result = by_id.get(_ext(payload)) or UpdateResult(_ext(payload), ChannelError("no result returned", code="plugin"))
            _settle(runner, kind, row, payload, result, stats)
    return stats


def _ext(payload) -> str:
    return payload.external_id or ""


def _prepare(runner: "ChannelRunner", kind: str, row: dict, now: datetime):
    """Build the update for a row, or settle it at once when nothing needs sending."""
    store = runner.store
    listing = store.one("SELECT * FROM listings WHERE channel = ? AND sku_code = ?", (runner.name, row["sku_code"]))
    if kind == "publish":
        if not runner.channel.capabilities.can_publish:
            outbox.park(store, row, f"publish_new is set, but a {runner.cfg.plugin} channel cannot publish from "
                                    "master data: create the listing in the seller centre with this merchant code", now)
            return None
        content = None if listing else runner.content(row["sku_code"], None)
        if content is None:  # linked meanwhile, or no longer in the catalog
            outbox.done(store, row)
        return content
    if listing is None:
        outbox.done(store, row)
        return None
    if kind == "stock":
        if row["inflight_key"]:  # a call that may have applied: send exactly it again
            return StockUpdate(row["sku_code"], listing["external_id"], listing["item_id"], row["inflight_target"],
                               row["inflight_delta"], row["inflight_target"] - row["inflight_delta"], row["inflight_key"])
        wanted = inventory.channel_target(store, runner.cfg, row["sku_code"])
        expected = listing["expected"]
        if expected == wanted:
            outbox.done(store, row)
            return None
        mode = runner.channel.capabilities.stock_mode
        if expected is None and mode != "absolute":
            outbox.park(store, row, "the channel's current quantity is unknown; run `channelsync resync`", now)
            return None
        delta = wanted - (expected or 0)
        key = uuid.uuid4().hex[:20]
        if mode != "absolute":
            store.execute("UPDATE outbox SET inflight_key = ?, inflight_target = ?, inflight_delta = ? "
                          "WHERE channel = ? AND sku_code = ? AND kind = 'stock'",
                          (key, wanted, delta, runner.name, row["sku_code"]))
        return StockUpdate(row["sku_code"], listing["external_id"], listing["item_id"], wanted, delta, expected, key)
    if kind == "price":
        decision = runner.price(row["sku_code"], now)
        shown = listing["seen_price"] if listing["seen_price"] is not None else listing["pushed_price"]
        if decision is None or decision.price == shown:
            outbox.done(store, row)
            return None
        return PriceUpdate(row["sku_code"], listing["external_id"], listing["item_id"], decision.price)
    content = runner.content(row["sku_code"], listing)
    if content is None:
        outbox.done(store, row)
    return content


def _call(runner: "ChannelRunner", kind: str, payloads: list) -> list[UpdateResult]:
    ch = runner.channel
    if kind == "stock":
        fn = lambda: ch.set_stock(payloads)  # noqa: E731
    elif kind == "price":
        fn = lambda: ch.set_prices(payloads)  # noqa: E731
    else:
        content = payloads[0]
        if kind == "shelf":
            fn = lambda: (ch.set_shelf(content, content.on_shelf), [UpdateResult(_ext(content))])[1]  # noqa: E731
        elif kind == "listing":
            fn = lambda: (ch.update_listing(content), [UpdateResult(_ext(content))])[1]  # noqa: E731
        else:
            def fn():
                runner.link_published(content.sku_code, ch.publish(content))
                return [UpdateResult("")]
    # only an expired token is retried inline (refresh, then once more); every other
    # failure goes back to the outbox with its back-off, so no row waits on another
    return retry.call(fn, refresh_auth=ch.refresh_auth, bucket=runner.bucket, attempts=2,
                      retry_if=lambda exc: isinstance(exc, AuthExpired))


def _settle(runner: "ChannelRunner", kind: str, row: dict, payload, result: UpdateResult, stats: PushStats) -> None:
    store, now = runner.store, utcnow()
    if result.ok:
        if kind == "stock":
            store.execute(
                "UPDATE listings SET expected = CASE WHEN ? = 'absolute' OR expected IS NULL THEN ? ELSE expected + ? END, "
                "pushed_qty = ?, pushed_at = ? WHERE channel = ? AND sku_code = ?",
                (runner.channel.capabilities.stock_mode, payload.quantity, payload.delta, payload.quantity, ts(now),
                 runner.name, row["sku_code"]))
            store.execute("UPDATE outbox SET inflight_key = NULL, inflight_target = NULL, inflight_delta = NULL "
                          "WHERE channel = ? AND sku_code = ? AND kind = 'stock'", (runner.name, row["sku_code"]))
            metrics.PROPAGATION.labels(runner.name).observe((now - parse_ts(row["queued_at"])).total_seconds())
        elif kind == "price":
            store.execute("UPDATE listings SET pushed_price = ?, seen_price = ? WHERE channel = ? AND sku_code = ?",
                          (payload.price, payload.price, runner.name, row["sku_code"]))
        elif kind == "shelf":
            store.execute("UPDATE listings SET seen_on_shelf = ? WHERE channel = ? AND sku_code = ?",
                          (int(payload.on_shelf), runner.name, row["sku_code"]))
        store.execute("UPDATE channels SET last_push_at = ? WHERE name = ?", (ts(now), runner.name))
        _finish(runner, kind, row, now)
        stats.ok += 1
        metrics.PUSHES.labels(runner.name, kind, "ok").inc()
        return
    error = result.error
    if isinstance(error, ChannelError) and error.retryable:
        delay = retry.wait_for(error, row["attempts"] + 1)
        if isinstance(error, RateLimited):
            runner.bucket.pause(delay)
        if not error.maybe_applied:  # certainly not applied: the next try computes afresh
            store.execute("UPDATE outbox SET inflight_key = NULL, inflight_target = NULL, inflight_delta = NULL "
                          "WHERE channel = ? AND sku_code = ? AND kind = ?", (runner.name, row["sku_code"], kind))
        # a fresh token deserves one immediate try; a refresh that keeps failing backs off
        # like any other error instead of spinning through drain()
        immediate = isinstance(error, AuthExpired) and row["attempts"] == 0
        outbox.retry_later(store, row, 0.0 if immediate else delay, str(error), now)
        stats.retry += 1
        metrics.PUSHES.labels(runner.name, kind, "retry").inc()
        runner.hook.push_failed(channel=runner.name, sku_code=row["sku_code"], kind=kind, error=error, parked=False)
    else:
        outbox.park(store, row, str(error), now)
        stats.parked += 1
        metrics.PUSHES.labels(runner.name, kind, "parked").inc()
        log.warning("push_parked", channel=runner.name, sku=row["sku_code"], kind=kind, error=str(error))
        runner.hook.push_failed(channel=runner.name, sku_code=row["sku_code"], kind=kind, error=error, parked=True)


def _finish(runner: "ChannelRunner", kind: str, row: dict, now: datetime) -> None:
    """Delete the row unless a newer change arrived while the call was in flight."""
    if kind == "stock":
        listing = runner.store.one("SELECT expected FROM listings WHERE channel = ? AND sku_code = ?",
                                   (runner.name, row["sku_code"]))
        if listing and inventory.channel_target(runner.store, runner.cfg, row["sku_code"]) != listing["expected"]:
            runner.store.execute("UPDATE outbox SET attempts = 0, next_at = ?, last_error = NULL "
                                 "WHERE channel = ? AND sku_code = ? AND kind = 'stock'",
                                 (ts(now), runner.name, row["sku_code"]))
            return
    outbox.done(runner.store, row)

