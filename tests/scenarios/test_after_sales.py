"""After-sales end to end, on every channel against its own simulator (in-process).

Each test runs once per platform: the channel under test ("ch") sells from SH then GZ;
a fake web shop ("web") sells from SH only, so its targets show what the other
channels see. Buyers act on the simulator (a refund of one line, an after-sale
return or exchange); channelsync polls, ships, receives; the ledger, on hand,
reservations and every platform's shown quantity are checked after each step.
"""

from __future__ import annotations

import httpx
import pytest

from channelsync.engine import inventory, orders, returns
from channelsync.sdk.errors import Rejected
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.sync import shipping
from channelsync.testing.harness import Shop

PLATFORMS = ("fake", *sandbox.DEFAULT_PORTS)
CATALOG = ("product_code,sku_code,price,stock:SH,stock:GZ\n"
           "P1,A,10.00,2,5\nP1,B,12.00,6,0\nP2,C,8.00,3,3\n")
#: platforms whose order API ships part of an order (the others refuse a partial parcel)
SPLITS = {"fake", "taobao", "wechat"}
#: platforms that report an exchange (WooCommerce has none; the operator records it)
EXCHANGES = {"fake", "jd", "wechat"}


@pytest.fixture(params=PLATFORMS)
def shop(request, tmp_path):
    plugin = request.param
    fast = {"rate_per_second": 1000.0, "burst": 1000, "initial_lookback": 3600.0, "order_overlap": 120.0}
    channels = {"web": {"warehouses": ("SH",), **fast}}
    if plugin == "fake":
        channels["ch"] = {"warehouses": ("SH", "GZ"), **fast}
    else:
        sim = channel_types(make_manager())[plugin].simulator()
        channels["ch"] = {"plugin": plugin, "settings": sim.credentials("http://sim.invalid"),
                          "transport": httpx.WSGITransport(app=sim), "warehouses": ("SH", "GZ"), **fast}
    s = Shop(tmp_path, channels, warehouses={"SH": "Shanghai", "GZ": "Guangzhou"})
    s.plugin = plugin
    s.sim = s.platform("ch") if plugin == "fake" else sim
    item = None
    for code, price in (("A", 1000), ("B", 1200), ("C", 800)):
        sku = s.sim.seed(code, 0, price, title=code, item_id=item)
        item = item or sku.item_id  # A and B are variants of one item where the platform groups them
        s.platform("web").seed(code, 0, price)
    s.import_csv(CATALOG)
    s.resync_all()
    s.settle()
    assert [s.sim.stock(c) for c in "ABC"] == [7, 6, 6]
    yield s
    check_books(s)
    s.close()


def check_books(shop: Shop) -> None:
    """The ledger sums to on hand; every platform shows its target; nothing parked."""
    for r in shop.store.query("SELECT sku_code, warehouse, on_hand FROM stock"):
        assert shop.store.scalar("SELECT COALESCE(SUM(delta), 0) FROM stock_movements WHERE sku_code = ? "
                                 "AND warehouse = ?", (r["sku_code"], r["warehouse"])) == r["on_hand"]
    shop.settle()
    for name, platform in (("ch", shop.sim), ("web", shop.platform("web"))):
        cfg = shop.config.channels[name]
        for code in "ABC":
            assert platform.stock(code) == inventory.channel_target(shop.store, cfg, code), (name, code)
    assert shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") == 0


def ordered(shop: Shop, lines) -> dict:
    placed = shop.sim.place_order(lines)
    shop.settle()
    return shop.store.one("SELECT * FROM orders WHERE channel = 'ch' AND external_id = ?", (placed.order_id,))


def lines(shop: Shop, row: dict) -> dict[str, dict]:
    return {ln["sku_code"]: ln for ln in orders.detail(shop.store, row)["lines"]}


def fresh(shop: Shop, row: dict) -> dict:
    return shop.store.one("SELECT * FROM orders WHERE id = ?", (row["id"],))


def ship_all(shop: Shop, row: dict, tracking: str = "SF100") -> dict:
    return shipping.ship(shop.lanes["ch"], str(row["id"]), "SF", tracking)


def test_refund_of_one_line_before_shipment_releases_only_that_line(shop):
    row = ordered(shop, [("A", 2), ("C", 3)])
    assert inventory.reserved(shop.store, "A") == 2 and inventory.reserved(shop.store, "C") == 3
    web = shop.config.channels["web"]
    assert inventory.channel_target(shop.store, web, "C") == 0  # 3 reserved in SH by priority, SH had 3
    shop.sim.refund_line(row["external_id"], "C", 3)
    shop.settle()
    got = lines(shop, row)
    assert (got["C"]["refunded"], got["C"]["released"], got["C"]["open"]) == (3, 3, 0)
    assert (got["A"]["refunded"], got["A"]["released"], got["A"]["open"]) == (0, 0, 2)
    assert inventory.reserved(shop.store, "C") == 0 and inventory.reserved(shop.store, "A") == 2
    assert inventory.channel_target(shop.store, web, "C") == 3  # the web shop sells C again
    assert fresh(shop, row)["status"] == "paid"
    assert [e["kind"] for e in orders.detail(shop.store, row)["after_sales"]] == ["refund"]


def test_refund_after_shipment_restocks_nothing_until_the_goods_are_received(shop):
    row = ordered(shop, [("A", 2), ("B", 1)])
    result = ship_all(shop, row)
    # the order is read back after the ship: its platform status is the platform's new one at once
    assert result["status"] == "shipped" and fresh(shop, row)["platform_status"] == result["platform_status"]
    assert result["platform_status"] != row["platform_status"], "still the status from before the ship"
    on_hand = inventory.on_hand(shop.store, "A")
    shop.sim.return_line(row["external_id"], "A", 1)
    shop.settle()
    got = lines(shop, row)["A"]
    assert (got["refunded"], got["shipped"], got["expected_back"], got["received"]) == (1, 2, 1, 0)
    assert inventory.on_hand(shop.store, "A") == on_hand  # nothing back on hand until it arrives
    assert [r["expected_back"] for r in returns.expected_back(shop.store, "ch")] == [1]


def test_a_return_received_with_one_damaged_unit(shop):
    row = ordered(shop, [("A", 3)])
    ship_all(shop, row)
    assert inventory.on_hand(shop.store, "A", ["SH"]) == 0 and inventory.on_hand(shop.store, "A", ["GZ"]) == 4
    shop.sim.return_line(row["external_id"], "A", 3)
    shop.settle()
    row = fresh(shop, row)
    assert row["status"] == "refunded"  # every unit's money went back, after shipment
    result = returns.receive_now(shop.store, shop.config, row, orders.line_of(shop.store, row, "A"), 3, "SH",
                                 damaged=1, actor="cli")
    assert (result["restocked"], result["damaged"], result["expected_back"]) == (2, 1, 0)
    ref = f"ch:{row['external_id']}"
    assert [(r["warehouse"], r["delta"], r["reason"]) for r in shop.store.query(
        "SELECT warehouse, delta, reason FROM stock_movements WHERE reference = ? AND reason != 'shipment' "
        "ORDER BY id", (ref,))] == [("SH", 2, "return"), ("SH", 1, "return"), ("SH", -1, "damaged")]
    assert inventory.on_hand(shop.store, "A", ["SH"]) == 2  # the good two, where they arrived
    shop.settle()
    assert inventory.channel_target(shop.store, shop.config.channels["web"], "A") == 2
    assert shop.platform("web").stock("A") == 2 and shop.sim.stock("A") == 6  # 2 (SH) + 4 (GZ)
    assert returns.expected_back(shop.store) == []


def test_an_exchange_is_a_return_and_a_new_shipment(shop):
    row = ordered(shop, [("C", 1)])
    ship_all(shop, row)
    if shop.plugin in EXCHANGES:  # the platform reports the swap: expected back from its case
        shop.sim.return_line(row["external_id"], "C", 1, exchange=True)
        shop.settle()
        assert lines(shop, fresh(shop, row))["C"]["expected_back"] == 1
    before = inventory.on_hand(shop.store, "C")
    result = returns.exchange_now(shop.store, shop.config, fresh(shop, row),
                                  orders.line_of(shop.store, row, "C"), 1, carrier="SF", tracking_no="SF-X")
    assert result["expected_back"] == 1  # one unit back, whoever reported it first
    assert inventory.on_hand(shop.store, "C") == before - 1  # the replacement left
    parcels = orders.detail(shop.store, row)["parcels"]
    assert [p["kind"] for p in parcels][-1] == "exchange" and parcels[-1]["tracking_no"] == "SF-X"
    returns.receive_now(shop.store, shop.config, fresh(shop, row), orders.line_of(shop.store, row, "C"), 1, "GZ")
    assert inventory.on_hand(shop.store, "C") == before
    assert lines(shop, row)["C"]["expected_back"] == 0


def test_a_split_shipment(shop):
    row = ordered(shop, [("A", 1), ("B", 2)])
    if shop.plugin not in SPLITS:
        with pytest.raises(Rejected, match="part of an order|whole"):
            shipping.ship(shop.lanes["ch"], str(row["id"]), "SF", "SF1", [("A", 1)])
        assert fresh(shop, row)["status"] == "paid" and shop.store.query("SELECT * FROM shipments") == []
        assert inventory.reserved(shop.store, "A") == 1
        return
    first = shipping.ship(shop.lanes["ch"], str(row["id"]), "SF", "SF1", [("A", 1)])
    assert (first["status"], first["left_to_ship"]) == ("paid", 2)
    assert inventory.reserved(shop.store, "A") == 0 and inventory.reserved(shop.store, "B") == 2
    shop.settle()
    assert fresh(shop, row)["status"] == "paid"  # a later poll does not book the rest
    second = ship_all(shop, fresh(shop, row), "SF2")
    assert (second["status"], second["left_to_ship"]) == ("shipped", 0)
    shop.settle()
    mine = [p for p in orders.detail(shop.store, row)["parcels"] if p["source"] == "channelsync"]
    assert [(p["tracking_no"], [(ln["sku_code"], ln["quantity"]) for ln in p["lines"]]) for p in mine] == [
        ("SF1", [("A", 1)]), ("SF2", [("B", 2)])]
    ref = f"ch:{row['external_id']}"
    assert shop.store.scalar("SELECT SUM(delta) FROM stock_movements WHERE reference = ? AND reason = 'shipment'",
                             (ref,)) == -3
