"""Speed of issue 17's read-side work: the sales report and the low-stock scan.

`.venv/bin/python bench/reports.py` — each benchmark builds its own database under a
temp dir (orders are written with plain SQL: this measures reading, not ingesting).
"""

from __future__ import annotations

import io
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import catalog, lowstock, report
from channelsync.store import Store, ts


def bench_report(orders: int = 60_000, skus: int = 500) -> None:
    cfg = Config(path=None, db_path=Path(tempfile.mkdtemp(prefix="cs-bench-")) / "b.db",
                 channels={n: ChannelConfig(n, "fake") for n in ("tb", "jd", "wx", "own")})
    s = Store(cfg.db_path)
    rnd = random.Random(1)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with s.write():
        s.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'p', 'x')")
        for i in range(skus):
            s.execute("INSERT INTO skus (code, product_code, base_price, cost, updated_at) VALUES (?,?,?,?,?)",
                      (f"S{i}", "P", 1000, 400, "x"))
        for i in range(orders):
            at = ts(start + timedelta(seconds=rnd.randrange(60 * 86400)))
            status = rnd.choice(["paid", "shipped", "completed", "refunded", "new", "cancelled"])
            cur = s.execute(
                "INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, "
                "updated_at, total, shipped) VALUES (?,?,?,?,?,?,?,?,?)",
                (rnd.choice(list(cfg.channels)), str(i), status, at, at, at, at, 2000,
                 int(status in ("shipped", "completed"))))
            for line in (1, 2):
                s.execute("INSERT INTO order_lines (order_id, line_no, sku_code, quantity, price) VALUES (?,?,?,?,?)",
                          (cur.lastrowid, line, f"S{rnd.randrange(skus)}", 1, 1000))
    period = report.make_period("day", ZoneInfo("Asia/Shanghai"), date(2026, 11, 29), count=30)
    t = time.perf_counter()
    data = report.build(s, cfg, period)
    read = data["total"]["total"]["orders"] + data["total"]["previous"]["orders"]
    print(f"report, 30 days against the 30 before, {orders:,} orders x 2 lines: "
          f"{time.perf_counter() - t:.2f} s ({read:,} orders in the two periods)")
    s.close()


def bench_low_stock(skus: int = 10_000) -> None:
    cfg = Config(path=None, db_path=Path(tempfile.mkdtemp(prefix="cs-bench-")) / "b.db", reorder_point=5)
    s = Store(cfg.db_path)
    catalog.sync_warehouses(s, cfg)
    csv = "product_code,sku_code,price,cost,stock:main\n" + "".join(
        f"P{i // 10},S{i},10.00,5.00,{i % 20}\n" for i in range(skus))
    catalog.import_csv(s, cfg, io.StringIO(csv))
    t = time.perf_counter()
    low = lowstock.check(s, cfg)
    print(f"low-stock check, {skus:,} SKUs with a reorder point: {time.perf_counter() - t:.2f} s ({len(low):,} low)")
    s.close()


if __name__ == "__main__":
    bench_report()
    bench_low_stock()
