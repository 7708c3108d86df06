"""Draining one channel's outbox: batches of the platform's size, results per row.

Network calls happen outside any database transaction; each batch is
prepared in one transaction and settled in another. A stock call in flight is
kept on its row, so after a crash between the two it is never applied twice:
``stockpush`` sends it again only where the platform cannot apply it twice, and
reads the platform first everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import structlog

from channelsync.engine import channels, inventory, listings, outbox, pricing
from channelsync.sdk.errors import AuthExpired, ChannelError, RateLimited, Reauthorize
from channelsync.sdk.models import PriceUpdate, UpdateResult
from channelsync.store import parse_ts, utcnow
from channelsync.sync import retry, stockpush
from channelsync.sync.lane import Lane
from channelsync.sync.stopping import Interrupted
from channelsync.telemetry import metrics

log = structlog.get_logger("channelsync.sync.push")

KINDS = ("stock", "price", "shelf", "listing", "publish")
#: seconds a push waits when the channel needs re-authorising (a restart with new credentials retries at once)
REAUTHORIZE_WAIT = 300.0
#: what each content kind needs the channel to declare
_CAN = {"listing": "can_update_content", "shelf": "can_set_shelf"}


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


def drain(lane: Lane, stop: Callable[[], bool] = lambda: False, max_batches: int = 1000) -> PushStats:
    """Send every due row of the channel, kind by kind, until none is due."""
    stats = PushStats()
    for _ in range(max_batches):
        if stop() or lane.stop.is_set():
            break
        sent = False
        due = outbox.due_kinds(lane.store, lane.name)  # one query on an idle channel, not one per kind
        for kind in KINDS:
            if kind not in due:
                continue
            size = _batch_size(lane, kind)
            with lane.serial:  # read under the lock: the channel's other push thread takes rows too
                rows = _due(lane, kind, size)
                if rows:
                    stats.add(_send_locked(lane, kind, rows))  # lets the lock go while a stock call is out
                    sent = True
        if not sent:
            break
    return stats


def _due(lane: Lane, kind: str, size: int) -> list[dict]:
    """Up to ``size`` due rows, less those whose stock call is on the wire from the channel's
    other push thread (``Pusher``: two per channel, so rows that arrive while one batch is out
    go at once instead of a round trip later)."""
    if kind != "stock":
        return outbox.due(lane.store, lane.name, kind, size)
    skip = lane.flights.count()
    rows = outbox.due(lane.store, lane.name, kind, size + skip)
    if skip:
        rows = [r for r in rows if not lane.flights.busy((r["sku_code"],))]
    return rows[:size]


def _batch_size(lane: Lane, kind: str) -> int:
    caps = lane.adapter.capabilities
    return {"stock": caps.stock_batch_size, "price": caps.price_batch_size}.get(kind, 1)


def _send(lane: Lane, kind: str, rows: list[dict]) -> PushStats:
    """One batch. Prepared and settled under the lane's lock (in turn with this channel's
    ingests, drift settles and resync pages); a stock call is on the wire without it, so the
    channel's poll ingests meanwhile: ``lane.flights`` marks its SKUs, and what must not
    interleave with them waits for them (an ingest of the same SKUs, a drift settle) or
    leaves them out (a drift read's record)."""
    with lane.serial:
        return _send_locked(lane, kind, rows)


def _send_locked(lane: Lane, kind: str, rows: list[dict]) -> PushStats:
    store, now = lane.store, utcnow()
    targets: dict[str, int] = {}
    try:
        current = stockpush.read_current(lane, rows) if kind == "stock" else {}
    except ChannelError as exc:  # an absolute set without the read could erase unseen sales: wait
        with store.write():
            for row in rows:
                outbox.retry_later(store, row, retry.wait_for(exc, row["attempts"] + 1), f"read before set: {exc}", now)
        metrics.PUSHES.labels(lane.name, kind, "retry").inc(len(rows))
        return PushStats(retry=len(rows))
    with store.write():
        reads = _reads(lane, rows) if kind == "stock" else None
        prepared = [(row, p) for row in rows
                    if (p := _prepare(lane, kind, row, now, current, targets, reads)) is not None]
    stats = PushStats(skipped=len(rows) - len(prepared))
    if not prepared:
        return stats
    if kind != "stock":  # content and prices: rare, and not waited for by a sale; in turn as before
        _fly(lane, kind, prepared, stats, targets)
        return stats
    # a drift read of these SKUs taken meanwhile cannot tell whether it shows this call, and an
    # ingest of their own sales waits for it (a sale the platform floored at 0 does not commute
    # with an increment on the wire)
    flying = [row["sku_code"] for row, _ in prepared]
    lane.flights.start(flying)
    unlocked = _unlocked(lane)
    try:
        _fly(lane, kind, prepared, stats, targets, unlocked)
    finally:
        lane.flights.end(flying)  # after the settle: a read recorded before it would misjudge
    return stats


class _unlocked:
    """Releases the lane's lock (held once, by ``_send``) for a network call; back, lets the
    channel's ingests that waited for it go before the settle (``Turns``)."""

    def __init__(self, lane: Lane) -> None:
        self.lane = lane

    def __enter__(self):
        self.lane.serial.release()

    def __exit__(self, *exc):
        self.lane.turns.let_ingests_first(self.lane.stop)
        self.lane.serial.acquire()
        return False


def _fly(lane: Lane, kind: str, prepared: list, stats: PushStats, targets: dict[str, int],
         unlocked=None) -> None:
    """Send the prepared batch (``unlocked``: without the lane's lock) and settle each row's result."""
    store = lane.store
    try:
        if unlocked is None:
            results = _call(lane, kind, [p for _, p in prepared])
        else:
            with unlocked:
                results = _call(lane, kind, [p for _, p in prepared])
    except ChannelError as exc:
        if not exc.retryable and len(prepared) > 1 and not isinstance(exc, Reauthorize):
            # one bad record must not block the rest: retry them one by one
            for row, _ in prepared:
                stats.add(_send_locked(lane, kind, [row]))
            return
        results = [UpdateResult(_ext(p), exc) for _, p in prepared]
    except Exception as exc:  # a plugin bug: park, say so loudly, keep the worker alive
        log.exception("push_plugin_error", channel=lane.name, kind=kind)
        results = [UpdateResult(_ext(p), ChannelError(f"plugin error: {type(exc).__name__}: {exc}", code="plugin"))
                   for _, p in prepared]
    else:  # errors per record (a raised error was counted as it was raised)
        for r in results:
            if isinstance(r.error, ChannelError):
                lane.count_error(r.error)
    if any(isinstance(r.error, AuthExpired) for r in results):
        # part of a batch may meet an expired token: renew once, the rows retry at once
        try:
            lane.adapter.refresh_auth()
        except ChannelError as exc:
            log.warning("refresh_auth_failed", channel=lane.name, error=str(exc))
    limited = next((r.error for r in results if isinstance(r.error, RateLimited)), None)
    if limited is not None:  # one refused call slows the channel once, however many rows it carried
        lane.budget.limited(limited.retry_after)
    by_id = {r.external_id: r for r in results}
    ok = stats.ok
    with store.write():
        reads = _reads(lane, [row for row, _ in prepared]) if kind == "stock" else None
        for row, payload in prepared:
            result = by_id.get(_ext(payload)) or UpdateResult(_ext(payload), ChannelError("no result returned", code="plugin"))
            _settle(lane, kind, row, payload, result, stats, targets, reads)
        if stats.ok > ok:  # once a batch, not once a row
            channels.pushed(store, lane.name, utcnow())


def _ext(payload) -> str:
    return payload.external_id or ""


def _reads(lane: Lane, rows: list[dict]) -> inventory.Reads:
    """The stock reads behind a batch's targets, four queries for the batch instead of four a
    row (inside the batch's transaction, which writes nothing they read)."""
    reads = inventory.Reads(lane.store)
    reads.preload([row["sku_code"] for row in rows], {tuple(lane.cfg.warehouses)})
    return reads


def _prepare(lane: Lane, kind: str, row: dict, now: datetime, current: dict[str, int], targets: dict[str, int],
             reads: inventory.Reads | None = None):
    """Build the update for a row, or settle it at once when nothing needs sending."""
    store = lane.store
    listing = listings.get(store, lane.name, row["sku_code"])
    if kind == "publish":
        if not lane.adapter.capabilities.can_publish:
            outbox.park(store, row, f"publish_new is set, but a {lane.cfg.plugin} channel cannot publish from "
                                    "master data: create the listing in the seller centre with this merchant code", now)
            return None
        content = None if listing else listings.content(store, lane.config, lane.cfg, row["sku_code"])
        if content is None:  # linked meanwhile, or no longer in the catalog
            outbox.done(store, row)
        return content
    if listing is None or (kind in _CAN and not getattr(lane.adapter.capabilities, _CAN[kind])):
        outbox.done(store, row)  # nothing to send: not linked, or the platform cannot take it
        return None
    if kind == "stock":
        return stockpush.prepare(lane, row, listing, now, current, targets, reads)
    if kind == "price":
        decision = pricing.price_for(store, lane.config, lane.cfg, row["sku_code"], now)
        shown = listing["seen_price"] if listing["seen_price"] is not None else listing["pushed_price"]
        if decision is None or decision.price == shown:
            outbox.done(store, row)
            return None
        return PriceUpdate(row["sku_code"], listing["external_id"], listing["item_id"], decision.price)
    content = listings.content(store, lane.config, lane.cfg, row["sku_code"], listing)
    if content is None:
        outbox.done(store, row)
    return content


def _call(lane: Lane, kind: str, payloads: list) -> list[UpdateResult]:
    adapter = lane.adapter
    if kind == "stock":
        fn = lambda: adapter.set_stock(payloads)  # noqa: E731
    elif kind == "price":
        fn = lambda: adapter.set_prices(payloads)  # noqa: E731
    else:
        content = payloads[0]
        if kind == "shelf":
            fn = lambda: (adapter.set_shelf(content, content.on_shelf), [UpdateResult(_ext(content))])[1]  # noqa: E731
        elif kind == "listing":
            fn = lambda: (adapter.update_listing(content), [UpdateResult(_ext(content))])[1]  # noqa: E731
        else:
            def fn():
                published = adapter.publish(content)
                with lane.store.write():
                    listings.link_published(lane.store, lane.name, content.sku_code, published)
                return [UpdateResult("")]
    # only an expired token is retried inline (refresh, then once more); every other
    # failure goes back to the outbox with its back-off, so no row waits on another
    lane.stop.check()
    return retry.call(fn, refresh_auth=adapter.refresh_auth, bucket=lane.budget, attempts=2,
                      retry_if=lambda exc: isinstance(exc, AuthExpired), on_error=lane.count_error,
                      sleep=lane.stop.sleep)


def _settle(lane: Lane, kind: str, row: dict, payload, result: UpdateResult, stats: PushStats,
            targets: dict[str, int], reads: inventory.Reads | None = None) -> None:
    store, now = lane.store, utcnow()
    if result.ok:
        shows = None  # what the listing is now expected to show (stock)
        if kind == "stock":
            shows = stockpush.settled(lane, row, payload, targets, now)
            metrics.PROPAGATION.labels(lane.name).observe((now - parse_ts(row["queued_at"])).total_seconds())
        elif kind == "price":
            listings.price_pushed(store, lane.name, row["sku_code"], payload.price)
        elif kind == "shelf":
            listings.shelf_pushed(store, lane.name, row["sku_code"], payload.on_shelf)
        elif kind == "listing" and not lane.adapter.capabilities.sku_titles:
            # item-level content: this call told the whole item, so its other SKUs' rows are done
            for code in listings.same_item(store, lane.name, row["sku_code"], payload.item_id, payload.product_code):
                outbox.unqueue(store, lane.name, code, "listing")
        _finish(lane, kind, row, now, shows, reads)
        stats.ok += 1
        metrics.PUSHES.labels(lane.name, kind, "ok").inc()
        log.debug("push_ok", channel=lane.name, sku=row["sku_code"], kind=kind)
        return
    error = result.error
    if isinstance(error, Interrupted):  # stopping, nothing was sent: the row stays as it was
        if not row["inflight_key"]:  # marked for this try only (a re-send keeps its earlier key)
            outbox.clear_in_flight(store, row)
        stats.skipped += 1
        return
    if isinstance(error, Reauthorize):
        # nothing was sent and nothing is wrong with the row: it waits for a person to
        # re-authorise (the message says how), instead of being parked with every other row
        outbox.clear_in_flight(store, row)
        outbox.retry_later(store, row, REAUTHORIZE_WAIT, str(error), now)
        stats.retry += 1
        metrics.PUSHES.labels(lane.name, kind, "retry").inc()
        return
    if isinstance(error, ChannelError) and error.retryable:
        delay = retry.wait_for(error, row["attempts"] + 1)
        if not error.maybe_applied:  # certainly not applied: the next try computes afresh
            outbox.clear_in_flight(store, row)
        if kind == "stock":
            stockpush.retrying(lane, row, error, now)
        # a fresh token deserves one immediate try; a refresh that keeps failing backs off
        # like any other error instead of spinning through drain()
        immediate = isinstance(error, AuthExpired) and row["attempts"] == 0
        outbox.retry_later(store, row, 0.0 if immediate else delay, str(error), now)
        stats.retry += 1
        metrics.PUSHES.labels(lane.name, kind, "retry").inc()
        lane.hooks.push_failed(channel=lane.name, sku_code=row["sku_code"], kind=kind, error=error, parked=False)
    elif kind == "stock" and isinstance(error, ChannelError) and stockpush.refused(lane, row, error, now):
        stats.retry += 1
        metrics.PUSHES.labels(lane.name, kind, "retry").inc()
        log.info("push_refused_reading_first", channel=lane.name, sku=row["sku_code"], error=str(error))
    else:
        outbox.park(store, row, str(error), now)
        stats.parked += 1
        metrics.PUSHES.labels(lane.name, kind, "parked").inc()
        log.warning("push_parked", channel=lane.name, sku=row["sku_code"], kind=kind, error=str(error))
        lane.hooks.push_failed(channel=lane.name, sku_code=row["sku_code"], kind=kind, error=error, parked=True)


def _finish(lane: Lane, kind: str, row: dict, now: datetime, shows: int | None = None,
            reads: inventory.Reads | None = None) -> None:
    """Delete the row unless a newer change arrived while the call was in flight (another
    channel's sale, a CLI change): the target no longer what the listing now shows.
    ``shows``: the listing's ``expected`` as the settle just wrote it (not read again)."""
    if kind == "stock" and shows is not None and inventory.channel_target(lane.store, lane.cfg,
                                                                          row["sku_code"], reads) != shows:
        outbox.due_again(lane.store, row, now)
        return
    outbox.done(lane.store, row)

