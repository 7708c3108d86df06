"""After-sales: refunds, returns expected back, units received, exchanges.

The history of every line is a row per event in ``after_sales`` (this module is
its one writer), which ``orders show`` lists:

* ``refund``   — money went back for N units (before shipment they were released);
* ``return``   — N units are coming back (reported by the platform, or registered
                 by an operator's exchange): they are *expected back*;
* ``received`` — the warehouse counted N units back, ``damaged`` of them broken;
* ``exchange`` — N units are swapped: a return plus a replacement parcel.

Expected back = returns - received, per line. Receiving puts the good units on
hand with a ``return`` ledger row naming the order; a damaged unit is booked in
and written off at once (``return`` +1, ``damaged`` -1), so it never restocks.
"""

from __future__ import annotations

from datetime import datetime

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import inventory, reservations, shipments
from channelsync.sdk.errors import UserError
from channelsync.store import Store, ts, utcnow


def note(store: Store, order_id: int, line_no: int, kind: str, quantity: int, *, source: str, at: datetime,
         damaged: int = 0, warehouse: str | None = None, text: str | None = None) -> None:
    """One event of a line's after-sales history."""
    store.execute("INSERT INTO after_sales (order_id, line_no, at, kind, quantity, damaged, warehouse, source, note) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (order_id, line_no, ts(at), kind, quantity, damaged, warehouse, source, text))


def counts(store: Store, order_id: int, line_no: int) -> dict[str, int]:
    """A line's after-sales totals: returned (announced), received, damaged, expected back."""
    row = store.one(
        "SELECT COALESCE(SUM(CASE WHEN kind = 'return' THEN quantity END), 0) AS announced, "
        "COALESCE(SUM(CASE WHEN kind = 'received' THEN quantity END), 0) AS received, "
        "COALESCE(SUM(CASE WHEN kind = 'received' THEN damaged END), 0) AS damaged "
        "FROM after_sales WHERE order_id = ? AND line_no = ?", (order_id, line_no))
    return {**row, "expected_back": max(0, row["announced"] - row["received"])}


def history(store: Store, order_id: int) -> list[dict]:
    return store.query("SELECT line_no, at, kind, quantity, damaged, warehouse, source, note FROM after_sales "
                       "WHERE order_id = ? ORDER BY id", (order_id,))


def expected_back(store: Store, channel: str | None = None) -> list[dict]:
    """Every line with units expected back, oldest first (``returns list``)."""
    rows = store.query(
        "SELECT o.id AS order_id, o.channel, o.external_id, a.line_no, l.sku_code, "
        "SUM(CASE WHEN a.kind = 'return' THEN a.quantity ELSE 0 END) - "
        "SUM(CASE WHEN a.kind = 'received' THEN a.quantity ELSE 0 END) AS expected_back, MIN(a.at) AS since "
        "FROM after_sales a JOIN orders o ON o.id = a.order_id "
        "JOIN order_lines l ON l.order_id = a.order_id AND l.line_no = a.line_no "
        "WHERE (? IS NULL OR o.channel = ?) GROUP BY a.order_id, a.line_no ORDER BY since",
        (channel, channel))
    return [r for r in rows if r["expected_back"] > 0]


def receive(store: Store, config: Config, order: dict, line: dict, quantity: int, warehouse: str, *,
            damaged: int = 0, source: str = "channelsync", actor: str | None = None,
            now: datetime | None = None) -> dict:
    """Book ``quantity`` units of ``line`` back into ``warehouse``; ``damaged`` of them broken.
    The caller holds the write transaction and queues the stock pushes."""
    now = now or utcnow()
    _check(store, config, order, line, quantity, warehouse, damaged)
    ref = f"{order['channel']}:{order['external_id']}"
    good = quantity - damaged
    for code, per in reservations.parts(store, line["sku_code"]):
        if good:
            inventory.move(store, code, warehouse, good * per, "return", ref, actor, at=now)
        if damaged:
            inventory.move(store, code, warehouse, damaged * per, "return", ref, actor, at=now)
            inventory.move(store, code, warehouse, -damaged * per, "damaged", ref, actor, at=now)
    note(store, order["id"], line["line_no"], "received", quantity, source=source, at=now, damaged=damaged,
         warehouse=warehouse)
    return {"order": ref, "sku": line["sku_code"], "received": quantity, "restocked": good, "damaged": damaged,
            "warehouse": warehouse, **{k: v for k, v in counts(store, order["id"], line["line_no"]).items()
                                       if k == "expected_back"}}


def receive_now(store: Store, config: Config, order: dict, line: dict, quantity: int, warehouse: str, *,
                damaged: int = 0, actor: str | None = None) -> dict:
    """``returns receive``: book the units back and queue the pushes, in one transaction."""
    with store.write():
        result = receive(store, config, order, line, quantity, warehouse, damaged=damaged, actor=actor)
        result["pushes_queued"] = inventory.queue_stock(store, config, [line["sku_code"]])
    return result


def exchange_now(store: Store, config: Config, order: dict, line: dict, quantity: int, **kw) -> dict:
    """``returns exchange``: the return and the replacement parcel, in one transaction."""
    cfg = config.channels.get(order["channel"])
    if cfg is None:
        raise UserError(f"channel {order['channel']!r} of this order is not configured; its warehouses are unknown")
    with store.write():
        result = exchange(store, cfg, order, line, quantity, **kw)
        result["pushes_queued"] = inventory.queue_stock(store, config, [line["sku_code"], result["replacement"]])
    return result


def receivable(store: Store, order: dict, line: dict) -> int:
    """Units of a line that left and have not come back: shipped, plus exchange replacements, less received."""
    return (line["shipped"] + shipments.exchanged_out(store, order["id"], line["line_no"])
            - counts(store, order["id"], line["line_no"])["received"])


def exchange(store: Store, cfg: ChannelConfig, order: dict, line: dict, quantity: int, *, carrier: str | None,
             tracking_no: str | None, replacement: str | None = None, now: datetime | None = None) -> dict:
    """An exchange: ``quantity`` units of ``line`` come back (expected back) and a replacement
    parcel — the same SKU, or ``replacement`` — leaves now from the channel's warehouses."""
    now = now or utcnow()
    if quantity <= 0:
        raise UserError(f"exchange quantity must be at least 1, got {quantity}")
    left = receivable(store, order, line)
    if quantity > left:
        raise UserError(f"{order['channel']}:{order['external_id']} line {line['sku_code']}: only {max(0, left)} "
                        f"unit(s) shipped and not received back; cannot exchange {quantity}")
    sku = replacement or line["sku_code"]
    if not store.scalar("SELECT 1 FROM skus WHERE code = ?", (sku,)):
        raise UserError(f"unknown replacement SKU {sku!r} (see `channelsync catalog export`)")
    ref = f"{order['channel']}:{order['external_id']}"
    # units the platform already reports coming back (its own exchange case) are not counted twice
    pending = counts(store, order["id"], line["line_no"])["expected_back"] - _exchanged_unreturned(store, order, line)
    coming = quantity - max(0, pending)
    note(store, order["id"], line["line_no"], "exchange", quantity, source="channelsync", at=now,
         text=f"replacement {sku} x{quantity}" + (f" by {carrier} {tracking_no}" if tracking_no else ""))
    if coming > 0:
        note(store, order["id"], line["line_no"], "return", coming, source="channelsync", at=now, text="exchange")
    taken = shipments.book_unreserved(store, sku, quantity, cfg.warehouses, ref)
    shipments.record(store, order["id"], source="channelsync", carrier=carrier, tracking_no=tracking_no,
                     lines={line["line_no"]: (sku, quantity)}, at=now, kind="exchange")
    return {"order": ref, "sku": line["sku_code"], "quantity": quantity, "replacement": sku,
            "shipped_from": [{"sku": c, "warehouse": w, "units": n} for c, w, n in taken],
            "expected_back": counts(store, order["id"], line["line_no"])["expected_back"]}


def _exchanged_unreturned(store: Store, order: dict, line: dict) -> int:
    """Units earlier exchanges already matched with a return still expected."""
    done = store.scalar("SELECT COALESCE(SUM(quantity), 0) FROM after_sales WHERE order_id = ? AND line_no = ? "
                        "AND kind = 'exchange'", (order["id"], line["line_no"]))
    return min(done, counts(store, order["id"], line["line_no"])["expected_back"])


def _check(store: Store, config: Config, order: dict, line: dict, quantity: int, warehouse: str,
           damaged: int) -> None:
    where = f"{order['channel']}:{order['external_id']} line {line['sku_code']}"
    if warehouse not in config.warehouses:
        raise UserError(f"unknown warehouse {warehouse!r} (expected one of: {', '.join(sorted(config.warehouses))})")
    if quantity <= 0:
        raise UserError(f"{where}: the quantity received must be at least 1, got {quantity}")
    if not 0 <= damaged <= quantity:
        raise UserError(f"{where}: --damaged {damaged} must be between 0 and the {quantity} unit(s) received")
    left = receivable(store, order, line)
    if quantity > left:
        raise UserError(f"{where}: only {max(0, left)} unit(s) shipped and not yet received; cannot receive "
                        f"{quantity}")
