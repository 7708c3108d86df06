"""Reconciliation: read what a channel really shows and queue only the differences.

Pages through the channel's listings with bounded memory (one page in hand,
one transaction per page); links listings to master SKUs by merchant code,
reports the ones it cannot link (never guesses), repairs drift, and queues
publishing where the channel allows it. With ``dry_run`` each page's
transaction is rolled back, so the report is exact and nothing changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import structlog

from channelsync.engine import inventory, outbox

from channelsync.sync import paging
from channelsync.sync.runner import ChannelRunner
from channelsync.sdk.models import Listing
from channelsync.store import ts, utcnow

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
    queued: dict[str, int] = field(default_factory=lambda: {"stock": 0, "price": 0, "shelf": 0, "publish": 0})
    drift_examples: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def resync(runner: ChannelRunner, what: Iterable[str] = WHAT, skus: Iterable[str] | None = None,
           dry_run: bool = False, progress: Callable[[int], None] = lambda n: None) -> ResyncReport:
    what = set(what)
    only = set(skus) if skus else None
    report = ResyncReport(runner.name, dry_run)
    store = runner.store
    if not dry_run:
        runner.poll()  # orders first: what they explain is not drift
        with store.write():
            report.revived = outbox.revive_failed(store, runner.name)
    seen_codes: set[str] = set()
    for page in paging.pages(lambda tok: runner.call_with_retry(lambda: runner.channel.list_listings(tok))):
        try:
            with store.write():
                for listing in page.items:
                    _one(runner, listing, what, only, report, seen_codes)
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        report.seen += len(page.items)
        progress(len(page.items))
    _not_listed(runner, only, what, report, seen_codes, dry_run)
    if not dry_run:
        with store.write():
            store.execute("UPDATE channels SET last_resync_at = ? WHERE name = ?", (ts(utcnow()), runner.name))
        runner.on_queued()
    log.info("resync_finished", **{k: v for k, v in report.as_dict().items() if k != "drift_examples"})
    return report


def _one(runner: ChannelRunner, listing: Listing, what: set[str], only: set[str] | None,
         report: ResyncReport, seen_codes: set[str]) -> None:
    store, name, now = runner.store, runner.name, ts(utcnow())
    code = listing.sku_code
    sku = store.one("SELECT code, status FROM skus WHERE code = ?", (code,)) if code else None
    if sku is None or code in seen_codes:
        reason = ("no merchant code" if not code else
                  "merchant code listed twice on this channel" if code in seen_codes else "unknown merchant code")
        store.execute(
            "INSERT INTO unmatched_listings (channel, external_id, item_id, sku_code, title, reason, seen_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (channel, external_id) DO UPDATE SET sku_code = excluded.sku_code, "
            "title = excluded.title, reason = excluded.reason, seen_at = excluded.seen_at",
            (name, listing.external_id, listing.item_id, code, listing.title, reason, now))
        report.unmatched += 1
        return
    seen_codes.add(code)
    if only is not None and code not in only:
        return
    store.execute("DELETE FROM unmatched_listings WHERE channel = ? AND external_id = ?", (name, listing.external_id))
    row = store.one("SELECT * FROM listings WHERE channel = ? AND sku_code = ?", (name, code))
    report.linked += 1
    if row is None:
        # a stale row may hold this external id under another code: the platform's word wins
        store.execute("DELETE FROM listings WHERE channel = ? AND external_id = ?", (name, listing.external_id))
        store.execute(
            "INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, "
            "seen_on_shelf, seen_title, seen_at, linked_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (name, code, listing.external_id, listing.item_id, listing.quantity, listing.quantity, listing.price,
             int(listing.on_shelf), listing.title, now, now))
        report.new_links += 1
    else:
        if listing.quantity is not None and row["expected"] != listing.quantity and "stock" in what:
            report.drift += 1
            if len(report.drift_examples) < 20:
                report.drift_examples.append({"sku": code, "expected": row["expected"], "seen": listing.quantity})
        expected = listing.quantity if "stock" in what and listing.quantity is not None else row["expected"]
        store.execute(
            "UPDATE listings SET external_id = ?, item_id = ?, expected = ?, seen_qty = ?, seen_price = ?, "
            "seen_on_shelf = ?, seen_title = ?, seen_at = ? WHERE channel = ? AND sku_code = ?",
            (listing.external_id, listing.item_id, expected, listing.quantity, listing.price, int(listing.on_shelf),
             listing.title, now, name, code))
    if "stock" in what:
        report.queued["stock"] += inventory.queue_stock(store, runner.config, [code])
    if "price" in what and listing.price is not None:
        decision = runner.price(code, utcnow())
        if decision is not None and decision.price != listing.price:
            outbox.queue(store, name, code, "price")
            report.queued["price"] += 1
    if "listing" in what and runner.channel.capabilities.can_set_shelf:
        wanted_on = sku["status"] == "active" and _product_active(runner, code)
        if wanted_on != listing.on_shelf:
            outbox.queue(store, name, code, "shelf")
            report.queued["shelf"] += 1


def _product_active(runner: ChannelRunner, code: str) -> bool:
    return runner.store.scalar("SELECT p.status FROM skus s JOIN products p ON p.code = s.product_code "
                               "WHERE s.code = ?", (code,)) == "active"


def _not_listed(runner: ChannelRunner, only: set[str] | None, what: set[str], report: ResyncReport,
                seen_codes: set[str], dry_run: bool) -> None:
    store = runner.store
    rows = store.query("SELECT s.code FROM skus s WHERE s.status = 'active' AND NOT EXISTS "
                       "(SELECT 1 FROM listings l WHERE l.channel = ? AND l.sku_code = s.code)", (runner.name,))
    missing = [r["code"] for r in rows if (only is None or r["code"] in only) and r["code"] not in seen_codes]
    report.not_listed = len(missing)
    publish = runner.cfg.publish_new and runner.channel.capabilities.can_publish and "listing" in what
    if publish and missing and not dry_run:
        with store.write():
            for code in missing:
                outbox.queue(store, runner.name, code, "publish")
    if publish:
        report.queued["publish"] = len(missing)
