"""Reservations by warehouse: which units a paid, unshipped order line holds, and where.

An order reserves in the warehouses its channel sells from, in the channel's order
of priority (``warehouses = ["SH", "GZ"]``: SH first): each warehouse gives what it
has free (on hand less what is already reserved there), and a shortfall stays in
the first one, where it is backordered. A bundle line reserves its components.
Shipping takes from where the line reserved; a refund before shipment releases the
last-allocated units first, so the preferred warehouse keeps its claim.

``reserved(sku, warehouses)`` counts only the reservations in those warehouses, so
a channel selling from SH alone is not lowered by an order that reserved in GZ.
Rows with no warehouse (reserved before warehouses were tracked) count everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from channelsync.store import Store
from channelsync.store.sqlin import marks


def priority(store: Store, warehouses: Sequence[str]) -> list[str]:
    """The channel's warehouses in priority order; every warehouse (by code) when it names none."""
    return list(warehouses) or [r[0] for r in store.execute("SELECT code FROM warehouses ORDER BY code")]


def parts(store: Store, sku_code: str) -> list[tuple[str, int]]:
    """What one unit of ``sku_code`` is made of: its components, or itself."""
    rows = store.execute("SELECT component_code, qty FROM bundle_components WHERE bundle_code = ? "
                         "ORDER BY component_code", (sku_code,)).fetchall()
    return [(r[0], r[1]) for r in rows] or [(sku_code, 1)]


def reserved(store: Store, sku_code: str, warehouses: Iterable[str] | None = None) -> int:
    """Units of ``sku_code`` (bundles' reservations included) reserved in ``warehouses`` (all when none)."""
    whs = tuple(warehouses or ())
    if not whs:
        return store.scalar("SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE sku_code = ?", (sku_code,))
    return store.scalar(
        f"SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE sku_code = ? "
        f"AND (warehouse IS NULL OR warehouse IN ({marks(whs)}))", (sku_code, *whs))


def by_warehouse(store: Store, sku_code: str) -> dict[str | None, int]:
    """Reserved units of ``sku_code`` per warehouse (None: legacy rows, counted everywhere)."""
    return {r["warehouse"]: r["n"] for r in store.query(
        "SELECT warehouse, SUM(quantity) AS n FROM reservations WHERE sku_code = ? GROUP BY warehouse "
        "ORDER BY warehouse", (sku_code,))}


def line_units(store: Store, order_id: int, line_no: int, sku_code: str,
               made: Sequence[tuple[str, int]] | None = None) -> int:
    """Line units reserved now (in line units, not component units); ``made``: ``parts`` of
    the SKU when the caller has it."""
    per = dict(made or parts(store, sku_code))
    first, each = next(iter(per.items()))
    held = store.scalar("SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE order_id = ? AND line_no = ? "
                        "AND sku_code = ?", (order_id, line_no, first))
    return held // each


def reserve(store: Store, order_id: int, line_no: int, sku_code: str, units: int, warehouses: Sequence[str],
            made: Sequence[tuple[str, int]] | None = None, fresh: bool = False) -> None:
    """Reserve ``units`` more of a line, warehouse by warehouse in priority order.
    ``made``: ``parts`` of the SKU when the caller has it; ``fresh``: the line holds no
    reservation yet (first seen), so there is no row to add to."""
    if units <= 0:
        return
    whs = priority(store, warehouses)
    for code, per in made or parts(store, sku_code):
        left = units * per
        got: dict[str | None, list[int]] = {}  # warehouse -> [rank, units], one row each
        # one warehouse: what it lacks is backordered there too, so its free units need no read
        for rank, wh in enumerate(whs if len(whs) > 1 else ()):
            take = min(left, max(0, _free(store, code, wh)))
            if take:
                got[wh] = [rank, take]
                left -= take
        if left:  # short everywhere: backordered in the first warehouse
            got.setdefault(whs[0] if whs else None, [0, 0])[1] += left
        for wh, (rank, n) in got.items():
            _add(store, order_id, line_no, code, wh, rank, n, fresh)


def take(store: Store, order_id: int, line_no: int, sku_code: str, units: int,
         warehouses: Sequence[str]) -> list[tuple[str, str, int]]:
    """Turn ``units`` of a line's reservation into what a shipment takes: ``(component,
    warehouse, quantity)`` from where it reserved, highest priority first. Units it had
    not reserved (a shipment seen without the payment) are picked by priority."""
    whs = priority(store, warehouses)
    out: list[tuple[str, str, int]] = []
    for code, per in parts(store, sku_code):
        left = units * per
        for wh, n in _shrink_rows(store, order_id, line_no, code, left, "ASC"):
            # a legacy row has no warehouse: it ships from the first one by priority
            out.append((code, wh if wh is not None else whs[0], n))
            left -= n
        out += _pick(store, code, left, whs)
    return out


def pick(store: Store, sku_code: str, units: int, warehouses: Sequence[str]) -> list[tuple[str, str, int]]:
    """Where ``units`` that nothing reserved ship from: by priority, over what is free."""
    whs = priority(store, warehouses)
    out: list[tuple[str, str, int]] = []
    for code, per in parts(store, sku_code):
        out += _pick(store, code, units * per, whs)
    return out


def _pick(store: Store, code: str, left: int, whs: list[str]) -> list[tuple[str, str, int]]:
    out = []
    for wh in whs:
        if left <= 0:
            break
        n = min(left, max(0, _free(store, code, wh)))
        if n:
            out.append((code, wh, n))
            left -= n
    if left > 0:  # short everywhere: the first warehouse goes below zero, visibly
        out.append((code, whs[0], left))
    return out


def _free(store: Store, code: str, wh: str) -> int:
    """On hand in ``wh`` less what is reserved there."""
    return store.scalar(
        "SELECT (SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE sku_code = ?1 AND warehouse = ?2) - "
        "(SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE sku_code = ?1 AND warehouse = ?2)", (code, wh))


def release(store: Store, order_id: int, line_no: int, sku_code: str, units: int,
            made: Sequence[tuple[str, int]] | None = None) -> None:
    """Give back ``units`` of a line's reservation, lowest priority first."""
    for code, per in made or parts(store, sku_code):
        _shrink_rows(store, order_id, line_no, code, units * per, "DESC")


def _shrink_rows(store: Store, order_id: int, line_no: int, code: str, units: int,
                 direction: str) -> list[tuple[str | None, int]]:
    """Take up to ``units`` off the line's reservation rows of ``code``, highest priority
    first (``ASC``: a shipment) or lowest (``DESC``: a release); ``(warehouse, units)`` of
    each row taken from."""
    taken: list[tuple[str | None, int]] = []
    # legacy rows (no warehouse) rank last: released first, taken last
    for row in store.query(
            f"SELECT rowid, warehouse, quantity FROM reservations WHERE order_id = ? AND line_no = ? AND sku_code = ? "
            f"ORDER BY warehouse IS NULL {'DESC' if direction == 'DESC' else 'ASC'}, priority {direction}",
            (order_id, line_no, code)):
        n = min(units, row["quantity"])
        if not n:
            break
        _shrink(store, row, n)
        taken.append((row["warehouse"], n))
        units -= n
    return taken


def _add(store: Store, order_id: int, line_no: int, code: str, wh: str | None, rank: int, n: int,
         fresh: bool = False) -> None:
    existing = None if fresh else store.one("SELECT rowid FROM reservations WHERE order_id = ? AND line_no = ? AND sku_code = ? "
                         "AND warehouse IS ?", (order_id, line_no, code, wh))
    if existing:
        store.execute("UPDATE reservations SET quantity = quantity + ? WHERE rowid = ?", (n, existing["rowid"]))
    else:
        store.execute("INSERT INTO reservations (order_id, line_no, sku_code, warehouse, priority, quantity) "
                      "VALUES (?, ?, ?, ?, ?, ?)", (order_id, line_no, code, wh, rank, n))


def _shrink(store: Store, row: dict, n: int) -> None:
    if n >= row["quantity"]:
        store.execute("DELETE FROM reservations WHERE rowid = ?", (row["rowid"],))
    else:
        store.execute("UPDATE reservations SET quantity = quantity - ? WHERE rowid = ?", (n, row["rowid"]))
