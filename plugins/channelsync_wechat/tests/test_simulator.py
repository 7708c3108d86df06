"""Limits and behaviour the WeChat simulator enforces, as the platform does: page sizes, one SKU
a stock call, the 7-day order and 24-hour after-sale windows, stock never subtracted below 0,
SKU update frequency, delivery, refunds through after-sales, shelf and title."""

from datetime import timedelta

import pytest

from channelsync.sdk.errors import NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.models import ListingContent, OrderStatus, PriceUpdate, StockUpdate
from channelsync.testing.pytest_plugin import every_item, every_page, resolved
from channelsync_wechat import api
from channelsync_wechat.channel import WechatChannel
from channelsync_wechat.client import WechatClient
from channelsync_wechat.sim import APPID, SECRET


@pytest.fixture
def raw(http, clock):
    """A bare client: sends any body to any path with a valid token, returns the answer."""
    client = WechatClient(http.request, appid=APPID, secret=SECRET, clock=clock)

    def call(path, body):
        token = client.fetch_token().token
        return http.post(path, params={"access_token": token}, json=body).json()
    return call


def update(sku, delta):
    return StockUpdate(sku.sku_code, sku.external_id, sku.item_id, sku.quantity + delta, delta, sku.quantity, "k")


# --- paging and windows ------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 31, "30"])
def test_product_page_size_is_at_most_30(raw, size):
    answer = raw(api.PRODUCT_LIST, {"status": 5, "page_size": size})
    assert answer["errcode"] == 40097 and "page_size" in answer["errmsg"]


def test_product_pages_follow_next_key_without_repeats(sim, raw):
    for i in range(65):
        sim.seed(f"PG-{i}", 1, 100)
    seen, key = [], ""
    while True:
        answer = raw(api.PRODUCT_LIST, {"status": 5, "page_size": 30, **({"next_key": key} if key else {})})
        assert answer["total_num"] == 65
        seen += answer["product_ids"]
        if not answer["product_ids"] or len(seen) >= 65:
            break
        key = answer["next_key"]
    assert len(seen) == len(set(seen)) == 65
    assert raw(api.PRODUCT_LIST, {"page_size": 30, "next_key": "zz"})["errcode"] == 40097


def test_listings_include_delisted_products_after_those_on_sale(sim, adapter):
    on = sim.seed("ON-1", 2, 100)
    off = sim.seed("OFF-1", 3, 100, on_shelf=False)
    listings = list(every_item(adapter.list_listings))
    assert [(ls.external_id, ls.on_shelf) for ls in listings] == [(on.external_id, True), (off.external_id, False)]


def test_order_page_size_is_at_most_100(raw, clock):
    now = int(clock.now.timestamp())
    answer = raw(api.ORDER_LIST, {"update_time_range": {"start_time": now - 60, "end_time": now}, "page_size": 101})
    assert answer["errcode"] == 40097


def test_order_window_is_at_most_seven_days(raw, clock):
    now = int(clock.now.timestamp())
    week = 7 * 86400
    ok = raw(api.ORDER_LIST, {"update_time_range": {"start_time": now - week, "end_time": now}, "page_size": 10})
    assert ok["errcode"] == 0 and ok["has_more"] is False
    too_long = raw(api.ORDER_LIST, {"update_time_range": {"start_time": now - week - 1, "end_time": now},
                                    "page_size": 10})
    assert too_long["errcode"] == 10020004


def test_adapter_reports_a_too_long_order_window_as_rejected(adapter, clock):
    with pytest.raises(Rejected) as info:
        adapter.fetch_orders(clock.now - timedelta(days=8), clock.now, None)
    assert info.value.code == "10020004"


def test_aftersale_window_is_at_most_24_hours(raw, adapter, clock):
    now = int(clock.now.timestamp())
    assert raw(api.AFTERSALE_LIST, {"begin_update_time": now - 86400, "end_update_time": now})["errcode"] == 0
    assert raw(api.AFTERSALE_LIST, {"begin_create_time": now - 86401, "end_create_time": now})["errcode"] == 10020004
    with pytest.raises(Rejected) as info:
        adapter.fetch_refunds(clock.now - timedelta(hours=25), clock.now, None)
    assert info.value.code == "10020004"
    assert adapter.capabilities.max_refund_window <= api.AFTERSALE_WINDOW  # cut inside the order window
    assert adapter.capabilities.max_order_window == api.ORDER_WINDOW  # which it no longer shortens


def test_orders_page_in_update_time_order(sim, adapter, clock):
    sim.seed("OP-1", 500, 100)
    placed = []
    for _ in range(130):
        placed.append(sim.place_order([("OP-1", 1)]).order_id)
        clock.now += timedelta(seconds=1)
    pages = list(every_page(lambda tok: adapter.fetch_orders(clock.now - timedelta(hours=1), clock.now, tok)))
    assert [len(p.items) for p in pages] == [100, 30]
    assert [d.key for p in pages for d in p.items] == placed  # ids in order; each order is read as a detail


# --- stock -------------------------------------------------------------------------------------------

def test_stock_update_names_one_sku_and_subtracts_never_below_zero(sim, raw, adapter):
    sku = sim.seed("ST-1", 3, 100)
    body = {"product_id": sku.item_id, "sku_id": sku.external_id, "diff_type": 2, "num": 4}
    assert raw(api.STOCK_UPDATE, body)["errcode"] == 10020219
    assert sim.stock("ST-1") == 3
    with pytest.raises(Transient) as info:
        adapter.set_stock([update(sku, -4)])
    assert info.value.code == "10020219" and info.value.maybe_applied is False
    assert raw(api.STOCK_UPDATE, {**body, "diff_type": 3, "num": 9})["errcode"] == 0
    assert sim.stock("ST-1") == 9
    assert raw(api.STOCK_UPDATE, {**body, "diff_type": 4})["errcode"] == 40097
    assert raw(api.STOCK_UPDATE, {**body, "sku_id": "1"})["errcode"] == 10020052


def test_stock_update_too_often_is_refused_per_sku(clock, connect_simulator):
    sim, adapter = connect_simulator(WechatChannel, clock=clock, sku_update_interval=1.0)
    a, b = sim.seed("FR-A", 5, 100), sim.seed("FR-B", 5, 100)
    assert adapter.set_stock([update(a, 1)])[0].ok
    with pytest.raises(RateLimited) as info:
        adapter.set_stock([update(sim.find("FR-A"), 1)])
    assert info.value.code == "10020112"
    assert adapter.set_stock([update(b, 1)])[0].ok, "the limit is per SKU"
    clock.now += timedelta(seconds=1)
    assert adapter.set_stock([update(sim.find("FR-A"), 1)])[0].ok
    assert sim.stock("FR-A") == 7


# --- prices, text, shelf ----------------------------------------------------------------------------------

def test_auditfree_sets_prices_and_a_bad_sku_does_not_block_its_siblings(sim, adapter):
    a = sim.seed("PR-A", 1, 1000)
    b = sim.seed("PR-B", 1, 1000, item_id=a.item_id)
    results = adapter.set_prices([PriceUpdate("PR-A", a.external_id, a.item_id, 1290),
                                  PriceUpdate("GONE", "424242", a.item_id, 990),
                                  PriceUpdate("PR-B", b.external_id, b.item_id, 1390)])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, NotFound)
    assert (sim.find("PR-A").price, sim.find("PR-B").price) == (1290, 1390)


def test_auditfree_refuses_a_non_positive_price(sim, raw):
    sku = sim.seed("PR-C", 1, 1000)
    answer = raw(api.PRICE_UPDATE, {"product_id": sku.item_id, "skus": [{"sku_id": sku.external_id, "sale_price": 0}]})
    assert answer["errcode"] == 40097 and sim.find("PR-C").price == 1000


def test_title_update_keeps_stock_and_applies_description(sim, adapter):
    sku = sim.seed("TT-1", 8, 1000, title="old")
    content = ListingContent("TT-1", sku.item_id, "新标题", "描述", True, external_id=sku.external_id,
                             item_id=sku.item_id)
    adapter.update_listing(content)
    assert (sim.find("TT-1").title, sim.find("TT-1").description, sim.stock("TT-1")) == ("新标题", "描述", 8)


def test_shelf_moves_the_whole_product(sim, adapter):
    a = sim.seed("SH-A", 1, 100)
    b = sim.seed("SH-B", 1, 100, item_id=a.item_id)
    adapter.set_shelf(ListingContent("SH-A", a.item_id, "t", "", False, item_id=a.item_id), False)
    assert not sim.find("SH-A").on_shelf and not sim.find("SH-B").on_shelf
    with pytest.raises(NotFound):
        adapter.set_shelf(ListingContent("X", "X", "t", "", True, item_id="123"), True)
    assert b.item_id == a.item_id


# --- orders, delivery, after-sales ---------------------------------------------------------------------------

def test_delivery_checks_carrier_lines_and_status(sim, raw, adapter):
    sim.seed("DL-1", 5, 100)
    order = sim.place_order([("DL-1", 2)])
    line = order.lines[0]
    parcel = {"delivery_id": "SF", "waybill_id": "SF1", "deliver_type": 1,
              "product_infos": [{"product_id": line.item_id, "sku_id": line.external_id, "product_cnt": 3}]}
    assert raw(api.DELIVERY_SEND, {"order_id": order.order_id, "delivery_list": [parcel]})["errcode"] == 40097
    assert raw(api.DELIVERY_SEND, {"order_id": order.order_id, "delivery_list": [
        {**parcel, "delivery_id": "NOPE"}]})["errcode"] == 40097
    assert sim.orders[order.order_id].status == "paid"
    one = {**parcel, "product_infos": [{**parcel["product_infos"][0], "product_cnt": 1}]}
    assert raw(api.DELIVERY_SEND, {"order_id": order.order_id, "delivery_list": [one]})["errcode"] == 0
    seen = adapter.order(order.order_id)  # partly shipped: still paid, the line says 1 left
    assert (seen.status, seen.platform_status, seen.lines[0].shipped) == (OrderStatus.PAID, "21", 1)
    adapter.ship(order.order_id, "SF", "SF1234")  # the rest
    seen = adapter.order(order.order_id)
    assert (seen.status, seen.shipped, sim.orders[order.order_id].carrier) == (OrderStatus.SHIPPED, True, "SF")
    assert [(p.carrier, p.tracking_no, [ln.quantity for ln in p.lines]) for p in seen.parcels] == [
        ("SF", "SF1", [1]), ("SF", "SF1234", [1])]
    with pytest.raises(Rejected):
        adapter.ship(order.order_id, "SF", "SF1234")


def test_refunds_are_seen_through_after_sales(sim, adapter, clock):
    sim.seed("RF-1", 5, 100)
    before = sim.place_order([("RF-1", 1)])
    after = sim.place_order([("RF-1", 1)])
    cancelled = sim.place_order([("RF-1", 1)])
    sim.ship(after.order_id, "SF", "SF9")
    clock.now += timedelta(minutes=5)
    sim.refund(before.order_id)
    sim.refund(after.order_id)
    sim.cancel(cancelled.order_id)
    refunds = {o.external_id: o for o in every_item(
        lambda tok: adapter.fetch_refunds(clock.now - timedelta(hours=1), clock.now, tok))}
    # a paid order cancelled is refunded through an after-sale too, so all three are listed
    assert set(refunds) == {before.order_id, after.order_id, cancelled.order_id}
    assert refunds[before.order_id].status == OrderStatus.CANCELLED and not refunds[before.order_id].shipped
    assert refunds[after.order_id].status == OrderStatus.REFUNDED and refunds[after.order_id].shipped
    assert adapter.order(cancelled.order_id).status == OrderStatus.CANCELLED
    assert sim.stock("RF-1") == 4, "units come back for the refund and the cancel before shipment only"


# --- the envelope ------------------------------------------------------------------------------------------

def test_only_json_posts_are_served(sim, http, raw):
    raw(api.PRODUCT_LIST, {"page_size": 1})  # a valid token exists now
    token = next(iter(sim.tokens))
    assert http.get(api.PRODUCT_LIST, params={"access_token": token}).json()["errcode"] == 43002
    bad = http.post(api.PRODUCT_LIST, params={"access_token": token}, content=b"page_size=1")
    assert bad.json()["errcode"] == 47001
    missing = http.post("/channels/ec/nothing/here", params={"access_token": token}, json={})
    assert missing.status_code == 404 and missing.json()["errcode"] == 40066


def test_faults_use_wechat_shapes(sim, http, raw):
    raw(api.PRODUCT_LIST, {"page_size": 1})
    token = next(iter(sim.tokens))
    sim.inject("rate_limit")
    assert http.post(api.PRODUCT_LIST, params={"access_token": token}, json={"page_size": 1}).json()["errcode"] == 45011
    sim.inject("auth_expired")
    assert http.post(api.PRODUCT_LIST, params={"access_token": token}, json={"page_size": 1}).json()["errcode"] == 42001
    assert http.post(api.PRODUCT_LIST, params={"access_token": token}, json={"page_size": 1}).json()["errcode"] == 40001


def test_a_full_window_with_fractions_of_a_second_is_accepted(sim, adapter, clock):
    sim.seed("FW-1", 5, 100)
    order = sim.place_order([("FW-1", 1)])
    sim.refund(order.order_id)
    until = clock.now + timedelta(microseconds=300_000)
    since = until - adapter.capabilities.max_refund_window  # rounded outwards this would be 24 h + 1 s
    assert [o.external_id for o in resolved(adapter.fetch_refunds(since, until, None))] == [order.order_id]
    assert [o.external_id for o in resolved(adapter.fetch_orders(since, until, None))] == [order.order_id]
    since = until - adapter.capabilities.max_order_window  # the same for the 7-day order window
    assert [o.external_id for o in resolved(adapter.fetch_orders(since, until, None))] == [order.order_id]
