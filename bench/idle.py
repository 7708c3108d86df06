"""An idle daemon: 4 channels, 10k SKUs, nothing happening. CPU share and RSS.

Runs in a child process so its RSS is the daemon's alone (plus the in-process
fakes, reported separately as the RSS before the daemon started).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from bench.common import load

CHILD = r"""
import json, resource, sys, threading, time
from dataclasses import replace
from channelsync.telemetry import log
log.configure("json", "error")
from bench.common import make_shop
from channelsync.config.settings import DaemonConfig
from channelsync.daemon import Daemon
from channelsync.store import ts, utcnow

def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

skus, tmp, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
shop = make_shop(tmp, skus, catalog=False)
shop.resync_all(); shop.settle()
before = rss()
daemon = Daemon(replace(shop.config, daemon=DaemonConfig(http_port=0)), shop.pm)  # default poll 30 s, tick 0.5 s
since = ts(utcnow())
thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False}); thread.start()
while shop.store.scalar("SELECT COUNT(*) FROM channels WHERE last_resync_at > ?", (since,)) < 4:
    time.sleep(0.2)  # the start-up resync is work, not idling
time.sleep(2)
cpu0, wall0 = time.process_time(), time.monotonic()
time.sleep(seconds)
cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
now = rss()
daemon.request_stop(); thread.join(); shop.close()
print(json.dumps({"skus": skus, "channels": 4, "seconds": round(wall), "cpu_percent_of_core": round(100 * cpu / wall, 2),
                  "rss_mib": round(now), "rss_before_daemon_mib": round(before)}))
"""

MAKE = ("import sys; from channelsync.telemetry import log; log.configure('json', 'error'); "
        "from bench.common import make_shop; make_shop(sys.argv[1], int(sys.argv[2])).close()")


def bench_idle(skus: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", MAKE, tmp, str(skus)], check=True)
        out = subprocess.run([sys.executable, "-c", CHILD, str(skus), tmp, str(seconds)], capture_output=True,
                             text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = load()
    return result
