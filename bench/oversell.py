"""Oversold units under an 11.11 burst: channelsync against a 15-minute re-sync baseline.

Simulated time (the traffic and both syncs are scaled together): buyers arrive on 4
channels for scarce SKUs, each channel refuses a sale it shows no stock for, and a
sale beyond the master stock is an oversold unit.

* channelsync: the real engine on in-process fakes, polling every channel and
  pushing every ``poll`` simulated seconds (its measured propagation is within one
  poll interval plus two round trips);
* channelsync with a safety buffer of 1 unit per channel;
* baseline: every 15 simulated minutes each channel is set to the master stock
  left; in between, each channel sells what it shows.
"""

from __future__ import annotations

import random
import tempfile

from bench.common import load, make_shop
from channelsync.sim.simulator import OutOfStock

CHANNELS = ("a", "b", "c", "d")


def arrivals(minutes: float, attempts: int, skus: int, seed: int = 1111) -> list[tuple[float, str, int]]:
    """(second, channel, sku index): most demand in the first minutes after midnight."""
    rng = random.Random(seed)
    out = []
    for _ in range(attempts):
        t = min(minutes * 60 - 1, rng.expovariate(1 / (minutes * 60 / 6)))  # front-loaded
        out.append((t, rng.choice(CHANNELS), min(skus - 1, int(rng.paretovariate(1.2)) - 1)))
    return sorted(out)


def baseline(traffic, skus: int, stock: int, resync_s: float = 900.0) -> int:
    sold = [0] * skus
    shown = {c: [stock] * skus for c in CHANNELS}
    next_sync = resync_s
    for t, c, s in traffic:
        while t >= next_sync:
            for ch in CHANNELS:
                shown[ch] = [max(0, stock - sold[i]) for i in range(skus)]
            next_sync += resync_s
        if shown[c][s] > 0:
            shown[c][s] -= 1
            sold[s] += 1
    return sum(max(0, n - stock) for n in sold)


def channelsync(traffic, skus: int, stock: int, poll: float = 2.0, buffer: int = 0) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        shop = make_shop(tmp, skus, stock=stock, buffer=buffer)
        shop.resync_all()
        shop.settle()
        sold = [0] * skus
        next_sync = poll
        for t, c, s in traffic:
            while t >= next_sync:
                shop.poll_all()
                shop.drain_all()
                next_sync += poll
            try:
                shop.platform(c).place_order([(f"S{s:06d}", 1)])
                sold[s] += 1
            except OutOfStock:
                pass
        shop.close()
    return sum(max(0, n - stock) for n in sold)


def bench_oversell(minutes: float, attempts: int, skus: int = 50, stock: int = 10) -> dict:
    traffic = arrivals(minutes, attempts, skus)
    base = baseline(traffic, skus, stock)
    ours = channelsync(traffic, skus, stock)
    buffered = channelsync(traffic, skus, stock, buffer=1)
    return {"burst_min": minutes, "attempts": attempts, "skus": skus, "stock_each": stock,
            "baseline_15min_oversold": base, "channelsync_oversold": ours, "channelsync_buffer1_oversold": buffered,
            "ratio": round(base / ours, 1) if ours else f">{base}x (0 oversold)", "load": load()}
