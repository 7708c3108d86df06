"""Ingest speed against the size of history, directly and through the poll path.

History is written straight into the tables (shipped and completed orders, as
a shop's history mostly is), then new paid orders are ingested a page of 100
at a time, each page one transaction with the cursor move and the pushes it
queues, as a poll does.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench.common import load, make_shop
from channelsync.engine import orders
from channelsync.sdk.models import Order, OrderLine, OrderStatus
from channelsync.store import ts

SKUS = 1000


def seed_history(shop, n: int, skus: int = SKUS) -> None:
    """``n`` completed orders of one line each, spread over the channels and a year."""
    if not n:
        return
    start = datetime.now(UTC) - timedelta(days=365)
    chans = list(shop.config.channels)
    store = shop.store
    step = 50_000
    for base in range(0, n, step):
        rows, lines = [], []
        for i in range(base, min(n, base + step)):
            at = ts(start + timedelta(seconds=i * 30))
            rows.append((i + 1, chans[i % len(chans)], f"h{i}", "completed", at, at, at, at, 1990, 0, 1))
            lines.append((i + 1, 1, f"S{(i * 13) % skus:06d}", 1, 1990))
        with store.write():
            store.conn.executemany(
                "INSERT INTO orders (id, channel, external_id, status, created_at, modified_at, first_seen_at, "
                "updated_at, total, held, shipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            store.conn.executemany("INSERT INTO order_lines (order_id, line_no, sku_code, quantity, price) "
                                   "VALUES (?, ?, ?, ?, ?)", lines)
    store.execute("ANALYZE")


def bench_ingest(history: int, n_orders: int, skus: int = SKUS) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, stock=10_000_000)
        shop.resync_all()
        shop.settle()
        seed_history(shop, history, skus)
        now = datetime.now(UTC)
        batch = [Order(f"o{i}", OrderStatus.PAID, now, now + timedelta(microseconds=i),
                       [OrderLine(f"S{(i * 7) % skus:06d}", 1)]) for i in range(n_orders)]
        cfg = shop.config.channels["a"]
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n_orders, 100):
            orders.ingest(shop.store, shop.config, cfg, batch[i:i + 100], cursor=now)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        for i in range(0, n_orders, 100):  # overlapping polls: nothing may change, and it should be cheap
            orders.ingest(shop.store, shop.config, cfg, batch[i:i + 100], cursor=now)
        again = time.perf_counter() - started
        shop.close()
    # per CPU second as well: on a shared machine the wall clock also counts other people's work
    return {"history": history, "orders": n_orders, "orders_per_s": round(n_orders / took),
            "orders_per_cpu_s": round(n_orders / cpu),
            "reingest_per_s": round(n_orders / again), "load": load()}


def bench_poll_path(n_orders: int, skus: int = SKUS) -> dict:
    """Orders placed on the in-process fake, then one poll reads and ingests them all."""
    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, channels=("a", "b"), stock=10_000_000)
        shop.resync_all()
        shop.settle()
        p = shop.platform("a")
        p.set_stock_by_hand("S000000", 0)  # make sure the seeding is done; then give every SKU room
        for i in range(skus):
            p.set_stock_by_hand(f"S{i:06d}", 1_000_000)
        for i in range(n_orders):
            p.place_order([(f"S{(i * 7) % skus:06d}", 1)])
        runner = shop.runners["a"]
        started, cpu = time.perf_counter(), time.process_time()
        stats = runner.poll()
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        shop.close()
    assert stats.orders_seen >= n_orders, stats
    return {"orders": n_orders, "orders_per_s": round(n_orders / took), "orders_per_cpu_s": round(n_orders / cpu),
            "load": load()}
