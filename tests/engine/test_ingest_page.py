"""An ingest reads and writes per page, not per order (issue 14: ≥ 10,000 orders a second).

The cost is pinned by counting SQLite statements (never by timing): a page's reads
are a fixed number of queries whatever its size, and each new order costs a few
writes of its own plus one outbox row per channel listing its SKU. And a page
ingested at once leaves exactly what the same orders ingested one by one leave.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import orders
from channelsync.sdk.models import Order, OrderLine
from channelsync.sdk.models import OrderStatus as S
from channelsync.store import Store

NOW = "2026-06-01T00:00:00.000000+00:00"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
CHANNELS = ("tb", "jd", "pdd", "wx")
SKUS = [f"S{i:03d}" for i in range(120)]


def make_store(path: Path, warehouses: tuple[str, ...] = ("main",)) -> Store:
    s = Store(path)
    with s.write():
        for wh in warehouses:
            s.execute("INSERT INTO warehouses (code, name) VALUES (?, ?)", (wh, wh))
        s.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', ?)", (NOW,))
        for code in [*SKUS, "BOX"]:
            s.execute("INSERT INTO skus (code, product_code, base_price, updated_at) VALUES (?, 'P', 100, ?)",
                      (code, NOW))
        for code in SKUS:
            for wh in warehouses:
                s.execute("INSERT INTO stock (sku_code, warehouse, on_hand) VALUES (?, ?, 3)", (code, wh))
        s.execute("INSERT INTO bundle_components (bundle_code, component_code, qty) VALUES ('BOX', 'S000', 2), "
                  "('BOX', 'S001', 1)")
        for channel in CHANNELS:
            s.execute("INSERT INTO channels (name, plugin) VALUES (?, 'fake')", (channel,))
            for code in [*SKUS, "BOX"]:
                s.execute("INSERT INTO listings (channel, sku_code, external_id, expected, linked_at) "
                          "VALUES (?, ?, ?, 1000, ?)", (channel, code, f"{channel}-{code}", NOW))
    return s


def config(warehouses: tuple[str, ...] = ()) -> Config:
    return Config(path=None, db_path=Path("unused"),
                  channels={c: ChannelConfig(name=c, plugin="fake", warehouses=list(warehouses)) for c in CHANNELS})


def paid(i: int, minutes: int = 0, status: S = S.PAID, lines=None, **kw) -> Order:
    return Order(f"O{i}", status, T0 + timedelta(seconds=i), T0 + timedelta(seconds=i, minutes=minutes),
                 lines or [OrderLine(SKUS[i % len(SKUS)], 1)], **kw)


def counted(store: Store, fn) -> Counter:
    """Statements SQLite ran during ``fn``, by kind (an executemany counts once per row)."""
    kinds: Counter = Counter()

    def trace(sql: str) -> None:
        words = sql.split()
        kind = words[0].upper()
        if kind in ("INSERT", "UPDATE", "DELETE"):
            table = words[2] if kind != "UPDATE" else words[1]
            kind = f"{kind} {table}"
        kinds[kind] += 1

    store.conn.set_trace_callback(trace)
    try:
        fn()
    finally:
        store.conn.set_trace_callback(None)
    return kinds


def test_a_page_reads_a_fixed_number_of_times_and_writes_a_few_rows_per_order(tmp_path):
    cfg = config()
    costs = {}
    for n in (10, 100):
        store = make_store(tmp_path / f"{n}.db")
        page = [paid(i) for i in range(n)]
        costs[n] = counted(store, lambda: orders.ingest(store, cfg, cfg.channels["tb"], page))
        store.close()
    small, big = costs[10], costs[100]
    # reads: the same queries for 10 orders as for 100 (they were ~10 per order and channel)
    assert small["SELECT"] == big["SELECT"] <= 12, (small, big)
    # writes of the order itself: the order, its line, its reservation, the channel's own number
    for kind in ("INSERT orders", "INSERT order_lines", "INSERT reservations", "UPDATE listings"):
        assert big[kind] == 100, (kind, big)
    # pushes: at most one outbox row (queued, or a queued one dropped when the target agrees)
    # per channel listing a SKU the page moved: the 100 SKUs sold and the bundle built from two
    assert big["INSERT outbox"] + big["DELETE outbox"] <= len(CHANNELS) * 101, big
    assert big["INSERT outbox"] >= (len(CHANNELS) - 1) * 100, big  # the other channels' pushes are there
    per_order = sum(v for k, v in big.items() if k != "SELECT") / 100
    assert per_order <= 4 + len(CHANNELS) + 0.1, big


def test_reading_the_page_again_writes_nothing(tmp_path):
    cfg = config()
    store = make_store(tmp_path / "t.db")
    page = [paid(i) for i in range(100)]
    orders.ingest(store, cfg, cfg.channels["tb"], page)
    again = counted(store, lambda: orders.ingest(store, cfg, cfg.channels["tb"], page))
    assert {k for k in again if k != "SELECT"} <= {"BEGIN", "COMMIT"}, again
    assert again["SELECT"] <= 8, again
    store.close()


def dump(store: Store) -> dict:
    return {
        "orders": store.query("SELECT channel, external_id, status, platform_status, modified_at, held, shipped, "
                              "unmatched_lines, total FROM orders ORDER BY channel, external_id"),
        "lines": store.query("SELECT o.external_id, l.line_no, l.sku_code, l.quantity, l.held, l.released, "
                             "l.shipped, l.refunded, l.coming_back FROM order_lines l JOIN orders o ON o.id = "
                             "l.order_id ORDER BY o.external_id, l.line_no"),
        "reservations": store.query("SELECT o.external_id, r.line_no, r.sku_code, r.warehouse, r.priority, "
                                    "r.quantity FROM reservations r JOIN orders o ON o.id = r.order_id "
                                    "ORDER BY 1, 2, 3, 4"),
        "ledger": store.query("SELECT sku_code, warehouse, delta, reason, reference FROM stock_movements "
                              "ORDER BY reference, sku_code, warehouse, delta"),
        "expected": store.query("SELECT channel, sku_code, expected FROM listings ORDER BY 1, 2"),
        "outbox": store.query("SELECT channel, sku_code, kind, status FROM outbox ORDER BY 1, 2, 3"),
        "after_sales": store.query("SELECT order_id, line_no, kind, quantity FROM after_sales ORDER BY 1, 2, 3"),
    }


@pytest.mark.parametrize("warehouses", [("main",), ("SH", "GZ")])
def test_a_page_at_once_leaves_what_the_orders_one_by_one_leave(tmp_path, warehouses):
    """New and stored orders, the same order twice in one page (paid, then shipped),
    a bundle, an order first seen cancelled, a line refunded, an unmatched line, and
    more sold than is free (a backorder): the page's reads must answer what fresh reads
    would after each order."""
    cfg = config(warehouses)
    earlier = [paid(1), paid(2, lines=[OrderLine("BOX", 1), OrderLine("S005", 2)]), paid(3)]
    page = [
        paid(1, minutes=5, status=S.SHIPPED),                       # stored: ships
        paid(4, lines=[OrderLine("S004", 5), OrderLine("S004", 1)]),  # more than is free: backordered
        paid(5),
        paid(5, minutes=3, status=S.SHIPPED),                       # the same order again, later
        paid(6, status=S.CANCELLED),                                # first seen closed: replayed
        paid(2, minutes=2, lines=[OrderLine("BOX", 1, refunded=1), OrderLine("S005", 2)]),  # a line refunded
        paid(7, lines=[OrderLine("NOPE", 1), OrderLine(None, 1, "tb-S007")]),  # unmatched, and by listing id
        paid(8, lines=[OrderLine("BOX", 2)]),
        paid(3, status=S.PAID),                                     # a re-read: nothing
        paid(1, minutes=8, status=S.COMPLETED),                     # a stored order again in the page
    ]
    stores, results = [], []
    for name, pages in (("page", [page]), ("one", [[o] for o in page])):
        store = make_store(tmp_path / f"{name}-{len(warehouses)}.db", warehouses)
        orders.ingest(store, cfg, cfg.channels["tb"], earlier)
        got = [orders.ingest(store, cfg, cfg.channels["tb"], p) for p in pages]
        results.append(([(o.external_id, o.status, before) for r in got for o, before in r.changed],
                        set().union(*(r.skus for r in got)), sum(r.unmatched_lines for r in got)))
        stores.append(store)
    assert dump(stores[0]) == dump(stores[1])
    assert results[0] == results[1]
    changed = results[0][0]
    assert ("O5", S.PAID, None) in changed and ("O5", S.SHIPPED, "paid") in changed and results[0][2] == 1
    assert not any(ext == "O3" for ext, _, _ in changed) and ("O1", S.COMPLETED, "shipped") in changed
    for store in stores:
        store.close()
