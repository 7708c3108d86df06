"""Propagation with intake on and off: `make bench` runs it after bench/run.py.

A WooCommerce simulator (over HTTP, sending signed webhooks to the daemon's
intake) beside a fake channel; buyers order on the shop at 10, 100 and 1,000
orders a minute. Measured per order: from the buyer's order to the fake
channel showing the lowered stock (ingest + push: what a buyer on another
channel sees). Intake on: poll every 300 s; off: the default 30 s poll.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from dataclasses import replace

from channelsync.config.settings import ChannelIntake, DaemonConfig, IntakeConfig
from channelsync.daemon import Daemon
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim.fake import FakePlatform
from channelsync.sim.server import serve
from channelsync.telemetry import log
from channelsync.testing.harness import Shop

SKUS = [f"B{i:03d}" for i in range(200)]


def run_point(rate_per_min: float, intake: bool, seconds: float) -> dict:
    FakePlatform.forget_all()
    sim = channel_types(make_manager())["ownsite"].simulator()
    with tempfile.TemporaryDirectory() as tmp, serve(sim) as http:
        poll = 300.0 if intake else 30.0
        common = {"poll_interval": poll, "order_overlap": 30.0, "initial_lookback": 600.0,
                  "reconcile_interval": 3600.0, "rate_per_second": 200.0, "burst": 100}
        shop = Shop(tmp, {"web": {"plugin": "ownsite", "settings": sim.credentials(http.base_url), **common},
                          "b": dict(common)})
        for code in SKUS:
            sim.seed(code, 0, 1990, title=code)
            shop.platform("b").seed(code, 0, 1990)
        shop.import_csv("product_code,sku_code,price,stock:main\n" + "".join(f"P,{c},19.90,1000\n" for c in SKUS))
        channels = dict(shop.config.channels)
        channels["web"] = replace(channels["web"], intake=ChannelIntake(intake, None, sim.messages.settings()))
        config = replace(shop.config, channels=channels, daemon=DaemonConfig(http_port=0),
                         intake=IntakeConfig(port=0))
        daemon = Daemon(config, shop.pm, tick=0.1)
        thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
        thread.start()
        fake = shop.platform("b")
        try:
            deadline = time.monotonic() + 120
            while any(p.stock(c) != 1000 for p in (fake, sim) for c in SKUS):
                if time.monotonic() > deadline:
                    raise RuntimeError("the first sync did not finish in 120 s")
                time.sleep(0.2)
            if intake:
                sim.notify_to(daemon.intake_server.url("web"))
            expected = {c: 1000 for c in SKUS}
            interval, started, n = 60.0 / rate_per_min, time.monotonic(), 0
            latencies = []
            pending: list[tuple[str, float, int]] = []
            while time.monotonic() - started < seconds or pending:
                now = time.monotonic()
                if now - started < seconds and now >= started + n * interval:
                    code = SKUS[n % len(SKUS)]
                    sim.place_order([(code, 1)])
                    expected[code] -= 1
                    pending.append((code, now, expected[code]))
                    n += 1
                for item in list(pending):
                    if fake.stock(item[0]) <= item[2]:
                        latencies.append(time.monotonic() - item[1])
                        pending.remove(item)
                if now - started > seconds + 2 * poll + 30:
                    break  # what is left never arrived: reported as lost
                time.sleep(0.01)
            placed_count = n
        finally:
            sim.stop_notifying()
            daemon.request_stop()
            thread.join(timeout=60)
            shop.close()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    return {"rate": rate_per_min, "intake": intake, "orders": placed_count, "arrived": len(latencies),
            "p50": round(q[49], 2), "p99": round(q[98], 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    log.configure("json", "error")
    durations = {10: 60.0, 100: 30.0, 1000: 15.0} if not args.quick else {10: 12.0, 100: 6.0, 1000: 3.0}
    print("| orders/min | intake | poll | orders | arrived | p50 s | p99 s |")
    print("|---|---|---|---|---|---|---|")
    for rate, seconds in durations.items():
        for intake in (True, False):
            r = run_point(rate, intake, seconds)
            print(f"| {rate:,} | {'on' if intake else 'off'} | {300 if intake else 30} s | {r['orders']} | "
                  f"{r['arrived']} | {r['p50']} | {r['p99']} |", flush=True)


if __name__ == "__main__":
    main()
