"""Benchmarks of issue 14 (speed at 11.11 scale): `make bench`, or `make bench ARGS=--quick`
for a run of about two minutes. Each measure prints as it finishes; the whole run is then
written as a new dated section at the top of bench/RESULTS.md (``--no-write`` to skip).

Everything is in-process against fake channels (``latent`` ones with a fixed API round trip
for propagation), so the numbers measure the core: SQLite, planning, threads. The machine
is shared: every figure carries the load average it was taken under.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/run.py` finds `bench`

from bench import drift, idle, ingest, oversell, propagation, resync, resync_http
from bench.common import machine
from channelsync.telemetry import log

RESULTS = Path(__file__).with_name("RESULTS.md")


def plan(quick: bool) -> list[tuple[str, str, callable]]:
    """(measure, goal, thunk) in the order they run."""
    steps: list[tuple[str, str, callable]] = []
    rates = [(1000, 0.05, 20), (100, 0.0, 20)] if quick else \
        [(r, lat, {10: 120, 100: 90, 1000: 60}[r]) for r in (10, 100, 1000) for lat in (0.0, 0.05)]
    for rate, lat, secs in rates:
        steps.append((f"propagation {rate}/min, {int(lat * 1000)} ms API, 2 s poll",
                      "p99 <= poll + 2 RTT + 50 ms; overhead p99 < 50 ms",
                      lambda r=rate, la=lat, s=secs: propagation.bench_propagation(r, la, s)))
    for hist in ((0, 100_000) if quick else (0, 100_000, 1_000_000)):
        steps.append((f"ingest, {hist:,} orders of history", ">= 10,000 orders/s (one core)",
                      lambda h=hist: ingest.bench_ingest(h, 5_000 if quick else 20_000)))
    steps.append(("ingest through the poll path", ">= 5,000 orders/s",
                  lambda: ingest.bench_poll_path(5_000 if quick else 20_000)))
    for skus in ((10_000,) if quick else (10_000, 30_000, 100_000)):
        steps.append((f"resync {skus:,} SKUs x 4 channels", "100k: < 30 s, < 200 MB; linear",
                      lambda s=skus: resync.bench_resync(s)))
    # 10k ~35 s, 30k ~5.5 min: the simulators regroup their whole catalog on every request,
    # so their side grows faster than linearly and 100k would take about an hour (the core's
    # own CPU in it stays linear: 9 s at 10k, 28 s at 30k)
    for skus in ((1_000,) if quick else (10_000, 30_000, 100_000)):
        steps.append((f"resync over HTTP {skus:,} SKUs x 4 simulators", "the curve (linear)",
                      lambda s=skus: resync_http.bench_resync_http(s)))
    steps.append(("drift check (issue 13)", "-",
                  lambda: drift.bench_drift_check(1_000 if quick else 10_000, 50 if quick else 500)))
    steps.append(("oversell, 11.11 burst", ">= 20x fewer than a 15-min re-sync",
                  lambda: oversell.bench_oversell(10 if quick else 30, 1500 if quick else 4000)))
    steps.append(("idle daemon, 4 channels, 10k SKUs", "< 1 % of a core, < 100 MB RSS",
                  lambda: idle.bench_idle(10_000, 15 if quick else 60)))
    return steps


def isolated(name: str, quick: bool) -> dict:
    """One measure in a process of its own: what an earlier one leaves behind (threads of a
    stopped daemon winding down, a million objects for the collector to walk) must not be
    counted in the next (in one process the 100k resync took 52 s after the ingest runs,
    27 s alone)."""
    out = subprocess.run([sys.executable, __file__, "--step", name] + (["--quick"] if quick else []),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs (~2 min)")
    parser.add_argument("--only", help="run only the measures whose name contains one of these ('|' between)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--step", help=argparse.SUPPRESS)  # one measure, run by ``isolated``
    args = parser.parse_args()
    log.configure("json", "error")
    if args.step:
        thunk = next(t for name, _, t in plan(args.quick) if name == args.step)
        print(json.dumps(thunk()), flush=True)
        return
    rows, started = [], time.monotonic()
    for name, goal, thunk in plan(args.quick):
        if args.only and not any(part in name for part in args.only.split("|")):
            continue
        result = isolated(name, args.quick)
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in result.items()), flush=True)
        rows.append((name, goal, result))
    took = time.monotonic() - started
    if args.no_write or not rows:
        return
    command = "make bench" + (" ARGS=--quick" if args.quick else "") + (f" (--only {args.only})" if args.only else "")
    section = [f"## {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC — `{command}` ({took:.0f} s)", "",
               f"Machine: {machine()}; commit {os.popen('git rev-parse --short HEAD').read().strip()}.", "",
               "| measure | goal | result |", "|---|---|---|"]
    for name, goal, result in rows:
        section.append(f"| {name} | {goal} | " + ", ".join(f"{k}={v}" for k, v in result.items()) + " |")
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    head, sep, rest = text.partition("\n## ")
    RESULTS.write_text(head.rstrip() + "\n\n" + "\n".join(section) + "\n" + (sep + rest if sep else ""))


if __name__ == "__main__":
    main()
