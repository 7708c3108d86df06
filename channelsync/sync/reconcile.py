"""Reconciliation: read what a channel really shows and queue only the differences.

Pages through the channel's listings with bounded memory (one page in hand,
one transaction per page); links listings to master SKUs by merchant code,
reports the ones it cannot link (never guesses), repairs drift, and queues
publishing where the channel allows it. With ``dry_run`` each page's
transaction is rolled back, so the report is exact and nothing changes.

Orders are polled before the read and again after it: a quantity read is kept as
a pending read until the poll covers it, so a sale the order poll had not seen
yet is not taken for drift (``listings.settle_reads``). Reads a later poll covers
(a channel with ``order_lag``, an order API that fails) settle in the daemon's
next cycles; the report counts them as ``pending``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import structlog

from channelsync.engine import channels, inventory, listings, outbox, pricing
from channelsync.sdk.models import Listing
from channelsync.store import utcnow
from channelsync.sync import paging
from channelsync.sync.lane import Lane
from channelsync.sync.runner import ChannelRunner

log = structlog.get_logger("channelsync.sync.reconcile")

WHAT = ("stock", "price", "listing")


class _Rollback(Exception):
    pass


@dataclass
class ResyncReport:
    channel: str
    dry_run: bool
    seen: int = 0
    linked: int = 0
    new_links: int = 0
    drift: int = 0
    unmatched: int = 0
    not_listed: int = 0
    revived: int = 0
    pending: int = 0
    queued: dict[str, int] = field(default_factory=lambda: {"stock": 0, "price": 0, "shelf": 0, "publish": 0})
    drift_examples: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def resync(lane: Lane, what: Iterable[str] = WHAT, skus: Iterable[str] | None = None,
           dry_run: bool = False, progress: Callable[[int], None] = lambda n: None) -> ResyncReport:
    what = set(what)
    only = set(skus) if skus else None
    report = ResyncReport(lane.name, dry_run)
    store = lane.store
    if not dry_run:
        ChannelRunner(lane).poll()  # orders first: what they explain is not drift
        with store.write():
            report.revived = outbox.revive_failed(store, lane.name)
    seen_codes: set[str] = set()
    started = [utcnow()]

    def fetch(tok):
        started[0] = utcnow()
        return lane.call(lambda: lane.adapter.list_listings(tok))

    for page in paging.pages(fetch):
        try:
            with store.write():
                for listing in page.items:
                    _one(lane, listing, what, only, report, seen_codes, started[0], dry_run)
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        report.seen += len(page.items)
        progress(len(page.items))
    _not_listed(lane, only, what, report, seen_codes, dry_run)
    if not dry_run:
        _settle(lane, report)
        with store.write():
            channels.resynced(store, lane.name, utcnow())
        lane.on_queued()
    log.info("resync_finished", **{k: v for k, v in report.as_dict().items() if k != "drift_examples"})
    return report


def _settle(lane: Lane, report: ResyncReport) -> None:
    """Poll again so the reads just taken are covered, and count the drift they show."""
    report.drift, report.drift_examples = 0, []
    stats = ChannelRunner(lane).poll()
    report.queued["stock"] += stats.pushes_queued
    for d in stats.drift:
        report.drift += 1
        if len(report.drift_examples) < 20:
            report.drift_examples.append({"sku": d.sku_code, "expected": d.expected, "seen": d.seen})
    report.pending = listings.pending_reads(lane.store, lane.name)


def _one(lane: Lane, listing: Listing, what: set[str], only: set[str] | None,
         report: ResyncReport, seen_codes: set[str], read_from=None, dry_run: bool = False) -> None:
    store, name = lane.store, lane.name
    code = listing.sku_code
    known = bool(code) and store.scalar("SELECT 1 FROM skus WHERE code = ?", (code,)) is not None
    if not known or code in seen_codes:
        reason = ("no merchant code" if not code else
                  "merchant code listed twice on this channel" if code in seen_codes else "unknown merchant code")
        listings.record_unmatched(store, name, listing, reason)
        report.unmatched += 1
        return
    seen_codes.add(code)
    if only is not None and code not in only:
        return
    listings.matched(store, name, listing.external_id)
    report.linked += 1
    seen = listings.record_seen(store, name, code, listing, reset_expected="stock" in what, read_from=read_from)
    if seen.new_link:
        report.new_links += 1
    elif seen.drift is not None:
        report.drift += 1
        if len(report.drift_examples) < 20:
            report.drift_examples.append({"sku": code, "expected": seen.drift[0], "seen": seen.drift[1]})
    if "stock" in what and dry_run and seen.drift is not None:
        # what settling the read would queue, if no order explains the difference
        report.queued["stock"] += int(inventory.channel_target(store, lane.cfg, code) != listing.quantity)
    elif "stock" in what:
        report.queued["stock"] += inventory.queue_stock(store, lane.config, [code])
    if "price" in what and listing.price is not None:
        decision = pricing.price_for(store, lane.config, lane.cfg, code, utcnow())
        if decision is not None and decision.price != listing.price:
            outbox.queue(store, name, code, "price")
            report.queued["price"] += 1
    if "listing" in what and lane.adapter.capabilities.can_set_shelf:
        if listings.wanted_on_shelf(store, code) != listing.on_shelf:
            outbox.queue(store, name, code, "shelf")
            report.queued["shelf"] += 1


def _not_listed(lane: Lane, only: set[str] | None, what: set[str], report: ResyncReport,
                seen_codes: set[str], dry_run: bool) -> None:
    store = lane.store
    rows = store.query("SELECT s.code FROM skus s WHERE s.status = 'active' AND NOT EXISTS "
                       "(SELECT 1 FROM listings l WHERE l.channel = ? AND l.sku_code = s.code)", (lane.name,))
    missing = [r["code"] for r in rows if (only is None or r["code"] in only) and r["code"] not in seen_codes]
    report.not_listed = len(missing)
    publish = lane.cfg.publish_new and lane.adapter.capabilities.can_publish and "listing" in what
    if publish and missing and not dry_run:
        with store.write():
            for code in missing:
                outbox.queue(store, lane.name, code, "publish")
    if publish:
        report.queued["publish"] = len(missing)
