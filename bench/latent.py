"""A fake channel with a fixed API round trip, that notes when each call started and ended.

Registered as channel type ``latent`` for the benchmarks only: every call sleeps
``LATENCY`` seconds first (the time a real platform takes to answer), and the
timings let ``propagation.py`` split a sale's delay into waiting for the poll,
API time, and the agent's own overhead.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from channelsync.sdk.hookspecs import hookimpl
from channelsync.sim.fake import FakeChannel

LATENCY = 0.0
lock = threading.Lock()
order_found: dict[tuple[str, str], float] = {}   # (channel, order id) -> end of the list call that first returned it
push_started: dict[tuple[str, str], float] = {}   # (channel, sku) -> start of the first stock call with it
calls: defaultdict[str, int] = defaultdict(int)    # (channel:method) -> count


def reset(latency: float) -> None:
    global LATENCY
    LATENCY = latency
    with lock:
        order_found.clear()
        push_started.clear()
        calls.clear()


class LatentChannel(FakeChannel):
    plugin = "latent"

    def _enter(self) -> None:
        if LATENCY:
            time.sleep(LATENCY)
        super()._enter()

    def fetch_orders(self, since, until, page_token):
        with lock:
            calls[f"{self.name}:fetch_orders"] += 1
        page = super().fetch_orders(since, until, page_token)
        end = time.monotonic()
        with lock:
            for order in page.items:
                order_found.setdefault((self.name, order.external_id), end)
        return page

    def set_stock(self, updates):
        start = time.monotonic()
        with lock:
            calls[f"{self.name}:set_stock"] += 1
            for u in updates:
                push_started.setdefault((self.name, u.sku_code), start)
        return super().set_stock(updates)

    def list_listings(self, page_token):
        with lock:
            calls[f"{self.name}:list_listings"] += 1
        return super().list_listings(page_token)


@hookimpl
def register_channels(register) -> None:
    register("latent", LatentChannel)
