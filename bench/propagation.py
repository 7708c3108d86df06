"""Propagation under load: a running daemon, buyers on every channel, until every other
channel shows the drop.

Four ``latent`` channels (fake platforms with a fixed API round trip), one SKU per
order so each drop is unambiguous. For every order: the latency (placed -> the last
other channel told), and the agent's overhead: from the list call that returned the
order to the first stock call that carries it (latency - poll wait - API time).
Goal: p99 <= poll interval + 2 round trips + 50 ms; overhead p99 < 50 ms.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from dataclasses import replace

from bench import latent, trace
from bench.common import load, make_shop, p99, pct
from channelsync.config.settings import DaemonConfig
from channelsync.daemon import Daemon
from channelsync.store import ts, utcnow

CHANNELS = ("a", "b", "c", "d")
TRACE = False


def bench_propagation(per_minute: float, latency: float, seconds: float, poll: float = 2.0,
                      skus: int = 5000, overlap: float = 300.0, steps: bool = False) -> dict:
    """``steps``: also break the overhead into its steps (``trace.py``)."""
    if steps:
        trace.install()
    latent.reset(0.0)
    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, channels=CHANNELS, poll=poll, plugin="latent", order_overlap=overlap,
                         plugins=(latent,))
        shop.resync_all()
        shop.settle()
        # steady state: the overlap window already holds what the rate puts in it (at 1,000 a
        # minute, 5,000 orders), on SKUs of their own (the upper half)
        for i in range(int(per_minute * overlap / 60)):
            shop.platform(CHANNELS[i % len(CHANNELS)]).place_order([(f"S{skus // 2 + i % (skus // 2):06d}", 1)])
        shop.settle()
        told: dict[tuple[str, str], list[float]] = {}
        for name in CHANNELS:
            def note(sku, qty, replay, name=name):
                told.setdefault((name, sku), []).append(time.monotonic())
            shop.platform(name).on_told = note
        latent.reset(latency)
        config = replace(shop.config, daemon=DaemonConfig(http_port=0))
        daemon = Daemon(config, shop.pm, tick=0.5)
        since = ts(utcnow())
        thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
        thread.start()
        placed: list[tuple[str, str, str, float]] = []  # (channel, sku, order id, when)
        rng = random.Random(14)
        try:
            # the start-up resyncs and first polls are not the measure
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and shop.store.scalar(
                    "SELECT COUNT(*) FROM channels WHERE last_resync_at > ?", (since,)) < len(CHANNELS):
                time.sleep(0.2)
            time.sleep(poll * 2)
            latent.reset(latency)  # from here on, only what the orders cause
            trace.events.clear()
            # Poisson arrivals: evenly spaced ones would meet the polls at the same phase every time
            start, due, n = time.monotonic(), 0.0, 0
            while time.monotonic() - start < seconds:
                channel, sku = rng.choice(CHANNELS), f"S{n % (skus // 2):06d}"
                order = shop.platform(channel).place_order([(sku, 1)])
                placed.append((channel, sku, order.order_id, time.monotonic()))
                n += 1
                due += rng.expovariate(per_minute / 60.0)
                time.sleep(max(0.0, start + due - time.monotonic()))
            deadline = time.monotonic() + poll + 30
            while time.monotonic() < deadline and not all(
                    any(t >= at for t in told.get((o, s), ())) for c, s, _, at in placed for o in CHANNELS if o != c):
                time.sleep(0.05)
        finally:
            daemon.request_stop()
            thread.join()
            shop.close()
    latencies, overheads, missing = [], [], 0
    for channel, sku, order_id, at in placed:
        others = [o for o in CHANNELS if o != channel]
        when = [min((t for t in told.get((o, sku), ()) if t >= at), default=None) for o in others]
        if None in when:
            missing += 1
            continue
        latencies.append(max(when) - at)
        found = latent.order_found.get((channel, order_id))
        if found is not None:
            overheads.append(max(latent.push_started[(o, sku)] for o in others) - found)
    if TRACE:
        print([round(x, 2) for x in overheads])
    goal = poll + 2 * latency + 0.05
    parts = trace.breakdown(placed, CHANNELS, latent.order_found) if steps else {}
    return {"orders_per_min": per_minute, "latency_ms": round(latency * 1000), "poll_s": poll,
            "orders": len(placed), "not_propagated": missing,
            "p50_ms": round(pct(latencies, 50) * 1000), "p99_ms": round(p99(latencies) * 1000),
            "max_ms": round(max(latencies, default=0) * 1000), "goal_ms": round(goal * 1000),
            "overhead_p99_ms": round(p99(overheads) * 1000) if overheads else None,
            "ok": bool(latencies) and not missing and p99(latencies) <= goal, "load": load(), **parts}


if __name__ == "__main__":  # python -m bench.propagation RATE LATENCY_S SECONDS [--steps]
    import sys

    from channelsync.telemetry import log

    log.configure("json", "error")
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(bench_propagation(float(args[0]), float(args[1]), float(args[2]), steps="--steps" in sys.argv))
