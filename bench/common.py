"""What every bench module shares: a shop on fake channels, the machine's load, timing helpers."""

from __future__ import annotations

import os
import platform
import resource
import statistics
from datetime import UTC, datetime

from channelsync.sim.fake import FakePlatform
from channelsync.testing.harness import Shop


def make_shop(tmp: str, skus: int, channels=("a", "b", "c", "d"), poll: float = 30.0, stock: int = 1000,
              plugins: tuple = (), catalog: bool = True, **opts) -> Shop:
    """A shop with ``skus`` SKUs of ``stock`` units, each listed (at 0) on every channel."""
    FakePlatform.forget_all()
    shop = Shop(tmp, {c: {"poll_interval": poll, **opts} for c in channels}, plugins=plugins)
    codes = [f"S{i:06d}" for i in range(skus)]  # one string per code, shared by every fake (as a catalog would)
    rows = ["product_code,sku_code,price,stock:main"] + [f"P{i // 4},{c},19.90,{stock}" for i, c in enumerate(codes)]
    for c in channels:
        p = shop.platform(c)
        for code in codes:
            p.seed(code, 0, 1990)
    if catalog:  # else the database in ``tmp`` has it already
        shop.import_csv("\n".join(rows) + "\n")
    return shop


def load() -> str:
    """The 1/5/15-minute load averages, written next to every figure (the machine is shared)."""
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    return (f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def peak_rss_mib() -> float:
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]
