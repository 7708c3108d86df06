"""Every simulator limited to half its plugin's default rate: a resync and the daemon converge,
with few rate-limited answers.

The bound: at most ``REFUSALS_PER_PHASE`` (3) refused calls per channel in each phase (the
resync run without a daemon, then the daemon, whose lanes start from the rate the resync
learnt and kept). A refused call cuts the channel's rate a little under half and its burst to
one, recovery climbs only every 30 quiet seconds and to 90 % of a refused rate, so a limit at
half the default costs one refusal where the budget meets it and rarely a second at the edge —
never one per call, and a page's detail calls are retried one by one. Measured here: resync
1-2 per channel, daemon 0. The five channels' resyncs run at once and WeChat's "retry next
minute" is shortened to 3 s (``short_wechat_minute``): about 75 s in all, most of it JD's 42
calls at 1 call/s. Before the adaptive budget a Taobao resync at 2 calls/s took 6 minutes with
51 refusals, and WeChat never converged (issue 12).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time

import pytest

from channelsync.engine import inventory
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.sim.server import serve
from channelsync.sim.simulator import OutOfStock
from channelsync.store import Store
from channelsync.sync import reconcile
from channelsync.sync.lane import open_lane
from channelsync.sync.runner import ChannelRunner
from channelsync.sync.stopping import Stop
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop

PLUGINS = tuple(sandbox.DEFAULT_PORTS)
SKUS = [f"HR-{i:02d}" for i in range(8)]
REFUSALS_PER_PHASE = 3


def refusals(sims) -> dict[str, int]:
    return {name: sim.rate_limited for name, sim in sims.items()}


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_at_half_the_default_rate_resync_and_the_daemon_converge_with_few_refusals(tmp_path, short_wechat_minute):
    types = channel_types(make_manager())
    sims = {}
    for plugin in PLUGINS:
        caps = types[plugin].capabilities
        sims[plugin] = types[plugin].simulator(rate_limit=caps.rate_per_second / 2, burst=max(1, caps.rate_burst // 2))
    with contextlib.ExitStack() as stack:
        urls = {name: stack.enter_context(serve(sim)).base_url for name, sim in sims.items()}
        # the plugin's default rate and burst: no rate_per_second in the config
        shop = Shop(tmp_path, {name: {"plugin": name, "settings": sim.credentials(urls[name]), "poll_interval": 1.0,
                                      "order_overlap": 30.0, "initial_lookback": 600.0}
                               for name, sim in sims.items()})
        stack.callback(shop.close)
        for sim in sims.values():
            item = None
            for i, code in enumerate(SKUS):
                sku = sim.seed(code, 0, 1990 + i, title=f"HR {i}", item_id=item)
                item = sku.item_id if i % 2 == 0 else None
        shop.import_csv("product_code,sku_code,price,stock:main\n"
                        + "".join(f"P{i // 2},{code},{19.90 + i:.2f},{20 + i}\n" for i, code in enumerate(SKUS)))

        def on_target(store=shop.store, names=tuple(sims)) -> bool:
            return all(sims[name].stock(c) == inventory.channel_target(store, shop.config.channels[name], c)
                       for name in names for c in SKUS)

        stop, outcome = Stop(), {}

        def resync_and_push(name: str) -> None:
            """`channelsync resync --channel <name>` and the pushes it queued, on a connection of
            this thread's (each channel's budget is its own: five at once is five times one)."""
            store = Store(shop.config.db_path)
            try:
                runner = ChannelRunner(open_lane(shop.config, name, store, shop.types, shop.pm, stop=stop))
                try:
                    outcome[name] = reconcile.resync(runner.lane)
                    wait_for(lambda: stop.check() or (runner.drain(), on_target(store, (name,)))[1], 240,
                             f"{name} at its target")
                finally:
                    runner.close()
            except BaseException as exc:  # noqa: BLE001 - raised in the test's thread below
                outcome[name] = exc
            finally:
                store.close()

        # --- phase 1: a resync of every channel without a daemon, the five at once (JD's alone
        # takes 45 s at its 1 call/s)
        threads = [threading.Thread(target=resync_and_push, args=(name,), daemon=True) for name in sims]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 300
        try:
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        finally:
            stop.event.set()  # one still running (a failure) ends at its next wait or call
            for thread in threads:
                thread.join(30)
        assert not any(t.is_alive() for t in threads), "a channel's resync still running 300 s on"
        for result in outcome.values():
            if isinstance(result, BaseException):
                raise result
        reports = outcome
        assert {n: r.linked for n, r in reports.items()} == {n: len(SKUS) for n in sims}, reports
        assert on_target()
        resync_refusals = refusals(sims)
        assert max(resync_refusals.values()) <= REFUSALS_PER_PHASE, resync_refusals
        assert shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") == 0

        # --- phase 2: the daemon (fresh budgets at the default rate) while buyers order everywhere
        with shop.running_daemon(tick=0.1):
            rnd, placed = random.Random(12), {name: [] for name in sims}
            for n in range(16):
                name = PLUGINS[n % len(PLUGINS)]
                with contextlib.suppress(OutOfStock):
                    placed[name].append(sims[name].place_order([(rnd.choice(SKUS), 1)]).order_id)

            def ingested() -> bool:
                return all(shop.store.scalar("SELECT COUNT(*) FROM orders WHERE channel = ?", (name,)) == len(ids)
                           for name, ids in placed.items())

            wait_for(lambda: ingested() and on_target(), 240, "every order ingested and every channel at its target")
        daemon_refusals = {n: c - resync_refusals[n] for n, c in refusals(sims).items()}
        assert max(daemon_refusals.values()) <= REFUSALS_PER_PHASE, daemon_refusals
        print(f"refused calls: resync {resync_refusals}, daemon {daemon_refusals}")
