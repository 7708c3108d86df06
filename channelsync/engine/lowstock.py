"""Low stock (补货提醒): SKUs whose available units are at or below their reorder point.

A SKU's reorder point is its own (the catalog's ``reorder_point`` column) or the
config's ``[low_stock] reorder_point``; neither set, it is never low. Available is
counted over every warehouse (on hand less reserved), the number a buyer of the
merchant actually depends on. Bundles have no stock of their own and are skipped:
their components are what gets reordered.

``check`` records which SKUs are low in ``low_stock`` (this module is its one
writer), so a crossing is announced once: a SKU is announced when it goes low,
and again only after it has recovered above the point and gone low once more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channelsync.config.settings import Config
from channelsync.store import Store, ts, utcnow


def levels(store: Store, config: Config, only_low: bool = False) -> list[dict[str, Any]]:
    """Every stocked SKU that has a reorder point: on hand, reserved, available, the point, low or not."""
    # on hand and reserved over every warehouse (as inventory.on_hand / reserved with none named),
    # summed in the same query: two queries per SKU made a 100k catalog's check slow
    rows = store.query(
        "SELECT s.code, s.title, p.title AS product_title, COALESCE(s.reorder_point, ?) AS reorder_point, "
        "COALESCE(h.n, 0) AS on_hand, COALESCE(r.n, 0) AS reserved "
        "FROM skus s JOIN products p ON p.code = s.product_code "
        "LEFT JOIN (SELECT sku_code, SUM(on_hand) AS n FROM stock GROUP BY sku_code) h ON h.sku_code = s.code "
        "LEFT JOIN (SELECT sku_code, SUM(quantity) AS n FROM reservations GROUP BY sku_code) r "
        "ON r.sku_code = s.code WHERE s.status = 'active' AND COALESCE(s.reorder_point, ?) IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM bundle_components b WHERE b.bundle_code = s.code) ORDER BY s.code",
        (config.reorder_point, config.reorder_point))
    out = []
    for r in rows:
        on_hand, reserved = r["on_hand"], r["reserved"]
        available = on_hand - reserved
        low = available <= r["reorder_point"]
        if low or not only_low:
            out.append({"sku": r["code"], "title": r["title"] or r["product_title"], "on_hand": on_hand,
                        "reserved": reserved, "available": available, "reorder_point": r["reorder_point"],
                        "low": low})
    return out


def check(store: Store, config: Config, now: datetime | None = None) -> list[dict[str, Any]]:
    """Record which SKUs are low now; returns those that *became* low since the last check."""
    now_s = ts(now or utcnow())
    crossed = []
    # read outside the write lock: on a large catalog this takes a while, and workers write meanwhile
    low = {r["sku"]: r for r in levels(store, config, only_low=True)}
    with store.write():
        known = {r["sku_code"] for r in store.query("SELECT sku_code FROM low_stock")}
        for sku in known - set(low):
            store.execute("DELETE FROM low_stock WHERE sku_code = ?", (sku,))  # recovered: may cross again
        for sku, r in low.items():
            if sku not in known:
                store.execute("INSERT INTO low_stock (sku_code, available, reorder_point, since) VALUES (?,?,?,?)",
                              (sku, r["available"], r["reorder_point"], now_s))
                crossed.append(r)
            else:
                store.execute("UPDATE low_stock SET available = ? WHERE sku_code = ?", (r["available"], sku))
    return crossed


def count(store: Store) -> int:
    """SKUs recorded low at the last check (what /metrics shows)."""
    return store.scalar("SELECT COUNT(*) FROM low_stock")
