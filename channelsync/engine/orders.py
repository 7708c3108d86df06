"""Order ingestion and the order state machine.

Orders are upserted by (channel, external id) and only *forward* transitions
are applied, so re-reading an order (overlapping polls, a retried page, a
restart) changes nothing. Two flags on each order make every effect happen
exactly once:

* ``held``    — the channel's own number has these units taken off, so the
                listing's ``expected`` was lowered. Set on payment; cleared by a
                cancel/refund before shipment (the platform puts units back).
* ``shipped`` — the on-hand decrease is in the ledger.

"Reserved" is not stored: it is derived from orders in state ``paid``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import channels, inventory, listings
from channelsync.sdk.errors import UserError
from channelsync.sdk.models import Order, OrderStatus
from channelsync.store import Store, ts, utcnow

S = OrderStatus
# which states may follow which: anything else is a stale read and ignored
FORWARD = {
    None: set(S),
    S.NEW: {S.PAID, S.SHIPPED, S.COMPLETED, S.CANCELLED, S.REFUNDED},
    S.PAID: {S.SHIPPED, S.COMPLETED, S.CANCELLED, S.REFUNDED},
    S.SHIPPED: {S.COMPLETED, S.REFUNDED},
    S.COMPLETED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}


@dataclass
class IngestResult:
    changed: list[tuple[Order, str | None]] = field(default_factory=list)  # (order, previous status)
    skus: set[str] = field(default_factory=set)
    unmatched_lines: int = 0
    pushes_queued: int = 0


def ingest(store: Store, config: Config, cfg: ChannelConfig, orders: Sequence[Order],
           cursor: datetime | None = None, now: datetime | None = None, absolute: bool = False) -> IngestResult:
    """Apply ``orders`` and (if given) move the channel's cursor, in one transaction,
    then queue the stock pushes the changes call for.

    ``absolute``: the channel only takes absolute quantities. A sale that landed just
    before our last absolute set was erased by it, so its own orders cannot tell what
    the platform shows now: the listing is marked unknown and the target is set again
    right after this ingest, as the design asks for such platforms.
    """
    now = now or utcnow()
    result = IngestResult()
    with store.write():
        for order in orders:
            _apply(store, cfg, order, now, result, absolute)
        if cursor is not None:
            channels.move_cursor(store, cfg.name, cursor)
        if result.skus:
            result.pushes_queued = inventory.queue_stock(store, config, result.skus, now)
    return result


def unchanged(store: Store, channel: str, orders: Sequence[Order]) -> set[str]:
    """External ids of ``orders`` stored already in the same state: ingesting them is a no-op
    (a state never follows itself), so a re-read overlap is sifted before taking any lock."""
    same: set[str] = set()
    by_id = {o.external_id: o.status.value for o in orders}
    ids = list(by_id)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        rows = store.execute(f"SELECT external_id, status FROM orders WHERE channel = ? AND external_id IN "
                             f"({','.join('?' * len(chunk))})", (channel, *chunk))
        same.update(ext for ext, status in rows if by_id[ext] == status)
    return same


def _apply(store: Store, cfg: ChannelConfig, order: Order, now: datetime, result: IngestResult,
           absolute: bool = False) -> None:
    row = store.one("SELECT * FROM orders WHERE channel = ? AND external_id = ?", (cfg.name, order.external_id))
    before = S(row["status"]) if row else None
    if order.status not in FORWARD[before]:
        return
    if row is None:
        order_id, unmatched = _insert(store, cfg, order, now)
        result.unmatched_lines += unmatched
        held, shipped = 0, 0
    else:
        order_id, held, shipped = row["id"], row["held"], row["shipped"]
    lines = store.query("SELECT sku_code, quantity FROM order_lines WHERE order_id = ? AND sku_code IS NOT NULL",
                        (order_id,))
    ref = f"{cfg.name}:{order.external_id}"
    if row is None and order.status in (S.CANCELLED, S.REFUNDED):
        # Seen only once it was closed: replay it through "paid". If it was paid, the
        # platform's sale may have been absorbed by a decrement it floored at 0, and
        # the put-back is then real; replaying makes that exact. If it never was, the
        # clamp below can only overstate expected, which under-shows, never oversells.
        for line in lines:
            listings.lower_expected(store, cfg.name, line["sku_code"], line["quantity"], absolute)
        held = 1

    now_shipped = 1 if order.status in (S.SHIPPED, S.COMPLETED) or shipped or order.shipped else 0
    now_held = _held_after(order.status, held, now_shipped)
    for line in lines:
        sku, qty = line["sku_code"], line["quantity"]
        if now_held != held:  # the platform took these units off (or put them back) on its own
            listings.lower_expected(store, cfg.name, sku, (now_held - held) * qty, absolute)
        if now_shipped and not shipped:
            inventory.consume(store, sku, qty, cfg.warehouses, "shipment", ref)
        if order.status == S.REFUNDED and now_shipped and cfg.restock_on_return:
            inventory.restock(store, sku, qty, cfg.warehouses, ref)
        result.skus.add(sku)
    store.execute(
        "UPDATE orders SET status = ?, platform_status = ?, modified_at = ?, updated_at = ?, held = ?, shipped = ? "
        "WHERE id = ?",
        (order.status.value, order.platform_status, ts(order.modified_at), ts(now), now_held, now_shipped, order_id))
    # reserved = units on paid orders: kept on the lines so availability reads an index, not history
    store.execute("UPDATE order_lines SET reserved = ? WHERE order_id = ?", (int(order.status == S.PAID), order_id))
    result.changed.append((order, before.value if before else None))


def _held_after(status: OrderStatus, held: int, shipped: int) -> int:
    if status in (S.PAID, S.SHIPPED, S.COMPLETED):
        return 1
    if status == S.REFUNDED and shipped:
        return held  # goods left the warehouse: the platform does not put them back
    return 0


def _insert(store: Store, cfg: ChannelConfig, order: Order, now: datetime) -> tuple[int, int]:
    cur = store.execute(
        "INSERT INTO orders (channel, external_id, status, platform_status, created_at, modified_at, first_seen_at, "
        "updated_at, total) VALUES (?, ?, 'new', ?, ?, ?, ?, ?, ?)",
        (cfg.name, order.external_id, order.platform_status, ts(order.created_at), ts(order.modified_at),
         ts(now), ts(now), order.total))
    order_id = cur.lastrowid
    unmatched = 0
    for no, line in enumerate(order.lines, 1):
        code = _master_code(store, cfg.name, line.sku_code, line.external_sku_id)
        if code is None:
            unmatched += 1
        store.execute(
            "INSERT INTO order_lines (order_id, line_no, sku_code, external_sku_id, quantity, price) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (order_id, no, code, line.external_sku_id, line.quantity, line.price))
    if unmatched:
        store.execute("UPDATE orders SET unmatched_lines = ? WHERE id = ?", (unmatched, order_id))
    return order_id, unmatched


def _master_code(store: Store, channel: str, sku_code: str | None, external_id: str | None) -> str | None:
    """The master SKU a line sold: by merchant code, else through the listing's external id."""
    if sku_code and store.scalar("SELECT 1 FROM skus WHERE code = ?", (sku_code,)):
        return sku_code
    if external_id:
        return store.scalar("SELECT sku_code FROM listings WHERE channel = ? AND external_id = ?",
                            (channel, external_id))
    return None


def mark_shipped(store: Store, config: Config, cfg: ChannelConfig, order_row: dict, carrier: str,
                 tracking_no: str, now: datetime | None = None, absolute: bool = False) -> IngestResult:
    """After the channel accepted a shipment: record it like an ingested SHIPPED state."""
    now = now or utcnow()
    with store.write():
        store.execute("UPDATE orders SET carrier = ?, tracking_no = ? WHERE id = ?",
                      (carrier, tracking_no, order_row["id"]))
        shipped = Order(order_row["external_id"], S.SHIPPED, datetime.fromisoformat(order_row["created_at"]),
                        now, [], platform_status=order_row["platform_status"])
        result = IngestResult()
        _apply(store, cfg, shipped, now, result, absolute)
        if result.skus:
            result.pushes_queued = inventory.queue_stock(store, config, result.skus, now)
    return result


def find_order(store: Store, ref: str) -> dict:
    """An order by internal id, ``channel:external_id`` or an external id unique across channels."""
    if ref.isdigit():
        row = store.one("SELECT * FROM orders WHERE id = ?", (int(ref),))
        if row:
            return row
    if ":" in ref:
        channel, _, external = ref.partition(":")
        row = store.one("SELECT * FROM orders WHERE channel = ? AND external_id = ?", (channel, external))
        if row:
            return row
    rows = store.query("SELECT * FROM orders WHERE external_id = ?", (ref,))
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise UserError(f"order {ref!r} exists on several channels ({', '.join(r['channel'] for r in rows)}); "
                        f"say CHANNEL:{ref}")
    raise UserError(f"no order {ref!r} (see `channelsync orders list`)")
