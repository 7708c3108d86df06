"""A full resync of N SKUs on 4 in-process fake channels: time and peak memory.

Each size runs in a child process of its own, so its peak RSS is its own (a
resync's memory must not grow with the catalog: pages are read and recorded
one at a time). The catalog import and the listings' seeding are not timed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, tempfile, time
from channelsync.telemetry import log
log.configure("json", "error")
from bench.common import make_shop
skus, tmp = int(sys.argv[1]), sys.argv[2]
if sys.argv[3] == "catalog":
    make_shop(tmp, skus).close()
else:
    shop = make_shop(tmp, skus, catalog=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    reports = shop.resync_all()
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shop.close()
    print(json.dumps({"skus": skus, "channels": 4, "seconds": round(took, 1), "cpu_s": round(cpu, 1),
                      "peak_rss_mib": round(peak),
                      "rss_before_mib": round(before), "listings": sum(r.seen for r in reports.values())}))
"""


def bench_resync(skus: int) -> dict:
    from bench.common import load

    with tempfile.TemporaryDirectory() as tmp:  # the import in one child, the resync in a fresh one
        subprocess.run([sys.executable, "-c", CHILD, str(skus), tmp, "catalog"], check=True)
        out = subprocess.run([sys.executable, "-c", CHILD, str(skus), tmp, "resync"], capture_output=True,
                             text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = load()
    return result
