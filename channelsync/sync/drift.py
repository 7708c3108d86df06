"""The continuous drift check: read back what a channel shows, cheaply, all the time.

Every ``drift_check_interval`` seconds (and at once for listings a push asked to
have read) the lane reads, through the adapter's optional ``read_stock``, in the
platform's read batch size and within the channel's rate budget: first the
listings whose read was asked for (a call that may have applied, an absolute set
to verify, a refusal), then those pushed or sold since the last check, then the
longest unchecked, up to ``drift_check_max`` a check. A read is kept until the
order poll covers it (``listings.settle_reads``): only then can sales not yet
ingested be told from drift. Drift found is repaired by a push, and counted with
the SKU, the value seen and the value expected (``status``, ``/metrics``).

A full read of every listing stays with ``resync``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from channelsync.engine import channels, inventory, listings, outbox
from channelsync.sdk.errors import ChannelError
from channelsync.store import utcnow
from channelsync.sync.lane import Lane
from channelsync.sync.stopping import Interrupted
from channelsync.telemetry import metrics

log = structlog.get_logger("channelsync.sync.drift")


class DriftCheck:
    """One channel's check; the runner keeps one and calls ``read`` each cycle, ``settle`` after each poll."""

    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.last: datetime | None = None

    def due(self, now: datetime) -> bool:
        interval = self.lane.cfg.drift_check_interval
        return interval > 0 and (self.last is None or now - self.last >= timedelta(seconds=interval))

    def read(self, now: datetime | None = None, force: bool = False) -> int:
        """Read the listings worth reading now; returns how many were read."""
        lane = self.lane
        if not lane.adapter.reads_stock():
            return 0
        now = now or utcnow()
        periodic = force or self.due(now)
        since = (self.last or now - timedelta(seconds=max(lane.cfg.drift_check_interval, 1) * 2)) if periodic else None
        rows = listings.to_check(lane.store, lane.name, since=since, limit=lane.cfg.drift_check_max)
        if periodic:
            self.last = now
        size = max(1, lane.adapter.capabilities.stock_read_batch_size)
        read = 0
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            ids, items = [r["external_id"] for r in chunk], [r["item_id"] for r in chunk]
            if not self._read_chunk(chunk, ids, items):
                break
            read += len(chunk)
        return read

    def _read_chunk(self, chunk: list[dict], ids: list[str], items: list) -> bool:
        lane = self.lane
        # The read goes out without the lane's lock: this channel's pushes go on meanwhile (a
        # 50 ms read under it held every push that long). A push landing between the read and
        # its record would be taken for drift and repaired twice, so a SKU a push touched
        # meanwhile (started, on the wire, settled) is not recorded: the next check reads it.
        seen = lane.flights.snapshot(r["sku_code"] for r in chunk)
        began = utcnow()
        try:
            shown = lane.call(lambda ids=ids, items=items: lane.adapter.read_stock(ids, items))
        except Interrupted:  # stopping: not a failure of the channel's
            return False
        except ChannelError as exc:  # the next check tries again; pushes that wait keep waiting
            log.warning("drift_read_failed", channel=lane.name, error=str(exc))
            return False
        ended = utcnow()
        with lane.serial, lane.store.write():  # recorded in turn with this channel's ingests and settles
            moved = lane.flights.moved(seen)
            for r in chunk:
                if r["sku_code"] in moved:
                    continue
                if r["external_id"] in shown:
                    listings.begin_read(lane.store, lane.name, r["sku_code"], int(shown[r["external_id"]]),
                                        began, ended)
                else:
                    listings.read_missed(lane.store, lane.name, r["sku_code"])
                    log.warning("drift_read_missing", channel=lane.name, sku=r["sku_code"],
                                external_id=r["external_id"])
        return True


def settle(lane: Lane, source: str = "check") -> tuple[list[listings.Drift], int]:
    """Settle the reads the order poll now covers; repair and count the drift they show.
    Returns the drift and the stock pushes queued."""
    store, queued, drift, after = lane.store, 0, [], ""
    covered = channels.cursor(store, lane.name)
    if covered is None or not listings.reads_due(store, lane.name, covered):
        return [], 0
    try:  # a settle moves expected: not while a stock call of the channel is unsettled
        lane.flights.wait_clear(lane.stop)
    except Interrupted:
        return [], 0
    while True:  # a few hundred a transaction: a resync of 50,000 listings stays small in memory and in SQL
        with store.write():
            settled, found = listings.settle_reads(store, lane.name, covered, source, after=after)
            if found:  # only drift moved expected: elsewhere target and expected still agree as before
                queued += inventory.queue_stock(store, lane.config, [d.sku_code for d in found])
                for d in found:
                    # verified by a read soon after, as an absolute set is: a sale within the clock
                    # margin of the read counts as shown by it (erring towards showing less), so a
                    # repair may be off by that sale; the next read puts it right in seconds, not
                    # at the next drift_check_interval
                    listings.want_check(store, lane.name, d.sku_code, hold=False)
            outbox.release(store, lane.name, settled)  # pushes that waited for these reads go now
        drift.extend(found)
        if not settled:
            break
        after = settled[-1]
    for d in drift:
        metrics.DRIFT.labels(lane.name).inc()
        metrics.DRIFT_LAST.labels(lane.name, d.sku_code, "seen").set(d.seen)
        if d.expected is not None:
            metrics.DRIFT_LAST.labels(lane.name, d.sku_code, "expected").set(d.expected)
        log.warning("drift_found", channel=lane.name, sku=d.sku_code, seen=d.seen, expected=d.expected, source=source)
    if queued:
        lane.on_queued()  # a bundle or another channel may follow the repaired listing
    return drift, queued
