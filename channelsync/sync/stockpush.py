"""The stock side of a push: what to send for each stock mode, and what its answer means.

The rules themselves (``stock_policy.Policy``, ``stock_policy.absolute_value``) are in
``engine/stock_policy.py``, ``expected`` in ``engine/listings.py``; this module applies
them to outbox rows:

* a row whose listing waits for a read (``listings.held``) is held, not sent;
* a call that may have applied (a timeout, a lost answer, a crash between send and
  settle) is sent again only where that cannot apply twice (an idempotency key, a
  compare-and-set); elsewhere the listing is read and settled against the orders
  first, and a fresh difference computed;
* an absolute channel that can be read is read just before the set, and the set
  checked against the next read.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from channelsync.engine import inventory, listings, outbox, stock_policy
from channelsync.sdk.errors import ChannelError, NotFound, StockConflict
from channelsync.sdk.models import StockUpdate
from channelsync.sync.lane import Lane

#: a listing-level refusal (WeChat "stock not enough to subtract") or a compare-and-set
#: conflict reads the platform before the next try; this many tries, then the row parks
CONFLICT_TRIES = 5


def read_current(lane: Lane, rows: list[dict]) -> dict[str, int]:
    """What an absolute channel that can be read shows now for the rows' listings
    (empty for other channels). Raises ``ChannelError`` when the read fails."""
    policy = lane.policy
    if policy.mode != "absolute" or not policy.reads:
        return {}
    found = [ls for row in rows if (ls := listings.get(lane.store, lane.name, row["sku_code"])) is not None
             and not listings.held(ls)]
    size = max(1, lane.adapter.capabilities.stock_read_batch_size)
    current: dict[str, int] = {}
    for start in range(0, len(found), size):
        chunk = found[start:start + size]
        ids, items = [ls["external_id"] for ls in chunk], [ls["item_id"] for ls in chunk]
        current.update(lane.call(lambda ids=ids, items=items: lane.adapter.read_stock(ids, items)))
    return current


def prepare(lane: Lane, row: dict, listing: dict, now: datetime, current: dict[str, int],
            targets: dict[str, int], reads: inventory.Reads | None = None) -> StockUpdate | None:
    """The update for one stock row, or None when it is settled, held or parked here.
    ``targets`` receives the target each update stands for; ``reads``: the batch's stock reads."""
    store, policy, sku = lane.store, lane.policy, row["sku_code"]
    if listings.held(listing):
        outbox.hold(store, row, now)
        return None
    if row["inflight_key"]:  # a call that may have applied
        if policy.resend_safe:  # the platform cannot apply it twice: send exactly it again
            targets[sku] = row["inflight_target"]
            return StockUpdate(sku, listing["external_id"], listing["item_id"], row["inflight_target"],
                               row["inflight_delta"], row["inflight_target"] - row["inflight_delta"],
                               row["inflight_key"])
        # never blindly again: read the platform, settle the read against the orders, then compute afresh
        outbox.clear_in_flight(store, row)
        listings.want_check(store, lane.name, sku, hold=True, at=now)
        outbox.hold(store, row, now)
        return None
    wanted = inventory.channel_target(store, lane.cfg, sku, reads)
    expected = listing["expected"]
    if expected == wanted:
        outbox.done(store, row)
        return None
    if expected is None and not policy.blind:
        if policy.reads:
            listings.want_check(store, lane.name, sku, hold=True, at=now)
            outbox.hold(store, row, now)
        else:
            outbox.park(store, row, "the channel's current quantity is unknown; run `channelsync resync`", now)
        return None
    quantity = wanted
    if policy.mode == "absolute" and policy.reads:
        quantity = stock_policy.absolute_value(wanted, expected, current.get(listing["external_id"]))
    delta = quantity - (expected or 0)
    key = uuid.uuid4().hex[:20]
    if policy.tracks_calls:
        outbox.mark_in_flight(store, row, key, wanted, delta)
    targets[sku] = wanted
    return StockUpdate(sku, listing["external_id"], listing["item_id"], quantity, delta, expected, key)


def settled(lane: Lane, row: dict, update: StockUpdate, targets: dict[str, int], now: datetime) -> int | None:
    """The platform accepted ``update``: record what it shows now; returns the listing's new
    ``expected`` (None: no longer listed)."""
    policy, sku = lane.policy, row["sku_code"]
    sets = policy.mode != "increment"
    expected = listings.stock_pushed(lane.store, lane.name, sku, absolute=sets, delta=update.delta, at=now,
                                     quantity=targets.get(sku, update.quantity) if sets else update.quantity,
                                     sent=update.quantity)
    outbox.clear_in_flight(lane.store, row)
    if policy.mode == "absolute" and policy.reads:
        # a sale between the read and the set was erased by it: the next read finds it
        listings.want_check(lane.store, lane.name, sku, hold=False, at=now)
    return expected


def refused(lane: Lane, row: dict, error: ChannelError, now: datetime) -> bool:
    """A permanent refusal that a read may explain (a compare-and-set conflict, a
    subtract the platform says it cannot make): read first, then try again. True
    when the row was kept for that; False to park it as usual."""
    if isinstance(error, NotFound) or row["attempts"] + 1 >= CONFLICT_TRIES:
        return False
    if not isinstance(error, StockConflict) and (not lane.policy.reads or row["attempts"] > 0):
        return False
    outbox.clear_in_flight(lane.store, row)
    listings.want_check(lane.store, lane.name, row["sku_code"], hold=True, at=now)
    outbox.retry_later(lane.store, row, 0.0, str(error), now)
    return True


def retrying(lane: Lane, row: dict, error: ChannelError, now: datetime) -> None:
    """A retryable failure that certainly did not apply, seen twice in a row (WeChat's
    "stock not enough to subtract" is one): ``expected`` may be what is wrong, so the
    next drift check reads the listing (without holding the push)."""
    if not error.maybe_applied and row["attempts"] >= 1 and lane.policy.reads:
        listings.want_check(lane.store, lane.name, row["sku_code"], hold=False, at=now)
