"""Limits and behaviour the Taobao simulator enforces, as TOP does: page sizes, batch sizes,
the order window, increments floored at 0, statuses, shipment, shelf, prices, token renewal."""

from datetime import datetime, timedelta, timezone

import pytest

from channelsync.sdk.errors import NotFound, RateLimited, Rejected
from channelsync.sdk.models import ListingContent, OrderLine, OrderStatus, PriceUpdate, StockUpdate
from channelsync.testing.pytest_plugin import every_item
from channelsync_taobao import api
from channelsync_taobao.channel import TaobaoChannel
from channelsync_taobao.client import TopClient
from channelsync_taobao.signing import format_time
from channelsync_taobao.sim import APP_KEY, APP_SECRET, REFRESH_TOKEN, SESSION, TaobaoSimulator


@pytest.fixture
def sim(clock):
    return TaobaoSimulator(clock=clock)


@pytest.fixture
def adapter(connect_simulator, sim):
    return connect_simulator(TaobaoChannel, sim).adapter


@pytest.fixture
def top(adapter):
    """A bare TOP client on the adapter's connection: sends any method with any parameters."""
    return TopClient(adapter.http.request, app_key=APP_KEY, app_secret=APP_SECRET, session=SESSION)


def item(sim, codes, quantity=10, price=1000):
    """Seed SKUs sharing one item; returns them."""
    skus, item_id = [], None
    for code in codes:
        sku = sim.seed(code, quantity, price, item_id=item_id, title=f"item of {codes[0]}")
        item_id = sku.item_id
        skus.append(sku)
    return skus


# --- page and batch sizes -------------------------------------------------------------

@pytest.mark.parametrize("method", [api.ITEMS_ONSALE, api.ITEMS_INVENTORY])
def test_item_pages_hold_at_most_200(top, method):
    assert top.execute(method, {"fields": "num_iid", "page_size": 200})["total_results"] == 0
    with pytest.raises(Rejected) as info:
        top.execute(method, {"fields": "num_iid", "page_size": 201})
    assert info.value.code == "isv.invalid-parameter" and "page_size" in info.value.message


def test_item_details_take_at_most_20_num_iids(sim, top):
    ids = [sim.seed(f"L-{i}", 1, 100).item_id for i in range(21)]
    fields = api.ITEM_DETAIL_FIELDS
    assert len(top.execute(api.ITEMS_LIST, {"num_iids": ",".join(ids[:20]), "fields": fields})["items"]["item"]) == 20
    with pytest.raises(Rejected) as info:
        top.execute(api.ITEMS_LIST, {"num_iids": ",".join(ids), "fields": fields})
    assert "num_iids" in info.value.message


def test_stock_calls_take_at_most_20_skus_and_apply_all_or_nothing(sim, top):
    skus = item(sim, [f"Q-{i}" for i in range(21)])
    spec = ";".join(f"{s.external_id}:1" for s in skus)
    with pytest.raises(Rejected) as info:
        top.execute(api.SKUS_QUANTITY, {"num_iid": skus[0].item_id, "type": 2, "skuid_quantities": spec})
    assert info.value.code == "isv.invalid-parameter" and "skuid_quantities" in info.value.message
    assert [s.quantity for s in skus] == [10] * 21
    spec = ";".join(f"{s.external_id}:1" for s in skus[:20])
    top.execute(api.SKUS_QUANTITY, {"num_iid": skus[0].item_id, "type": 2, "skuid_quantities": spec})
    assert [s.quantity for s in skus] == [11] * 20 + [10]
    with pytest.raises(Rejected):  # one SKU of another item: nothing of the call applies
        top.execute(api.SKUS_QUANTITY, {"num_iid": skus[0].item_id, "type": 2,
                                        "skuid_quantities": f"{skus[0].external_id}:5;999:5"})
    assert skus[0].quantity == 11


def test_order_pages_hold_at_most_100(sim, top, clock):
    now = clock()
    window = {"fields": api.TRADE_FIELDS, "start_modified": format_time(now - timedelta(minutes=5)),
              "end_modified": format_time(now)}
    assert top.execute(api.TRADES_INCREMENT, {**window, "page_size": 100})["total_results"] == 0
    with pytest.raises(Rejected):
        top.execute(api.TRADES_INCREMENT, {**window, "page_size": 101})
    with pytest.raises(Rejected):
        top.execute(api.REFUNDS_RECEIVE, {"page_size": 101})


# --- the order window --------------------------------------------------------------------

def test_order_window_longer_than_30_minutes_is_refused(sim, top, adapter, clock):
    now = clock()
    assert adapter.fetch_orders(now - timedelta(minutes=30), now, None).items == []
    with pytest.raises(Rejected) as info:
        adapter.fetch_orders(now - timedelta(minutes=30, seconds=1), now, None)
    assert info.value.code.startswith("isv.invalid-parameter") and "30 minutes" in info.value.message
    with pytest.raises(Rejected):  # start and end are required
        top.execute(api.TRADES_INCREMENT, {"fields": "tid", "start_modified": format_time(now)})


def test_the_documented_one_day_window_can_be_allowed(clock, connect_simulator):
    _, adapter = connect_simulator(TaobaoChannel, clock=clock, max_order_window=timedelta(days=1))
    assert adapter.fetch_orders(clock() - timedelta(days=1), clock(), None).items == []


def test_use_has_next_replaces_total_results(sim, top, clock):
    sim.seed("H-1", 100, 100)
    for _ in range(3):
        sim.place_order([("H-1", 1)])
    window = {"fields": "tid", "start_modified": format_time(clock() - timedelta(minutes=1)),
              "end_modified": format_time(clock()), "page_size": 2}
    first = top.execute(api.TRADES_INCREMENT, {**window, "use_has_next": "true"})
    assert first["has_next"] is True and "total_results" not in first and len(first["trades"]["trade"]) == 2
    last = top.execute(api.TRADES_INCREMENT, {**window, "use_has_next": "true", "page_no": 2})
    assert last["has_next"] is False and len(last["trades"]["trade"]) == 1
    assert top.execute(api.TRADES_INCREMENT, window)["total_results"] == 3


def test_backward_paging_misses_no_order_when_one_leaves_the_window(sim, adapter, clock):
    sim.seed("B-1", 1000, 100)
    placed = []
    for _ in range(250):
        placed.append(sim.place_order([("B-1", 1)]).order_id)
        clock.now += timedelta(seconds=1)
    since, until = clock() - timedelta(minutes=30), clock()
    first = adapter.fetch_orders(since, until, None)
    assert (list(first.items), first.next_token) == ([], "back:3")
    seen = {o.external_id for o in adapter.fetch_orders(since, until, first.next_token).items}
    clock.now += timedelta(minutes=1)
    sim.cancel(placed[-1])  # the newest (page 1) is modified after the window: everything shifts up one
    token = "back:2"
    while token:
        page = adapter.fetch_orders(since, until, token)
        seen |= {o.external_id for o in page.items}
        token = page.next_token
    assert seen == set(placed[:-1])


# --- stock, prices, content, shelf ---------------------------------------------------------------

def test_an_increment_below_zero_floors_at_zero_and_a_negative_full_value_is_refused(sim, top, adapter):
    [sku] = item(sim, ["F-1"], quantity=3)
    [result] = adapter.set_stock([StockUpdate("F-1", sku.external_id, sku.item_id, 0, -5, 5, "k")])
    assert result.ok and sku.quantity == 0
    with pytest.raises(Rejected):
        top.execute(api.SKUS_QUANTITY, {"num_iid": sku.item_id, "type": 1, "skuid_quantities": f"{sku.external_id}:-1"})
    top.execute(api.SKUS_QUANTITY, {"num_iid": sku.item_id, "type": 1, "outerid_quantities": "F-1:8"})
    assert sku.quantity == 8


def test_unknown_item_is_not_found(adapter, top):
    with pytest.raises(NotFound) as info:
        top.execute(api.ITEM_GET, {"num_iid": "42", "fields": "num_iid"})
    assert info.value.code == "isv.item-not-exist:invalid-numIid-or-iid"
    [result] = adapter.set_prices([PriceUpdate("X", "43", "42", 100)])
    assert isinstance(result.error, NotFound)


def test_prices_are_yuan_with_two_decimals(sim, top, adapter):
    skus = item(sim, ["PR-1", "PR-2"])
    assert all(r.ok for r in adapter.set_prices([PriceUpdate("PR-2", skus[1].external_id, skus[1].item_id, 1290)]))
    assert (skus[0].price, skus[1].price) == (1000, 1290)
    for bad in ("12.345", "-1", "0", "abc"):
        with pytest.raises(Rejected):
            top.execute(api.SKU_PRICE, {"num_iid": skus[0].item_id, "properties": "1627207:28320", "price": bad})
    with pytest.raises(Rejected) as info:
        top.execute(api.SKU_PRICE, {"num_iid": skus[0].item_id, "properties": "1627207:1", "price": "1.00"})
    assert info.value.code == "isv.invalid-parameter:sku-properties"


def test_title_and_shelf_are_item_level(sim, adapter):
    skus = item(sim, ["SH-1", "SH-2"])
    content = ListingContent("SH-1", "P", "夏季新款", "", True, external_id=skus[0].external_id,
                             item_id=skus[0].item_id)
    adapter.update_listing(content)
    assert [s.title for s in skus] == ["夏季新款"] * 2
    adapter.set_shelf(content, False)
    listings = list(every_item(adapter.list_listings))
    assert [(ls.sku_code, ls.on_shelf) for ls in listings] == [("SH-1", False), ("SH-2", False)]
    adapter.set_shelf(content, True)
    assert [s.on_shelf for s in skus] == [True, True] and [s.quantity for s in skus] == [10, 10]
    assert sim.calls[-2:] == [api.ITEM_GET, api.ITEM_LISTING]  # listing sends the item's own num


# --- orders, shipment, refunds ---------------------------------------------------------------------

def test_trade_statuses_and_refunds(sim, adapter, clock):
    sim.seed("T-1", 10, 1990)
    unpaid = sim.place_order([("T-1", 1)], pay=False)
    paid_cancelled = sim.place_order([("T-1", 1)])
    refunded_after_shipment = sim.place_order([("T-1", 2)])
    adapter.ship(refunded_after_shipment.order_id, "SF", "SF1")
    sim.refund(refunded_after_shipment.order_id)
    sim.cancel(unpaid.order_id)
    sim.cancel(paid_cancelled.order_id)
    since = clock() - timedelta(minutes=10)
    orders = {o.external_id: o for o in every_item(lambda t: adapter.fetch_orders(since, clock(), t))}
    assert orders[unpaid.order_id].platform_status == api.TRADE_CLOSED_BY_TAOBAO
    assert orders[unpaid.order_id].status == OrderStatus.CANCELLED
    # a cancel after payment is a refund on Taobao (TRADE_CLOSED), but nothing shipped: cancelled
    assert orders[paid_cancelled.order_id].platform_status == api.TRADE_CLOSED
    assert orders[paid_cancelled.order_id].status == OrderStatus.CANCELLED
    assert orders[paid_cancelled.order_id].shipped is False
    returned = orders[refunded_after_shipment.order_id]
    assert (returned.status, returned.shipped, returned.total) == (OrderStatus.REFUNDED, True, 3980)
    refunds = {o.external_id for o in every_item(lambda t: adapter.fetch_refunds(since, clock(), t))}
    assert refunds == {paid_cancelled.order_id, refunded_after_shipment.order_id}
    assert sim.stock("T-1") == 8  # only the returned units stay sold


def test_shipment_is_checked(sim, adapter):
    sim.seed("S-1", 10, 100)
    order = sim.place_order([("S-1", 1)])
    with pytest.raises(Rejected) as info:
        adapter.ship(order.order_id, "NOSUCH", "1")
    assert "company_code" in info.value.code
    adapter.ship(order.order_id, "ZTO", "Z1")
    assert (sim.orders[order.order_id].carrier, sim.orders[order.order_id].tracking_no) == ("ZTO", "Z1")
    with pytest.raises(Rejected):  # already shipped
        adapter.ship(order.order_id, "ZTO", "Z2")
    with pytest.raises(NotFound):
        adapter.ship("123", "SF", "1")


# --- faults, rate limit, tokens, clocks -------------------------------------------------------------

def test_rate_limit_answers_code_7_with_a_ban(clock, connect_simulator):
    _, adapter = connect_simulator(TaobaoChannel, clock=clock, rate_limit=0.001, burst=1)
    adapter.list_listings(None)  # one item page and no details: one call
    with pytest.raises(RateLimited) as info:
        adapter.list_listings(None)
    assert info.value.retry_after == 1.0 and info.value.code == "accesscontrol.limited-by-app-access-count"


def test_a_refresh_token_works_once(sim, top):
    first = top.refresh(REFRESH_TOKEN)
    assert first.session in sim.sessions and first.refresh_token != REFRESH_TOKEN
    with pytest.raises(Rejected) as info:
        top.refresh(REFRESH_TOKEN)
    assert info.value.code == "isv.refresh-token-invalid"
    assert top.refresh(first.refresh_token).session in sim.sessions


def test_timestamp_skew_is_measured_on_the_wall_clock(clock, connect_simulator):
    clock.now = datetime(2001, 1, 1, tzinfo=timezone.utc)  # the platform's business clock, far away
    _, adapter = connect_simulator(TaobaoChannel, clock=clock)
    assert adapter.list_listings(None).items == []


# --- after-sales and split parcels (issue 16) -----------------------------------------------------

def test_a_partial_refund_of_a_sub_order_counts_only_its_units(sim, adapter, clock):
    sim.seed("PR-1", 10, 100)
    sim.seed("PR-2", 10, 100)
    order = sim.place_order([("PR-1", 3), ("PR-2", 1)])
    sim.refund_line(order.order_id, "PR-1", 1)  # one of three: TOP says SUCCESS on the sub-order
    seen = adapter.order(order.order_id)
    assert [(ln.sku_code, ln.refunded, ln.returning, ln.shipped) for ln in seen.lines] == [
        ("PR-1", 1, 0, 0), ("PR-2", 0, 0, 0)]
    assert api.REFUND_GET in sim.calls  # the units come from the refund, never from the sub-order's status
    assert seen.status == OrderStatus.PAID


def test_split_parcels_name_whole_sub_orders(sim, adapter):
    sim.seed("SP-1", 10, 100)
    sim.seed("SP-2", 10, 100)
    order = sim.place_order([("SP-1", 2), ("SP-2", 1)])
    first, second = order.lines
    with pytest.raises(Rejected, match="whole sub-orders"):
        adapter.ship_parcel(order.order_id, "SF", "SF1", [OrderLine("SP-1", 1, first.external_id)])
    adapter.ship_parcel(order.order_id, "SF", "SF1", [OrderLine("SP-1", 2, first.external_id)])
    seen = adapter.order(order.order_id)
    assert (seen.status, seen.platform_status) == (OrderStatus.PAID, api.SELLER_CONSIGNED_PART)
    assert [ln.shipped for ln in seen.lines] == [2, 0]
    adapter.ship_parcel(order.order_id, "ZTO", "Z2", [OrderLine("SP-2", 1, second.external_id)])
    seen = adapter.order(order.order_id)
    assert seen.status == OrderStatus.SHIPPED
    assert [(p.carrier, p.tracking_no, [ln.quantity for ln in p.lines]) for p in seen.parcels] == [
        ("SF", "SF1", [2]), ("ZTO", "Z2", [1])]


def test_a_return_after_shipment_is_refunded_and_coming_back(sim, adapter):
    sim.seed("RT-1", 10, 100)
    order = sim.place_order([("RT-1", 2)])
    adapter.ship(order.order_id, "SF", "SF1")
    sim.return_line(order.order_id, "RT-1", 2)
    seen = adapter.order(order.order_id)
    assert (seen.status, seen.platform_status) == (OrderStatus.REFUNDED, api.TRADE_CLOSED)
    assert [(ln.refunded, ln.returning, ln.shipped) for ln in seen.lines] == [(2, 2, 2)]
