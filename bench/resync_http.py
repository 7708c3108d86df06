"""A full resync of N SKUs on 4 real plugins against their HTTP simulators on 127.0.0.1.

The sandbox's simulators (Taobao, JD, Pinduoduo, the WooCommerce own site) run in a
process of their own, seeded with the catalog (four SKUs an item, as in the in-process
bench); the resync runs in another, so its time and peak RSS are the core's plus the
plugins' and HTTP's, not the simulators'. Each plugin keeps its own page size and its
detail calls. The simulators' rate limit is off and each channel's client budget is
raised to 1,000 calls/s: the figure is what the machine does. What the platforms'
published rates would impose is given beside it (``calls`` / the plugin's rate).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

PLUGINS = ("taobao", "jd", "pdd", "ownsite")

SIMS = r"""
import json, sys
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
skus, plugins = int(sys.argv[1]), sys.argv[2].split(",")
running = sandbox.start(channel_types(make_manager()), plugins=plugins, ports={p: 0 for p in plugins})
sandbox.seed(running, [{"sku_code": f"S{i:06d}", "product_code": f"P{i // 4}", "price": 1990, "quantity": 0,
                        "title": f"S{i:06d}"} for i in range(skus)])
print(json.dumps({name: r.credentials() for name, r in running.items()}), flush=True)
sys.stdin.read()  # serve until the bench closes our stdin
sandbox.stop(running)
"""

CHILD = r"""
import json, resource, sys, time
from channelsync.telemetry import log
log.configure("json", "error")
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.testing.harness import Shop
skus, tmp, step, settings = int(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
shop = Shop(tmp, {p: {"plugin": p, "settings": s, "poll_interval": 30.0, "rate_per_second": 1000.0, "burst": 1000}
                  for p, s in settings.items()})
if step == "catalog":
    shop.import_csv("product_code,sku_code,price,stock:main\n" +
                    "".join(f"P{i // 4},S{i:06d},19.90,1000\n" for i in range(skus)))
    shop.close()
    sys.exit(0)
calls = {}
for name, lane in shop.lanes.items():
    def counted(fn, _real=lane.call, _name=name):
        calls[_name] = calls.get(_name, 0) + 1
        return _real(fn)
    lane.call = counted
rates = {n: lane.adapter.capabilities.rate_per_second for n, lane in shop.lanes.items()}
started, cpu = time.perf_counter(), time.process_time()
reports = shop.resync_all()
took, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
shop.close()
print(json.dumps({"skus": skus, "channels": ",".join(settings), "seconds": round(took, 1), "cpu_s": round(cpu, 1),
                  "peak_rss_mib": round(peak), "listings": sum(r.seen for r in reports.values()),
                  "linked": sum(r.linked for r in reports.values()), "calls": sum(calls.values()),
                  "at_platform_rates_s": round(max(calls[n] / rates[n] for n in calls))}))
"""


def bench_resync_http(skus: int, plugins: tuple[str, ...] = PLUGINS) -> dict:
    from bench.common import load

    sims = subprocess.Popen([sys.executable, "-c", SIMS, str(skus), ",".join(plugins)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        settings = sims.stdout.readline()
        if not settings:
            raise RuntimeError("the simulators did not start")
        with tempfile.TemporaryDirectory() as tmp:  # the import in one child, the resync in a fresh one
            subprocess.run([sys.executable, "-c", CHILD, str(skus), tmp, "catalog", settings], check=True)
            out = subprocess.run([sys.executable, "-c", CHILD, str(skus), tmp, "resync", settings],
                                 capture_output=True, text=True, check=True)
    finally:
        sims.stdin.close()
        sims.wait(timeout=30)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = load()
    return result
