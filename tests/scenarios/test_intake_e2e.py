"""End to end with intake on: every built-in simulator sends its platform's messages to the
daemon's intake endpoint (TMC: held for the daemon's listener).

* with a 300 s poll, an order on any channel reaches every other channel's stock — which is
  only possible through the doorbell, since no scheduled poll comes in the test's time;
* with every message lost, orders still arrive by polling (a short poll for that case);
* with duplicated, reordered, delayed and badly signed messages, nothing doubles.
"""

from dataclasses import replace

import pytest

from channelsync.config.settings import ChannelIntake, DaemonConfig, IntakeConfig
from channelsync.engine import inventory
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.sim.server import serve
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop

SKUS = [f"IN-{i:02d}" for i in range(4)]


def _run(tmp_path, poll_interval, faults, orders_per_channel=2):
    types = channel_types(make_manager())
    # the platforms whose simulators send messages (Pinduoduo's message service is not built yet)
    sims = {p: sim for p in tuple(sandbox.DEFAULT_PORTS) for sim in [types[p].simulator()] if sim.messages}
    servers = {p: serve(sim) for p, sim in sims.items()}
    started = {p: s.__enter__() for p, s in servers.items()}
    try:
        common = {"poll_interval": poll_interval, "order_overlap": 30.0, "initial_lookback": 600.0,
                  "reconcile_interval": 3600.0, "rate_per_second": 100.0, "burst": 50}
        shop = Shop(tmp_path, {p: {"plugin": p, "settings": sim.credentials(started[p].base_url), **common}
                               for p, sim in sims.items()})
        channels = {}
        for p, sim in sims.items():
            settings = sim.messages.settings(started[p].base_url)
            if sim.messages.held:
                settings = settings | {"poll_wait": 1.0}
            channels[p] = replace(shop.config.channels[p], intake=ChannelIntake(enabled=True, settings=settings))
            for code in SKUS:
                sim.seed(code, 0, 1990, title=code)
        config = replace(shop.config, channels=channels, daemon=DaemonConfig(http_port=0),
                         intake=IntakeConfig(host="127.0.0.1", port=0))
        shop.import_csv("product_code,sku_code,price,stock:main\n" + "".join(f"P,{c},19.90,50\n" for c in SKUS))
        try:
            with shop.running_daemon(config, tick=0.1) as daemon:
                try:
                    wait_for(lambda: all(s.stock(c) == 50 for s in sims.values() for c in SKUS), 60, "the first sync")
                    wait_for(lambda: daemon.started.is_set() and daemon.intake_server is not None, 30,
                             "the intake server")
                    for p, sim in sims.items():
                        url = None if sim.messages.held else daemon.intake_server.url(p)
                        sim.notify_to(url, **faults)
                    placed = {p: [] for p in sims}
                    for p, sim in sims.items():
                        for n in range(orders_per_channel):
                            placed[p].append(sim.place_order([(SKUS[n % len(SKUS)], 1)]).order_id)
                    sold = {c: sum(1 for p in sims for n in range(orders_per_channel) if SKUS[n % len(SKUS)] == c)
                            for c in SKUS}

                    def arrived():
                        ingested = shop.store.scalar("SELECT COUNT(*) FROM orders")
                        targets = all(s.stock(c) == inventory.channel_target(shop.store, config.channels[p], c)
                                      for p, s in sims.items() for c in SKUS)
                        return ingested == sum(map(len, placed.values())) and targets and \
                            all(s.stock(c) == 50 - sold[c] for s in sims.values() for c in SKUS)

                    wait_for(arrived, 90, "every order on every channel, and the stock everywhere")
                    daemon.health_seen = daemon.health()
                    assert shop.store.scalar("SELECT COUNT(*) FROM (SELECT channel, external_id FROM orders "
                                             "GROUP BY 1, 2 HAVING COUNT(*) > 1)") == 0
                    assert all(inventory.on_hand(shop.store, c) - inventory.reserved(shop.store, c) == 50 - sold[c]
                               for c in SKUS)
                    return daemon, sims
                finally:
                    for sim in sims.values():
                        sim.stop_notifying()
        finally:
            shop.close()
    finally:
        for s in servers.values():
            s.__exit__(None, None, None)


@pytest.mark.slow
def test_messages_carry_orders_across_channels_with_a_300s_poll(tmp_path):
    daemon, sims = _run(tmp_path, 300.0, {})
    totals = daemon.intake_server.intake.ledger.totals
    assert all(totals.get(p, {}).get("accepted", 0) >= 2 for p in sims), totals
    assert not any(reason in by for by in totals.values() for reason in ("signature", "malformed", "size"))
    intake = {name: ch["intake"] for name, ch in daemon.health_seen["channels"].items()}
    assert intake["taobao"] == {"enabled": True, "connected": True}  # the TMC listener's link
    assert intake["ownsite"] == {"enabled": True, "connected": None}  # webhooks: no link to keep


@pytest.mark.slow
def test_every_message_lost_orders_still_arrive_by_polling(tmp_path):
    daemon, sims = _run(tmp_path, 2.0, {"lose": 1.0})
    assert not any(by.get("accepted") for by in daemon.intake_server.intake.ledger.totals.values())


@pytest.mark.slow
def test_duplicated_reordered_delayed_messages_double_nothing(tmp_path):
    daemon, _ = _run(tmp_path, 300.0, {"duplicate": 1.0, "reorder": 0.5, "delay": 0.3, "delay_seconds": 0.5,
                                       "seed": 5}, orders_per_channel=4)
    totals = daemon.intake_server.intake.ledger.totals
    webhooks = ("ownsite", "wechat", "jd")  # every message was sent twice: the second is a replay
    assert all(totals[p].get("replay", 0) >= 1 for p in webhooks), totals
