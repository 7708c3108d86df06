"""One drift check (issue 13's measure, moved here from the old bench/run.py): a channel of
``skus`` listings, ``sold`` of them sold since the last check; choosing what to read,
reading (fake: no network) and settling."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench.common import load, make_shop


def bench_drift_check(skus: int, sold: int) -> dict:
    from channelsync.engine import listings

    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, channels=("a",))
        shop.resync_all()
        shop.settle()
        for i in range(sold):
            shop.platform("a").place_order([(f"S{(i * 7) % skus:06d}", 1)])
        runner = shop.runners["a"]
        runner.poll()
        started = time.perf_counter()
        chosen = listings.to_check(shop.store, "a", since=datetime.now(UTC) - timedelta(minutes=2), limit=200)
        choose = time.perf_counter() - started
        started = time.perf_counter()
        read = runner.check_stock(force=True)  # reads up to drift_check_max, then polls and settles
        took = time.perf_counter() - started
        shop.close()
    return {"listings": skus, "sold": sold, "read": read, "choose_ms": round(choose * 1000, 1),
            "chosen_recent_first": len(chosen), "check_ms": round(took * 1000, 1), "load": load()}
