"""What one ingest reads, read once for the whole page of orders.

A poll ingests a page (a window) of up to hundreds of orders in one transaction.
Reading each order's stored row and lines, each line's master SKU, the channel's
warehouses and each SKU's bundle make-up one statement at a time was most of an
ingest's SQL; here they are read with one IN-list query per table (chunked under
SQLite's variable limit) when the page starts. ``engine/orders.py`` keeps the
page's copy current as it writes (a page may list the same order twice), so the
page answers exactly what a fresh read would. Read-only: the writes stay in
``engine/orders.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from channelsync.config.settings import ChannelConfig
from channelsync.engine import reservations
from channelsync.sdk.models import Order
from channelsync.store import Store
from channelsync.store.sqlin import chunks, marks


class Page:
    """One ingest page's reads: stored orders by external id, their lines, master SKUs."""

    def __init__(self, store: Store, cfg: ChannelConfig, orders: Sequence[Order], now_s: str = "") -> None:
        self.store, self.channel = store, cfg.name
        self.now_s = now_s  # the ingest's time as stored (on every new order): formatted once
        self.rows: dict[str, dict] = {}
        self._lines: dict[int, list[dict]] = {}
        self._made: dict[str, list[tuple[str, int]]] = {}
        for chunk in chunks({o.external_id for o in orders}):
            for row in store.query(f"SELECT * FROM orders WHERE channel = ? AND external_id IN ({marks(chunk)})",
                                   (self.channel, *chunk)):
                self.rows[row["external_id"]] = row
        for chunk in chunks(sorted(r["id"] for r in self.rows.values())):
            for line in store.query(f"SELECT * FROM order_lines WHERE order_id IN ({marks(chunk)}) "
                                    "ORDER BY order_id, line_no", chunk):
                self._lines.setdefault(line["order_id"], []).append(line)
        # master SKUs of the lines of orders not stored yet: by merchant code, else by listing
        new = [ln for o in orders if o.external_id not in self.rows for ln in o.lines]
        self._skus: set[str] = set()
        for chunk in chunks({ln.sku_code for ln in new if ln.sku_code}):
            self._skus.update(r[0] for r in store.execute(f"SELECT code FROM skus WHERE code IN ({marks(chunk)})",
                                                          chunk))
        self._listed: dict[str, str | None] = {}
        for chunk in chunks({ln.external_sku_id for ln in new if ln.external_sku_id}):
            self._listed.update(store.execute(f"SELECT external_id, sku_code FROM listings WHERE channel = ? "
                                              f"AND external_id IN ({marks(chunk)})", (self.channel, *chunk)))
        self.warehouses = reservations.priority(store, cfg.warehouses)
        # what each SKU of the page is made of (a bundle's components, else itself)
        codes = self._skus | {c for c in self._listed.values() if c} | {
            ln["sku_code"] for lines in self._lines.values() for ln in lines if ln["sku_code"]}
        for chunk in chunks(sorted(codes)):
            self._made.update((c, []) for c in chunk)
            for bundle, code, qty in store.execute(
                    f"SELECT bundle_code, component_code, qty FROM bundle_components WHERE bundle_code IN "
                    f"({marks(chunk)}) ORDER BY bundle_code, component_code", chunk):
                self._made[bundle].append((code, qty))
        for code, made in self._made.items():
            made[:] = made or [(code, 1)]  # as ``reservations.parts`` answers

    def lines(self, order_id: int) -> list[dict]:
        """The stored lines of an order read at the start (or inserted since), by line number."""
        return self._lines.get(order_id, [])

    def new_lines(self, order: Order) -> list[dict]:
        """A new order's lines as a read of the stored ones returns them (counts at 0; the
        order id is set once the order is stored)."""
        return [{"order_id": None, "line_no": no, "sku_code": self.master_code(ln.sku_code, ln.external_sku_id),
                 "external_sku_id": ln.external_sku_id, "quantity": ln.quantity, "price": ln.price, "held": 0,
                 "released": 0, "shipped": 0, "refunded": 0, "coming_back": 0}
                for no, ln in enumerate(order.lines, 1)]

    def inserted(self, row: dict, lines: list[dict]) -> None:
        self.rows[row["external_id"]] = row
        self._lines[row["id"]] = lines

    def master_code(self, sku_code: str | None, external_id: str | None) -> str | None:
        """The master SKU a line of a page's new order sold: by merchant code, else through
        the listing's external id (both read at the start for every such line)."""
        if sku_code and sku_code in self._skus:
            return sku_code
        return self._listed.get(external_id) if external_id else None

    def parts(self, sku_code: str) -> list[tuple[str, int]]:
        """``reservations.parts``, once per SKU per page (bundles do not change during an ingest)."""
        if sku_code not in self._made:
            self._made[sku_code] = reservations.parts(self.store, sku_code)
        return self._made[sku_code]
