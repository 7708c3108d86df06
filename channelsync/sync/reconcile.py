"""Reconciliation: read what a channel really shows and queue only the differences.

Pages through the channel's listings with bounded memory (a few pages in hand,
one transaction per group of pages read in quick succession); links listings to
master SKUs by merchant code, reports the ones it cannot link (never guesses),
repairs drift, and queues publishing where the channel allows it. With
``dry_run`` each group's transaction is rolled back, so the report is exact and
nothing changes; the report lists each change (SKU, field, from, to), up to
``change_limit``.
An interrupted run resumes at the page where it stopped (``resume.py``).

Orders are polled before the read and again after it: a quantity read is kept as
a pending read until the poll covers it, so a sale the order poll had not seen
yet is not taken for drift (``listings.settle_reads``). Reads a later poll covers
(a channel with ``order_lag``, an order API that fails) settle in the daemon's
next cycles; the report counts them as ``pending``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import structlog

from channelsync.engine import channels, inventory, listings, outbox, pricing
from channelsync.sdk.errors import ChannelError
from channelsync.sdk.models import Listing
from channelsync.sdk.money import fen_to_yuan
from channelsync.store import utcnow
from channelsync.sync import paging, resume
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
    #: each change the run made (or, dry, would make): sku, field, from, to; capped at ``change_limit``
    changes: list[dict] = field(default_factory=list)
    changes_total: int = 0
    change_limit: int | None = 20
    resumed: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def change(self, sku: str, what: str, before, after, logger=log) -> None:
        logger.debug("resync_change", channel=self.channel, sku=sku, field=what, before=before, after=after,
                  dry_run=self.dry_run)
        self.changes_total += 1
        if self.change_limit is None or len(self.changes) < self.change_limit:
            self.changes.append({"sku": sku, "channel": self.channel, "field": what, "from": before, "to": after})


def resync(lane: Lane, what: Iterable[str] = WHAT, skus: Iterable[str] | None = None,
           dry_run: bool = False, progress: Callable[[int], None] = lambda n: None,
           change_limit: int | None = 20) -> ResyncReport:
    what = set(what)
    only = set(skus) if skus else None
    store, sig = lane.store, resume.signature(what, only)
    token, started, report, seen_codes = (None, utcnow(), None, set()) if dry_run else \
        resume.take(lane, sig, ResyncReport)
    report = report or ResyncReport(lane.name, dry_run)
    report.change_limit = change_limit
    report.resumed = token is not None
    if report.seen:
        progress(report.seen)  # the pages read before the interruption
    if not dry_run:
        ChannelRunner(lane).poll()  # orders first: what they explain is not drift
        with store.write():
            report.revived += outbox.revive_failed(store, lane.name)
    try:
        _pages(lane, token, what, only, report, seen_codes, progress, started, sig)
    except ChannelError as exc:
        if token is None or exc.retryable:
            raise  # the cursor stays: the next run resumes here
        log.warning("resync_cursor_refused", channel=lane.name, error=str(exc), note="starting over at page 1")
        resume.clear(lane)
        return resync(lane, what, skus, dry_run, progress, change_limit)
    _not_listed(lane, only, what, report, seen_codes, dry_run)
    if not dry_run:
        lane.keep_budget()
        _settle(lane, report)
        with store.write():
            channels.resynced(store, lane.name, utcnow())
            channels.save_resync_cursor(store, lane.name, None)  # done: the next run starts at page 1
        lane.on_queued()
    log.info("resync_finished", **{k: v for k, v in report.as_dict().items() if k not in ("drift_examples", "changes")})
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


def _pages(lane: Lane, token: str | None, what: set[str], only: set[str] | None, report: ResyncReport,
           seen_codes: set[str], progress: Callable[[int], None], started, sig: dict) -> None:
    read_from = [utcnow()]

    def fetch(tok):
        read_from[0] = utcnow()  # the page's quantities were read after this
        return lane.call(lambda: lane.adapter.list_listings(tok))

    pages = paging.pages(fetch, start=token)
    size = lane.adapter.capabilities.listing_page_size
    while True:
        # pages are read and recorded under the lane's lock: this channel's pushes wait for one
        # group of pages (see GROUP_SECONDS), not the whole resync, and none lands between a
        # page's read and its record
        with lane.serial:
            group, failed, done = _read_group(lane, pages, size, read_from)
            if group:
                _record_group(lane, group, what, only, report, seen_codes, started, sig)
        for _, found, _ in group:
            progress(len(found))
        if failed is not None:
            raise failed  # the pages read before it are recorded: the cursor is at the page that failed
        if done:
            return


#: Pages read in quick succession are recorded in one transaction, a group: with the in-process
#: fakes a page of 25 costs far less to read than to record, and a commit, a resume cursor and a
#: dozen statements per page were a fifth of a 100,000-SKU resync. A group ends at GROUP_LISTINGS
#: listings, or once GROUP_SECONDS went by reading it: over a network (a page read takes tens of
#: ms) each page is its own group, as before, and this channel's pushes wait no longer.
GROUP_LISTINGS = 250
GROUP_SECONDS = 0.02


def _read_group(lane: Lane, pages, size: int, read_from: list) -> tuple[list, Exception | None, bool]:
    """(the pages read: (page, its listings, when its read began), the error that stopped the
    reading or None, whether the last page was read)."""
    group: list = []
    listed, began = 0, time.monotonic()
    while listed < GROUP_LISTINGS and (not group or time.monotonic() - began < GROUP_SECONDS):
        try:
            page = next(pages, None)
            if page is None:
                return group, None, True
            # a page's detail calls go one by one under the budget, each with its own retries
            found = paging.resolve(page.items, lane.call, size=size)
        except Exception as exc:  # raised once the pages read before it are recorded
            return group, exc, False
        group.append((page, found, read_from[0]))
        listed += len(found)
    return group, None, False


def _record_group(lane: Lane, group: list, what: set[str], only: set[str] | None, report: ResyncReport,
                  seen_codes: set[str], started, sig: dict) -> None:
    store = lane.store
    # the group's listings at once (a few statements for all its pages), each with the time
    # its own page's read began
    found = [ls for _, listed, _ in group for ls in listed]
    starts = [began for _, listed, began in group for _ in listed]
    try:
        # a group's writes are all read again if lost (its cursor goes with them): its commit
        # need not wait for the disk (store.relaxed); 4,000 pages a channel at 100k did
        with store.relaxed(), store.write():
            for at in range(0, len(found), 5_000):  # IN-lists stay under SQLite's variable limit
                _page(lane, found[at:at + 5_000], what, only, report, seen_codes, starts[at:at + 5_000])
            report.seen += len(found)
            if report.dry_run:
                raise _Rollback
            resume.save(lane, group[-1][0].next_token, started, sig, report)
    except _Rollback:
        pass


def _page(lane: Lane, found: list[Listing], what: set[str], only: set[str] | None, report: ResyncReport,
          seen_codes: set[str], read_from: list) -> None:
    """A group of pages' listings (``read_from``: when each one's read began), each as ``_one``
    records it, with a few statements for them all where ``_one`` made a dozen per listing: their
    SKUs, listing rows and stock figures are read at once and their listing rows written with
    one statement each. Listings naming an external id twice go one by one: then the order of
    the writes decides."""
    exts = [ls.external_id for ls in found]
    if len(set(exts)) != len(exts):
        for listing, began in zip(found, read_from):
            _one(lane, listing, what, only, report, seen_codes, began)
        return
    store, name, cfg = lane.store, lane.name, lane.cfg
    master = _master(store, {ls.sku_code for ls in found if ls.sku_code})
    linked: list[Listing] = []
    starts = []
    for listing, began in zip(found, read_from):
        code = listing.sku_code
        if _unmatched(store, name, listing, code in master, seen_codes, report):
            continue
        seen_codes.add(code)
        if only is None or code in only:
            linked.append(listing)
            starts.append(began)
    if not linked:
        return
    listings.matched(store, name, *(ls.external_id for ls in linked))
    report.linked += len(linked)
    codes = [ls.sku_code for ls in linked]
    seen = listings.record_page(store, name, linked, reset_expected="stock" in what, read_from=starts)
    reads = inventory.Reads(store)  # valid for the page: it writes listings and the outbox, never stock
    if "stock" in what and report.dry_run:  # else queue_stock reads them (and the bundles they touch)
        reads.preload(codes, {tuple(cfg.warehouses)})
    for listing, s in zip(linked, seen):
        if s.new_link:
            report.new_links += 1
        elif s.drift is not None:  # as read; a real run counts drift once the poll covers the read (_settle)
            report.drift += 1
            if len(report.drift_examples) < 20:
                report.drift_examples.append({"sku": listing.sku_code, "expected": s.drift[0], "seen": s.drift[1]})
            if "stock" in what and report.dry_run:  # what settling the read would queue, if no order explains it
                report.queued["stock"] += int(inventory.channel_target(store, cfg, listing.sku_code, reads)
                                              != listing.quantity)
    targets: dict[tuple[str, str], int] = {}  # what queue_stock computed: each target once
    if "stock" in what and not report.dry_run:
        report.queued["stock"] += inventory.queue_stock(store, lane.config, codes, reads=reads, channel=name,
                                                        targets=targets)
    prices = "price" in what and lane.adapter.capabilities.listing_prices
    shelves = "listing" in what and lane.adapter.capabilities.can_set_shelf
    now, debug = utcnow(), log.bind()  # bound once: a lazy logger binds on every call, even filtered out
    for listing in linked:
        code = listing.sku_code
        status, base_price, cost, product_status = master[code]
        if "stock" in what:
            target = targets.get((name, code))
            if target is None:  # a dry run, or a channel that is not enabled
                target = inventory.channel_target(store, cfg, code, reads)
            if listing.quantity is not None and target != listing.quantity:
                report.change(code, "stock", listing.quantity, target, debug)
        if prices and listing.price is not None:
            price = pricing.decide_price(lane.config, cfg, code, base_price, cost, now, debug)
            if price != listing.price:
                outbox.queue(store, name, code, "price")
                report.queued["price"] += 1
                report.change(code, "price", fen_to_yuan(listing.price), fen_to_yuan(price), debug)
        if shelves and listings.shelf_rule(status, product_status) != listing.on_shelf:
            outbox.queue(store, name, code, "shelf")
            report.queued["shelf"] += 1
            report.change(code, "shelf", _shelf(listing.on_shelf), _shelf(not listing.on_shelf), debug)


def _master(store, codes: set[str]) -> dict[str, tuple]:
    """The page's SKUs as the catalog has them, (status, base price, cost, product status) by
    code (a code missing is not a master SKU); tuples, not a dict per row."""
    if not codes:
        return {}
    rows = store.execute("SELECT s.code, s.status, s.base_price, s.cost, p.status FROM skus s LEFT JOIN products p "
                         f"ON p.code = s.product_code WHERE s.code IN ({','.join('?' * len(codes))})", tuple(codes))
    return {code: rest for code, *rest in rows}


def _unmatched(store, name: str, listing: Listing, known: bool, seen_codes: set[str],
               report: ResyncReport) -> bool:
    """Record the listing as linking to no master SKU when it cannot (the reason said); True if so."""
    code = listing.sku_code
    if code and known and code not in seen_codes:
        return False
    reason = ("no merchant code" if not code else
              "merchant code listed twice on this channel" if code in seen_codes else "unknown merchant code")
    listings.record_unmatched(store, name, listing, reason)
    report.unmatched += 1
    return True


def _one(lane: Lane, listing: Listing, what: set[str], only: set[str] | None,
         report: ResyncReport, seen_codes: set[str], read_from=None) -> None:
    store, name = lane.store, lane.name
    code = listing.sku_code
    known = bool(code) and store.scalar("SELECT 1 FROM skus WHERE code = ?", (code,)) is not None
    if _unmatched(store, name, listing, known, seen_codes, report):
        return
    seen_codes.add(code)
    if only is not None and code not in only:
        return
    listings.matched(store, name, listing.external_id)
    report.linked += 1
    seen = listings.record_seen(store, name, code, listing, reset_expected="stock" in what, read_from=read_from)
    if seen.new_link:
        report.new_links += 1
    elif seen.drift is not None:  # as read; a real run counts drift once the poll covers the read (_settle)
        report.drift += 1
        if len(report.drift_examples) < 20:
            report.drift_examples.append({"sku": code, "expected": seen.drift[0], "seen": seen.drift[1]})
    reads = inventory.Reads(store)  # the SKU's figures, read once for every channel's target
    if "stock" in what and report.dry_run and seen.drift is not None:
        # what settling the read would queue, if no order explains the difference
        report.queued["stock"] += int(inventory.channel_target(store, lane.cfg, code, reads) != listing.quantity)
    elif "stock" in what:
        report.queued["stock"] += inventory.queue_stock(store, lane.config, [code], reads=reads, channel=name)
    if "stock" in what:
        target = inventory.channel_target(store, lane.cfg, code, reads)
        if listing.quantity is not None and target != listing.quantity:
            report.change(code, "stock", listing.quantity, target)
    if "price" in what and lane.adapter.capabilities.listing_prices and listing.price is not None:
        decision = pricing.price_for(store, lane.config, lane.cfg, code, utcnow())
        if decision is not None and decision.price != listing.price:
            outbox.queue(store, name, code, "price")
            report.queued["price"] += 1
            report.change(code, "price", fen_to_yuan(listing.price), fen_to_yuan(decision.price))
    if "listing" in what and lane.adapter.capabilities.can_set_shelf:
        if listings.wanted_on_shelf(store, code) != listing.on_shelf:
            outbox.queue(store, name, code, "shelf")
            report.queued["shelf"] += 1
            report.change(code, "shelf", _shelf(listing.on_shelf), _shelf(not listing.on_shelf))


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
        for code in missing:
            report.change(code, "listing", None, "publish")


def _shelf(on: bool) -> str:
    return "on shelf" if on else "off shelf"
