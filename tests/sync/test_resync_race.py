"""Found by the kill -9 test (tests/scenarios/test_kill9.py): a sale between a resync's
order poll and its listing read must not be subtracted twice from ``expected`` (it was,
before issue 13's stock-truth work; this pins the fix)."""

import httpx

from channelsync.engine import inventory
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sync import reconcile
from channelsync.testing.harness import Shop


def test_a_sale_between_the_resync_poll_and_its_listing_read(tmp_path):
    sim = channel_types(make_manager())["taobao"].simulator()
    sim.seed("A", 0, 1000)
    # a budget of 100 calls/s: Taobao's default 5/s made the test 4 s of waiting for its 26 calls
    shop = Shop(tmp_path, {"tb": {"plugin": "taobao", "initial_lookback": 600, "order_overlap": 30,
                                  "rate_per_second": 100.0, "burst": 50,
                                  "settings": sim.credentials("http://top"), "transport": httpx.WSGITransport(app=sim)}})
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,10\n")
    shop.resync_all()
    shop.settle()
    lane = shop.lanes["tb"]
    read = lane.adapter.list_listings
    sold = []

    def buyer_strikes_first(token):
        if not sold:
            sold.append(sim.place_order([("A", 2)]))
        return read(token)

    lane.adapter.list_listings = buyer_strikes_first
    reconcile.resync(lane)
    lane.adapter.list_listings = read
    for _ in range(3):
        shop.settle()
    target = inventory.channel_target(shop.store, shop.config.channels["tb"], "A")
    assert target == 8
    assert sim.stock("A") == target, "the platform shows the sold units again"
