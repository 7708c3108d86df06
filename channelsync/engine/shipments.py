"""Parcels: several per order, each with its carrier and tracking number.

A parcel is recorded when ``channelsync ship`` sends it or when the platform lists
one made in its seller centre (matched by tracking number, so a parcel we sent and
then read back is one parcel). Which units left is counted on the order lines
(``engine/orders.py``); this module books the ledger rows for them and keeps the
parcels, the one writer of ``shipments`` and ``shipment_lines``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from channelsync.engine import inventory, reservations
from channelsync.sdk.models import Parcel
from channelsync.store import Store, ts


def book(store: Store, order_id: int, line_no: int, sku_code: str, units: int, warehouses: Sequence[str],
         reference: str) -> list[tuple[str, str, int]]:
    """Take ``units`` of a line off on-hand, from where the line reserved them: one
    ledger row per component and warehouse. Returns ``(sku, warehouse, units)``."""
    taken = reservations.take(store, order_id, line_no, sku_code, units, warehouses)
    for code, wh, n in taken:
        inventory.move(store, code, wh, -n, "shipment", reference)
    return taken


def book_unreserved(store: Store, sku_code: str, units: int, warehouses: Sequence[str],
                    reference: str) -> list[tuple[str, str, int]]:
    """Take ``units`` that no order line reserved (an exchange's replacement) by priority."""
    taken = reservations.pick(store, sku_code, units, warehouses)
    for code, wh, n in taken:
        inventory.move(store, code, wh, -n, "shipment", reference)
    return taken


def record(store: Store, order_id: int, *, source: str, carrier: str | None, tracking_no: str | None,
           lines: dict[int, tuple[str | None, int]], at: datetime, kind: str = "order") -> int:
    """Keep one parcel; ``lines``: line number -> (SKU, units). Returns its id."""
    cur = store.execute("INSERT INTO shipments (order_id, kind, source, carrier, tracking_no, at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (order_id, kind, source, carrier, tracking_no, ts(at)))
    for line_no, (sku, units) in sorted(lines.items()):
        if units > 0:
            store.execute("INSERT INTO shipment_lines (shipment_id, line_no, sku_code, quantity) VALUES (?, ?, ?, ?)",
                          (cur.lastrowid, line_no, sku, units))
    return cur.lastrowid


def record_seen(store: Store, order_id: int, parcels: Sequence[Parcel], line_nos: dict[str, int],
                at: datetime) -> int:
    """Keep the platform's parcels not known yet (by tracking number, else by carrier);
    ``line_nos`` maps a line's external SKU id or merchant code to its number."""
    added = 0
    for parcel in parcels:
        if not (parcel.carrier or parcel.tracking_no):
            continue
        known = store.scalar("SELECT 1 FROM shipments WHERE order_id = ? AND kind = 'order' "
                             "AND COALESCE(tracking_no, '') = ? AND (tracking_no IS NOT NULL OR carrier IS ?)",
                             (order_id, parcel.tracking_no or "", parcel.carrier))
        if known:
            continue
        lines: dict[int, tuple[str | None, int]] = {}
        for line in parcel.lines:
            no = line_nos.get(line.external_sku_id or "") or line_nos.get(line.sku_code or "")
            if no is not None:
                lines[no] = (line.sku_code, lines.get(no, (None, 0))[1] + line.quantity)
        record(store, order_id, source="platform", carrier=parcel.carrier, tracking_no=parcel.tracking_no,
               lines=lines, at=at)
        added += 1
    return added


def parcels(store: Store, order_id: int) -> list[dict]:
    """The order's parcels, oldest first, each with its lines."""
    rows = store.query("SELECT id, kind, source, carrier, tracking_no, at FROM shipments WHERE order_id = ? "
                       "ORDER BY id", (order_id,))
    for row in rows:
        row["lines"] = store.query("SELECT line_no, sku_code, quantity FROM shipment_lines WHERE shipment_id = ? "
                                   "ORDER BY line_no", (row["id"],))
    return rows


def exchanged_out(store: Store, order_id: int, line_no: int) -> int:
    """Replacement units sent for a line by exchanges."""
    return store.scalar("SELECT COALESCE(SUM(l.quantity), 0) FROM shipment_lines l JOIN shipments s "
                        "ON s.id = l.shipment_id WHERE s.order_id = ? AND s.kind = 'exchange' AND l.line_no = ?",
                        (order_id, line_no))


def origin(store: Store, reference: str, sku_code: str) -> str | None:
    """The warehouse a shipment of ``sku_code`` for ``reference`` left from (the first one)."""
    return store.scalar("SELECT warehouse FROM stock_movements WHERE reference = ? AND sku_code = ? "
                        "AND reason = 'shipment' ORDER BY id LIMIT 1", (reference, sku_code))
