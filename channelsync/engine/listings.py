"""Listings: the one writer of what each channel shows, and of what we believe it shows.

A listing maps (channel, SKU) to the platform's ids and keeps three facts:

* ``expected`` — what the platform should show now. It is the heart of the
  oversell rule (see the design's "Telling a channel its quantity"): a push
  sends ``target - expected``, so it must move only where this module moves it:
  set by a successful push, lowered by the channel's own orders as they are
  ingested, raised again when such an order is put back, and reset to what the
  platform really shows by reconciliation.
* ``pushed_*`` — what we last told the platform.
* ``seen_*`` — what the platform last showed us.

Every other module reads the table; none writes it. Listings that link to no
master SKU are kept here too, in ``unmatched_listings``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import inventory, pricing
from channelsync.sdk.models import Listing, ListingContent
from channelsync.store import Store, ts, utcnow


def get(store: Store, channel: str, sku_code: str) -> dict | None:
    """The listing row of ``sku_code`` on ``channel``, or None when it is not listed there."""
    return store.one("SELECT * FROM listings WHERE channel = ? AND sku_code = ?", (channel, sku_code))


def expected(store: Store, channel: str, sku_code: str) -> int | None:
    """What the platform should be showing now (None: unknown, or not listed)."""
    return store.scalar("SELECT expected FROM listings WHERE channel = ? AND sku_code = ?", (channel, sku_code))


# --- the channel's own orders ------------------------------------------------
def lower_expected(store: Store, channel: str, sku_code: str, units: int, absolute: bool = False) -> None:
    """The platform took ``units`` off by itself (a sale; negative: it put them back).

    A platform shows no less than 0: a decrement that raced a sale was floored
    there, so a negative ``expected`` would later push sold units back on sale.
    An absolute-only platform may have had a sale erased by our last set, so its
    own orders cannot tell what it shows now: ``expected`` becomes unknown and the
    target is set again right after the ingest.
    """
    if absolute:
        store.execute("UPDATE listings SET expected = NULL WHERE channel = ? AND sku_code = ?", (channel, sku_code))
        return
    store.execute("UPDATE listings SET expected = MAX(0, expected - ?) WHERE channel = ? AND sku_code = ? "
                  "AND expected IS NOT NULL", (units, channel, sku_code))


# --- pushes that succeeded ---------------------------------------------------
def stock_pushed(store: Store, channel: str, sku_code: str, *, absolute: bool, quantity: int, delta: int,
                 at: datetime) -> None:
    """A stock push was accepted: the platform now shows ``quantity`` (absolute set) or
    what it showed plus ``delta`` (increment)."""
    store.execute(
        "UPDATE listings SET expected = CASE WHEN ? OR expected IS NULL THEN ? ELSE expected + ? END, "
        "pushed_qty = ?, pushed_at = ? WHERE channel = ? AND sku_code = ?",
        (absolute, quantity, delta, quantity, ts(at), channel, sku_code))


def price_pushed(store: Store, channel: str, sku_code: str, price: int) -> None:
    """A price push was accepted: the platform now shows ``price``."""
    store.execute("UPDATE listings SET pushed_price = ?, seen_price = ? WHERE channel = ? AND sku_code = ?",
                  (price, price, channel, sku_code))


def shelf_pushed(store: Store, channel: str, sku_code: str, on_shelf: bool) -> None:
    """A shelf push was accepted: the listing is now on (or off) the shelf."""
    store.execute("UPDATE listings SET seen_on_shelf = ? WHERE channel = ? AND sku_code = ?",
                  (int(on_shelf), channel, sku_code))


def link_published(store: Store, channel: str, sku_code: str, published: list[Listing]) -> None:
    """Listings the platform created from master data: linked as it reports them."""
    now = ts(utcnow())
    for ls in published:
        store.execute(
            "INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, "
            "seen_on_shelf, linked_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (channel, sku_code) DO NOTHING",
            (channel, ls.sku_code or sku_code, ls.external_id, ls.item_id, ls.quantity, ls.quantity, ls.price,
             int(ls.on_shelf), now))


# --- what reconciliation reads on the platform --------------------------------
@dataclass(frozen=True)
class Seen:
    """The outcome of recording one listing as the platform shows it."""

    new_link: bool
    #: (expected before, quantity seen) when they differed and stock is being reconciled
    drift: tuple[int | None, int] | None = None


def record_seen(store: Store, channel: str, sku_code: str, listing: Listing, *, reset_expected: bool) -> Seen:
    """Link ``listing`` to ``sku_code`` (the platform's word on ids wins) and record what it
    shows; with ``reset_expected`` its quantity becomes ``expected``, repairing drift."""
    now = ts(utcnow())
    row = get(store, channel, sku_code)
    if row is None:
        # a stale row may hold this external id under another code
        store.execute("DELETE FROM listings WHERE channel = ? AND external_id = ?", (channel, listing.external_id))
        store.execute(
            "INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, "
            "seen_on_shelf, seen_title, seen_at, linked_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (channel, sku_code, listing.external_id, listing.item_id, listing.quantity, listing.quantity,
             listing.price, int(listing.on_shelf), listing.title, now, now))
        return Seen(new_link=True)
    drift = None
    if reset_expected and listing.quantity is not None and row["expected"] != listing.quantity:
        drift = (row["expected"], listing.quantity)
    new_expected = listing.quantity if reset_expected and listing.quantity is not None else row["expected"]
    store.execute(
        "UPDATE listings SET external_id = ?, item_id = ?, expected = ?, seen_qty = ?, seen_price = ?, "
        "seen_on_shelf = ?, seen_title = ?, seen_at = ? WHERE channel = ? AND sku_code = ?",
        (listing.external_id, listing.item_id, new_expected, listing.quantity, listing.price, int(listing.on_shelf),
         listing.title, now, channel, sku_code))
    return Seen(new_link=False, drift=drift)


def record_unmatched(store: Store, channel: str, listing: Listing, reason: str) -> None:
    """A listing that links to no master SKU: reported (``reason`` says why), never guessed."""
    store.execute(
        "INSERT INTO unmatched_listings (channel, external_id, item_id, sku_code, title, reason, seen_at) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (channel, external_id) DO UPDATE SET sku_code = excluded.sku_code, "
        "title = excluded.title, reason = excluded.reason, seen_at = excluded.seen_at",
        (channel, listing.external_id, listing.item_id, listing.sku_code, listing.title, reason, ts(utcnow())))


def matched(store: Store, channel: str, external_id: str) -> None:
    """The listing links now: it is no longer reported as unmatched."""
    store.execute("DELETE FROM unmatched_listings WHERE channel = ? AND external_id = ?", (channel, external_id))


# --- what a listing should say ------------------------------------------------
def content(store: Store, config: Config, cfg: ChannelConfig, sku_code: str,
            listing: dict | None = None) -> ListingContent | None:
    """The master data a listing push or a publish sends (None: no such SKU)."""
    row = store.one(
        "SELECT s.code, s.product_code, s.title AS sku_title, s.attributes, s.status AS sku_status, "
        "p.title, p.description, p.status FROM skus s JOIN products p ON p.code = s.product_code WHERE s.code = ?",
        (sku_code,))
    if row is None:
        return None
    on_shelf = _on_shelf(row["sku_status"], row["status"])
    decision = pricing.price_for(store, config, cfg, sku_code, utcnow())
    return ListingContent(
        sku_code=sku_code, product_code=row["product_code"], title=row["sku_title"] or row["title"],
        description=row["description"], on_shelf=on_shelf, price=decision.price if decision else None,
        quantity=inventory.channel_target(store, cfg, sku_code), attributes=json.loads(row["attributes"]),
        external_id=listing["external_id"] if listing else None, item_id=listing["item_id"] if listing else None)


def wanted_on_shelf(store: Store, sku_code: str) -> bool:
    """Whether the SKU's listing belongs on the shelf now (False for an unknown SKU)."""
    row = store.one("SELECT s.status AS sku_status, p.status FROM skus s JOIN products p ON p.code = s.product_code "
                    "WHERE s.code = ?", (sku_code,))
    return row is not None and _on_shelf(row["sku_status"], row["status"])


def _on_shelf(sku_status: str, product_status: str) -> bool:
    """The one shelf rule: on while the SKU and its product are both active."""
    return sku_status == "active" and product_status == "active"
