"""Benchmarks, run by hand (`make bench`); results are written down in bench/RESULTS.md.

Everything is in-process against fake channels, so the numbers measure the
core (SQLite, planning, bookkeeping), not a network.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import tracemalloc
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from channelsync.engine import orders

from channelsync.sync import reconcile
from channelsync.daemon import Daemon
from channelsync.sdk.models import Order, OrderLine, OrderStatus
from channelsync.config.settings import DaemonConfig
from channelsync.sim.fake import FakePlatform
from channelsync.testing.harness import Shop


def make_shop(tmp: str, skus: int, channels=("a", "b", "c", "d"), poll: float = 30.0) -> Shop:
    FakePlatform.forget_all()
    shop = Shop(tmp, {c: {"poll_interval": poll} for c in channels})
    rows = ["product_code,sku_code,price,stock:main"] + [f"P{i // 4},S{i:05d},19.90,1000" for i in range(skus)]
    for c in channels:
        p = shop.platform(c)
        for i in range(skus):
            p.seed(f"S{i:05d}", 0, 1990)
    shop.import_csv("\n".join(rows) + "\n")
    return shop


def bench_ingest(skus: int, n_orders: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus)
        shop.resync_all()
        shop.settle()
        now = datetime.now(timezone.utc)
        batch = [Order(f"o{i}", OrderStatus.PAID, now, now + timedelta(microseconds=i),
                       [OrderLine(f"S{(i * 7) % skus:05d}", 1)]) for i in range(n_orders)]
        cfg = shop.config.channels["a"]
        started = time.perf_counter()
        for i in range(0, n_orders, 100):  # a page at a time, as a poll would
            orders.ingest(shop.store, shop.config, cfg, batch[i:i + 100], cursor=now)
        took = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(0, n_orders, 100):  # the same again: nothing may change, and it should be cheap
            orders.ingest(shop.store, shop.config, cfg, batch[i:i + 100], cursor=now)
        again = time.perf_counter() - started
        queued = shop.store.scalar("SELECT COUNT(*) FROM outbox")
        started = time.perf_counter()
        for name in ("b", "c", "d"):
            shop.runners[name].drain()
        drained = time.perf_counter() - started
        shop.close()
    return {"orders": n_orders, "skus": skus, "ingest_orders_per_s": round(n_orders / took),
            "reingest_orders_per_s": round(n_orders / again), "pushes_queued": queued,
            "drain_pushes_per_s": round(queued / drained) if drained else None}


def bench_resync(skus: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, channels=("a",))
        tracemalloc.start()
        started = time.perf_counter()
        report = reconcile.resync(shop.lanes["a"])
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        shop.close()
    return {"listings": report.seen, "seconds": round(took, 2), "listings_per_s": round(report.seen / took),
            "peak_python_mib": round(peak / 2**20, 1)}


def bench_drift_check(skus: int, sold: int) -> dict:
    """One drift check on a channel of ``skus`` listings, ``sold`` of them sold since the
    last check: choosing what to read, reading (fake: no network) and settling."""
    from channelsync.engine import listings

    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, channels=("a",))
        shop.resync_all()
        shop.settle()
        for i in range(sold):
            shop.platform("a").place_order([(f"S{(i * 7) % skus:05d}", 1)])
        runner = shop.runners["a"]
        runner.poll()
        started = time.perf_counter()
        chosen = listings.to_check(shop.store, "a", since=datetime.now(timezone.utc) - timedelta(minutes=2),
                                   limit=200)
        choose = time.perf_counter() - started
        started = time.perf_counter()
        read = runner.check_stock(force=True)  # reads up to drift_check_max, then polls and settles
        took = time.perf_counter() - started
        shop.close()
    return {"listings": skus, "sold": sold, "read": read, "choose_ms": round(choose * 1000, 1),
            "chosen_recent_first": len(chosen), "check_ms": round(took * 1000, 1)}


def bench_propagation(skus: int, orders_n: int, rate: float) -> dict:
    """Daemon running: an order on channel a, until channel b shows the drop."""
    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, channels=("a", "b"), poll=0.5)
        config = replace(shop.config, daemon=DaemonConfig(http_port=0))
        daemon = Daemon(config, shop.pm, tick=0.5)
        thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
        thread.start()
        try:
            deadline = time.monotonic() + 60
            while shop.platform("b").stock("S00000") != 1000 and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = []
            for i in range(orders_n):
                code = f"S{i % skus:05d}"
                before = shop.platform("b").stock(code)
                shop.platform("a").place_order([(code, 1)])
                t0 = time.monotonic()
                while shop.platform("b").stock(code) != before - 1:
                    if time.monotonic() - t0 > 30:
                        raise RuntimeError("no propagation in 30 s")
                    time.sleep(0.005)
                latencies.append(time.monotonic() - t0)
                time.sleep(1 / rate)
        finally:
            daemon.request_stop()
            thread.join()
            shop.close()
    q = statistics.quantiles(latencies, n=20)
    return {"orders": orders_n, "poll_interval_s": 0.5, "p50_ms": round(statistics.median(latencies) * 1000),
            "p95_ms": round(q[18] * 1000), "max_ms": round(max(latencies) * 1000)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 1 if args.quick else 10
    from channelsync.telemetry import log

    log.configure("json", "error")
    results = {
        "ingest": bench_ingest(skus=100 * scale, n_orders=500 * scale),
        "resync": bench_resync(skus=1000 * scale),
        "drift_check": bench_drift_check(skus=1000 * scale, sold=50 * scale),
        "propagation": bench_propagation(skus=50, orders_n=20 if args.quick else 60, rate=5),
    }
    for name, r in results.items():
        print(f"{name:<12} " + ", ".join(f"{k}={v}" for k, v in r.items()))



if __name__ == "__main__":
    main()
