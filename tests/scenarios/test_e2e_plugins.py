"""End to end, per built-in plugin: the daemon runs that channel (its simulator served over
real HTTP on 127.0.0.1) beside a fake channel; buyers order and cancel on both; at the end
every quantity equals its target and every order was ingested exactly once."""

import random
import time

import pytest

from channelsync.engine import inventory

from channelsync.sim import sandbox
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop
from channelsync.sim.server import serve
from channelsync.sim.simulator import OutOfStock

PLUGINS = tuple(sandbox.DEFAULT_PORTS)
SKUS = [f"E2E-{i:02d}" for i in range(6)]
# a platform may report a paid order closed before shipment as cancelled or as refunded
CLOSED = {"cancelled": "closed", "refunded": "closed"}


@pytest.mark.slow
@pytest.mark.parametrize("plugin", PLUGINS)
def test_daemon_keeps_plugin_and_fake_consistent(plugin, tmp_path):
    from channelsync.sdk.plugins import channel_types, make_manager

    sim = channel_types(make_manager())[plugin].simulator()
    with serve(sim) as server:
        common = {"poll_interval": 0.3, "order_overlap": 10.0, "initial_lookback": 600.0, "rate_per_second": 100.0,
                  "burst": 50}
        shop = Shop(tmp_path, {"real": {"plugin": plugin, "settings": sim.credentials(server.base_url), **common},
                               "fake": dict(common)})
        item = None
        for i, code in enumerate(SKUS):
            sku = sim.seed(code, 0, 1990 + i, title=f"E2E {i}", item_id=item)
            item = sku.item_id if i % 2 == 0 else None  # pairs of SKUs share an item (variants)
            shop.platform("fake").seed(code, 0, 1990 + i)
        shop.import_csv("product_code,sku_code,price,stock:main\n"
                        + "".join(f"P{i // 2},{code},{19.90 + i:.2f},{5 + i}\n" for i, code in enumerate(SKUS)))
        platforms = {"real": sim, "fake": shop.platform("fake")}
        try:
            with shop.running_daemon(tick=0.1):
                wait_for(lambda: all(p.stock(c) == 5 + i for p in platforms.values() for i, c in enumerate(SKUS)),
                         30, "the first sync")
                rnd = random.Random(11)
                placed = {"real": [], "fake": []}
                for n in range(24):
                    name = ("real", "fake")[n % 2]
                    try:
                        order = platforms[name].place_order([(rnd.choice(SKUS), rnd.choice((1, 2)))])
                        placed[name].append(order.order_id)
                    except OutOfStock:
                        pass
                    if n % 5 == 4 and placed[name]:
                        platforms[name].cancel(rnd.choice(placed[name]))
                    time.sleep(0.05)

                def consistent():
                    for name, p in platforms.items():
                        cfg = shop.config.channels[name]
                        db = {r["external_id"]: CLOSED.get(r["status"], r["status"]) for r in shop.store.query(
                            "SELECT external_id, status FROM orders WHERE channel = ?", (name,))}
                        if db != {oid: CLOSED.get(p.orders[oid].status, p.orders[oid].status) for oid in placed[name]}:
                            return False
                        if any(p.stock(c) != inventory.channel_target(shop.store, cfg, c) for c in SKUS):
                            return False
                    return True

                try:
                    wait_for(consistent, 60, "quantities equal to targets and every order ingested")
                except AssertionError:
                    raise AssertionError(_explain(shop, platforms, placed)) from None
                assert shop.store.scalar("SELECT COUNT(*) FROM (SELECT channel, external_id FROM orders "
                                         "GROUP BY 1, 2 HAVING COUNT(*) > 1)") == 0
                assert placed["real"] and placed["fake"]
                assert shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") == 0
        finally:
            shop.close()


def _explain(shop, platforms, placed) -> str:
    """What is still off when the run does not settle: for the failure message."""
    lines = []
    for name, p in platforms.items():
        cfg = shop.config.channels[name]
        db = {r["external_id"]: r["status"] for r in shop.store.query(
            "SELECT external_id, status FROM orders WHERE channel = ?", (name,))}
        for oid in placed[name]:
            if CLOSED.get(db.get(oid), db.get(oid)) != CLOSED.get(p.orders[oid].status, p.orders[oid].status):
                lines.append(f"{name} order {oid}: platform {p.orders[oid].status}, ingested {db.get(oid)}")
        for c in SKUS:
            shown, target = p.stock(c), inventory.channel_target(shop.store, cfg, c)
            if shown != target:
                lines.append(f"{name} {c}: shows {shown}, target {target}")
    lines += [str(r) for r in shop.store.query("SELECT channel, sku_code, kind, status, attempts, last_error FROM outbox")]
    return "not consistent:\n" + "\n".join(lines)
