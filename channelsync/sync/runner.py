"""One channel's sync cycle: poll its orders, check for drift, then drain its outbox.

A ``ChannelRunner`` drives one ``Lane``; the daemon runs one per channel in its
own thread, the CLI builds one when no daemon is running. It also keeps the
channel's health row, which ``status`` and ``/healthz`` read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import structlog

from channelsync.engine import channels, listings, outbox
from channelsync.engine.orders import IngestResult, ingest, orders_modified, unchanged
from channelsync.sdk.errors import ChannelError
from channelsync.store import utcnow
from channelsync.store.sqlin import chunks, marks
from channelsync.sync import drift, paging, push
from channelsync.sync.lane import Lane
from channelsync.sync.stopping import Interrupted
from channelsync.telemetry import metrics

log = structlog.get_logger("channelsync.sync.runner")


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
    #: drift the reads this poll now covers showed (repaired: pushes are queued)
    drift: list = field(default_factory=list)
    listings_read: int = 0
    queue_depth: int = 0


class ChannelRunner:
    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.drift = drift.DriftCheck(lane)
        self._last_depth = 0
        # Prompt recovery: pushes that failed while the channel was down wait out a back-off
        # of up to minutes; once the channel answers again they go out at once. The up/down
        # state is the lane's (``lane.answering``): the daemon polls and pushes from two threads.

    # --- orders ----------------------------------------------------------
    def poll(self, now: datetime | None = None, overlap: bool = True) -> CycleStats:
        """Read orders in ``[cursor - overlap, now - lag]``, window by window; each
        window's orders and the cursor move commit together.

        ``overlap=False`` reads from the cursor only: the daemon does so on every poll and
        re-reads the overlap in ``sweep`` on a slower schedule of its own, so a poll's cost
        does not grow with the order rate (at 1,000 orders a minute the five-minute overlap
        is 5,000 orders, dozens of list calls, on every poll)."""
        cfg, now = self.lane.cfg, now or utcnow()
        cursor = channels.cursor(self.lane.store, self.lane.name)
        start = (cursor or now - timedelta(seconds=cfg.initial_lookback))
        if overlap or cursor is None:
            start -= timedelta(seconds=cfg.order_overlap)
        # the platform's declared indexing lag is a floor; the config can only add to it
        lag = max(timedelta(seconds=cfg.order_lag), self.lane.adapter.capabilities.order_lag)
        return self._read(start, now - lag, move_cursor=True)

    def sweep(self, now: datetime | None = None) -> CycleStats:
        """Re-read ``[cursor - overlap, cursor)``: orders the platform indexed late, or whose
        clock is behind ours. Already-known orders change nothing; the cursor stays."""
        cfg, now = self.lane.cfg, now or utcnow()
        cursor = channels.cursor(self.lane.store, self.lane.name)
        if cursor is None:
            return CycleStats()
        return self._read(cursor - timedelta(seconds=cfg.order_overlap), cursor, move_cursor=False)

    def _read(self, start: datetime, until: datetime, move_cursor: bool) -> CycleStats:
        lane, cfg, adapter = self.lane, self.lane.cfg, self.lane.adapter
        stats = CycleStats()
        started = time.monotonic()
        try:
            longest, refund_longest = paging.order_windows(adapter.capabilities, cfg)
            for since, end in paging.windows(start, until, longest):
                log.debug("poll_window", channel=lane.name, since=since.isoformat(), until=end.isoformat())
                found = {}
                stored = orders_modified(lane.store, lane.name)
                # refunds in their own (possibly shorter) windows inside the order window, so
                # a short after-sale limit never shortens the order window
                reads = [(adapter.fetch_orders, since, end)] + [
                    (adapter.fetch_refunds, s, e) for s, e in paging.windows(since, end, refund_longest)]
                for fetch, s, e in reads:
                    for order in lane.items(lambda tok, f=fetch, s=s, e=e: f(s, e, tok), stored,
                                            adapter.capabilities.order_page_size):
                        found[order.external_id] = order  # the later read of the same order wins
                same = unchanged(lane.store, lane.name, list(found.values()))
                fresh = [o for o in found.values() if o.external_id not in same]
                with lane.turns.ingest(lane.serial):  # the API calls above ran unlocked: this channel's pushes went on
                    # its own sales of a SKU whose stock call is on the wire wait for it to settle:
                    # the platform floors a sale at 0, which does not commute with an increment.
                    # Under the lock no call can start, so with none out (most polls) the SKUs
                    # touched need not be worked out
                    if lane.flights.busy():
                        lane.flights.wait_clear(lane.stop, self._touches(fresh))
                    result = ingest(lane.store, lane.config, cfg, fresh,
                                    cursor=end if move_cursor else None, absolute=lane.absolute)
                self._after_ingest(result, stats)
                stats.orders_seen += len(found)
            self._poll_health(None)
            self._answered(probe=not self.lane.answering.poll_down)
            self.lane.answering.poll_down = False
        except Interrupted:  # stopping: the cursor stays where the last committed window left it
            stats.error = "interrupted: the daemon is stopping"
        except ChannelError as exc:
            self.lane.answering.poll_down = exc.retryable or self.lane.answering.poll_down
            stats.error = str(exc)
            self._poll_health(f"order poll: {exc}")
            log.warning("poll_failed", channel=lane.name, error=str(exc))
        # reads of the platform are settled only as far as the orders are in (the cursor)
        with lane.serial:  # settling writes expected: not in the middle of this channel's push batch
            stats.drift, settled_queued = drift.settle(lane)
        stats.pushes_queued += settled_queued
        stats.poll_ms = int((time.monotonic() - started) * 1000)
        return stats

    def _touches(self, orders: list) -> set[str] | None:
        """The SKUs whose ``expected`` ingesting ``orders`` may lower: their lines' codes when
        every one is a master SKU and every order is new (else None: any)."""
        codes = {line.sku_code for o in orders for line in o.lines}
        if not codes:
            return set()
        if None in codes:
            return None
        store, ids, known = self.lane.store, [o.external_id for o in orders], set()
        for chunk in chunks(ids, 500):
            if store.scalar(f"SELECT 1 FROM orders WHERE channel = ? AND external_id IN ({marks(chunk)}) "
                            "LIMIT 1", (self.lane.name, *chunk)):
                return None  # a stored order's lines carry the codes it was matched to then
        for chunk in chunks(sorted(codes), 500):
            known.update(r[0] for r in store.execute(f"SELECT code FROM skus WHERE code IN ({marks(chunk)})", chunk))
        return codes if known == codes else None  # an unknown code is matched by its listing's id

    def _after_ingest(self, result: IngestResult, stats: CycleStats) -> None:
        lane = self.lane
        stats.orders_changed += len(result.changed)
        stats.unmatched_lines += result.unmatched_lines
        stats.pushes_queued += result.pushes_queued
        if result.unmatched_lines:
            log.warning("order_lines_unmatched", channel=lane.name, lines=result.unmatched_lines)
        metrics.ORDERS_INGESTED.labels(lane.name).inc(len(result.changed))
        if result.pushes_queued:
            lane.on_queued()  # other channels' workers push now, not at their next tick
        for order, before in result.changed:
            lane.hooks.order_ingested(channel=lane.name, order=order, previous_status=before)

    # --- pushes ----------------------------------------------------------
    def _answered(self, probe: bool) -> None:
        """The channel answered: bring its backed-off pushes forward. After a push-only
        failure (polls kept working) only the soonest row goes, as a probe; when it
        succeeds the rest follow (``drain``)."""
        if probe and not self.lane.answering.push_down:
            return
        lane = self.lane
        with lane.store.write():
            hurried = outbox.hurry(lane.store, lane.name, limit=1 if probe else None)
        if hurried:
            log.info("pushes_hurried", channel=lane.name, rows=hurried, probe=probe)

    def drain(self, stop: Callable[[], bool] = lambda: False, check: bool = True) -> push.PushStats:
        """Send what is due; ``check``: then read the listings a push asked to have read (one
        of a channel's push threads does, not both)."""
        stats = push.drain(self.lane, stop)
        if stats.ok and self.lane.answering.push_down:
            self.lane.answering.push_down = False
            self._answered(probe=False)
            stats.add(push.drain(self.lane, stop))
        elif stats.retry and not stats.ok:
            self.lane.answering.push_down = True
        if check and listings.wanted(self.lane.store, self.lane.name) and self.check_stock():
            # a push waits for a read (it may have applied), or an absolute set wants checking:
            # read, settle, and send what that calls for now, not a poll interval later
            stats.add(push.drain(self.lane, stop))
        self._depth()
        if stats.retry or stats.ok or stats.parked:  # a round that tried something: its outcome
            health, error = ("degraded", f"{stats.retry} push(es) being retried") if stats.retry else ("ok", None)
            # written only when it changes: a transaction per batch waited in the writers' queue
            # ahead of other channels' batches for nothing (the health row says so already)
            if channels.push_health(self.lane.store, self.lane.name) != (health, error):
                with self.lane.store.write():
                    channels.record_push(self.lane.store, self.lane.name, health, error)
            self._health_metric()
        return stats

    def _depth(self) -> None:
        """Count the channel's outbox (the queue-depth metrics and the cycle's line)."""
        depth = outbox.depth(self.lane.store, self.lane.name)
        metrics.QUEUE_DEPTH.labels(self.lane.name).set(depth["pending"])
        metrics.PARKED.labels(self.lane.name).set(depth["failed"])
        self._last_depth = depth["pending"]

    def check_stock(self, stats: CycleStats | None = None, force: bool = False) -> int:
        """Read the listings the drift check wants read now, then poll again at once so
        the reads settle in this cycle (a push waiting for one goes out in it, drift is
        repaired in it), not in the next."""
        read = self.drift.read(force=force)
        if read:
            again = self.poll(overlap=False)  # the reads settle as far as the cursor: no need of the overlap
            if stats is not None:
                stats.drift.extend(again.drift)
                stats.orders_seen += again.orders_seen
        if stats is not None:
            stats.listings_read += read
        return read

    def push_round(self, stop: Callable[[], bool] = lambda: False, check: bool = True) -> push.PushStats:
        """Drain, as the daemon's push thread does whenever it is woken; logs a line when
        anything was sent (the poll's ``channel_cycle`` line then shows no pushes)."""
        started = time.monotonic()
        stats = self.drain(stop, check)
        if stats.ok or stats.retry or stats.parked:
            log.info("channel_push", channel=self.lane.name, pushes_ok=stats.ok, pushes_retry=stats.retry,
                     pushes_parked=stats.parked, push_ms=int((time.monotonic() - started) * 1000))
        return stats

    def cycle(self, stop: Callable[[], bool] = lambda: False, push: bool = True, overlap: bool = True) -> CycleStats:
        """Poll, check for drift, then (unless another thread pushes this channel) push; logs
        the canonical line of the cycle."""
        lane = self.lane
        stats = self.poll(overlap=overlap)
        self.check_stock(stats)
        started = time.monotonic()
        if push:
            stats.pushes = self.drain(stop)  # counts the outbox itself
        else:
            self._depth()
        stats.queue_depth = self._last_depth
        stats.push_ms = int((time.monotonic() - started) * 1000)
        line = {"orders_seen": stats.orders_seen, "orders_changed": stats.orders_changed,
                "unmatched_lines": stats.unmatched_lines, "pushes_queued": stats.pushes_queued,
                "pushes_ok": stats.pushes.ok, "pushes_retry": stats.pushes.retry,
                "pushes_parked": stats.pushes.parked, "listings_read": stats.listings_read,
                "drift": len(stats.drift), "queue_depth": stats.queue_depth,
                "poll_ms": stats.poll_ms, "push_ms": stats.push_ms}
        if stats.error:
            line["error"] = stats.error
        lane.keep_budget()
        busy = stats.error or stats.orders_changed or stats.pushes_queued or stats.pushes.ok or stats.pushes.retry \
            or stats.pushes.parked or stats.unmatched_lines
        # an idle cycle is not news: every 30 s per channel it would bury the lines that are
        (log.info if busy else log.debug)("channel_cycle", channel=lane.name, **line)
        lane.hooks.cycle_finished(channel=lane.name, stats=line)
        return stats

    def _poll_health(self, error: str | None) -> None:
        lane, now, expires = self.lane, utcnow(), self.lane.adapter.token_expires_at()
        with lane.store.write():
            channels.record_poll(lane.store, lane.name, error, now, token_expires_at=expires)
        self._health_metric()
        if error is None:
            metrics.LAST_POLL_OK.labels(lane.name).set(now.timestamp())
        if expires is not None:
            metrics.TOKEN_EXPIRY.labels(lane.name).set(expires.timestamp())

    def _health_metric(self) -> None:
        """The channel's combined health (poll, pushes, worker) as the metric shows it."""
        health = self.lane.store.scalar("SELECT health FROM channels WHERE name = ?", (self.lane.name,))
        metrics.channel_health(self.lane.name, health or "unknown")

    def close(self) -> None:
        self.lane.close()
