"""The PDD adapter against canned router answers (respx): translation, fan-out, stock modes,
prices, orders, refunds, shipping and token renewal."""

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from channelsync_pdd import api
from channelsync_pdd.channel import PddChannel

from channelsync.sdk.errors import Reauthorize
from channelsync.sdk.models import ListingContent, OrderStatus, PriceUpdate, StockUpdate
from channelsync.testing.pytest_plugin import every_item, sent_request

SETTINGS = {"client_id": "cid", "client_secret": "secret-value", "access_token": "token-value",
            "refresh_token": "refresh-value"}
SINCE = datetime(2024, 11, 10, 16, 0, tzinfo=timezone.utc)  # 2024-11-11 00:00 Beijing


@pytest.fixture
def make(mock_platform):
    return lambda **settings: mock_platform(PddChannel, {**SETTINGS, **settings})


def by_type(mock, answers):
    """Answer each API (``type``) with its canned root (a list is consumed call by call)."""
    def answer(request):
        kind = dict(httpx.QueryParams(request.content.decode()))["type"]
        body = answers[kind].pop(0) if isinstance(answers[kind], list) else answers[kind]
        return httpx.Response(200, json=body if "error_response" in body else {api.ROOTS[kind]: body})
    return mock.post("/api/router").mock(side_effect=answer)


def form(route, n=-1):
    return dict(httpx.QueryParams(sent_request(route, n).request.content.decode()))


GOODS = {"goods_id": 11, "goods_name": "拼团T恤", "is_onsale": 1, "sku_list": [
    {"sku_id": 101, "outer_id": "A-1", "sku_quantity": 5, "is_sku_onsale": 1},
    {"sku_id": 102, "outer_id": "", "sku_quantity": 0, "is_sku_onsale": 0}]}
DETAIL = {"goods_id": 11, "goods_name": "拼团T恤", "is_onsale": 1, "sku_list": [
    {"sku_id": 101, "outer_id": "A-1", "quantity": 5, "multi_price": 1290, "price": 1490, "is_onsale": 1},
    {"sku_id": 102, "outer_id": "", "quantity": 0, "multi_price": 1300, "price": 1500, "is_onsale": 0}]}


def test_listings_read_prices_from_one_detail_per_goods(make):
    mock, adapter = make()
    route = by_type(mock, {api.GOODS_LIST: {"goods_list": [GOODS], "total_count": 1}, api.GOODS_DETAIL: DETAIL})
    page = adapter.list_listings(None)
    assert [d.key for d in page.items] == ["11"] and page.next_token is None and len(route.calls) == 1
    listings = list(every_item(adapter.list_listings))
    assert [(x.external_id, x.item_id, x.sku_code, x.quantity, x.price, x.on_shelf, x.title) for x in listings] == [
        ("101", "11", "A-1", 5, 1290, True, "拼团T恤"), ("102", "11", None, 0, 1300, False, "拼团T恤")]
    assert form(route)["goods_id"] == "11" and form(route, 1)["page_size"] == "100"


def stock(external_id, quantity, delta, item_id="11"):
    return StockUpdate("A-1", external_id, item_id, quantity, delta, quantity - delta, "k")


def test_stock_goes_as_increments_one_sku_a_call_and_a_zero_delta_calls_nothing(make):
    mock, adapter = make()
    route = by_type(mock, {api.QUANTITY_UPDATE: {"is_success": True}})
    results = adapter.set_stock([stock("101", 3, -2), stock("102", 9, 0), stock("103", 4, 4)])
    assert all(r.ok for r in results) and len(route.calls) == 2
    assert [(form(route, n)["sku_id"], form(route, n)["quantity"], form(route, n)["update_type"]) for n in (0, 1)] \
        == [("101", "-2", "2"), ("103", "4", "2")]


def test_the_absolute_setting_sends_full_values(make):
    mock, adapter = make(stock_updates="absolute")
    route = by_type(mock, {api.QUANTITY_UPDATE: {"is_success": True}})
    assert adapter.capabilities.stock_mode == "absolute" and PddChannel.capabilities.stock_mode == "increment"
    assert adapter.set_stock([stock("101", 3, 0), stock("102", -1, -4)])[0].ok
    assert [(form(route, n)["quantity"], form(route, n)["update_type"]) for n in (0, 1)] == [("3", "1"), ("0", "1")]


def test_a_refused_sku_is_its_own_result_and_a_missing_goods_id_is_refused_before_calling(make):
    mock, adapter = make()
    by_type(mock, {api.QUANTITY_UPDATE: [{"error_response": {"error_code": 20002, "error_msg": "SKU 不存在"}},
                                         {"is_success": True}]})
    results = adapter.set_stock([stock("101", 3, 1), stock("102", 3, 1), stock("103", 3, 1, item_id=None)])
    assert [type(r.error).__name__ if r.error else None for r in results] == ["NotFound", None, "Rejected"]
    assert results[2].error.code == "no-goods-id"


def test_prices_go_per_goods_with_the_single_price_above_the_group_price(make):
    mock, adapter = make(single_price_markup=50)
    route = by_type(mock, {api.SKU_PRICE_UPDATE: {"is_success": True}})
    results = adapter.set_prices([PriceUpdate("A", "101", "11", 1290), PriceUpdate("B", "102", "11", 990),
                                  PriceUpdate("C", "201", "12", 500)])
    assert all(r.ok for r in results) and len(route.calls) == 2
    assert json.loads(form(route, 0)["sku_price_list"]) == [
        {"sku_id": 101, "group_price": 1290, "single_price": 1340},
        {"sku_id": 102, "group_price": 990, "single_price": 1040}]
    assert form(route, 1)["goods_id"] == "12"


def test_the_shelf_is_set_per_goods(make):
    mock, adapter = make()
    route = by_type(mock, {api.SALE_STATUS: {"is_success": True}})
    adapter.set_shelf(ListingContent("A-1", "P", "t", "", False, item_id="11"), False)
    assert (form(route)["goods_id"], form(route)["is_onsale"]) == ("11", "0")


ORDER = {"order_sn": "241111-001", "order_status": 1, "refund_status": 1, "confirm_status": 1,
         "created_time": "2024-11-11 00:00:01", "updated_at": "2024-11-11 00:05:00", "pay_amount": 25.8,
         "item_list": [{"goods_id": 11, "sku_id": 101, "outer_id": "A-1", "goods_count": 2, "goods_price": 12.9}]}


def test_orders_are_translated_with_beijing_times_and_yuan_amounts(make):
    mock, adapter = make()
    rows = [ORDER, {**ORDER, "order_sn": "2", "order_status": 2, "tracking_number": "SF1"},
            {**ORDER, "order_sn": "3", "refund_status": 4}, {**ORDER, "order_sn": "4", "confirm_status": 2},
            {**ORDER, "order_sn": "5", "order_status": 3}]
    route = by_type(mock, {api.ORDER_INCREMENT: {"order_sn_list": rows, "has_next": False, "total_count": 5}})
    window = (SINCE, SINCE + timedelta(minutes=30))
    orders = {o.external_id: o for o in every_item(lambda t: adapter.fetch_orders(*window, t))}
    first = orders["241111-001"]
    assert (first.status, first.total, first.shipped) == (OrderStatus.PAID, 2580, False)
    assert first.created_at == datetime(2024, 11, 10, 16, 0, 1, tzinfo=timezone.utc)
    assert first.modified_at == datetime(2024, 11, 10, 16, 5, tzinfo=timezone.utc)
    assert [(ln.sku_code, ln.quantity, ln.external_sku_id, ln.price) for ln in first.lines] == [("A-1", 2, "101", 1290)]
    assert {k: (o.status, o.shipped) for k, o in orders.items() if k != "241111-001"} == {
        "2": (OrderStatus.SHIPPED, True), "3": (OrderStatus.CANCELLED, False), "4": (OrderStatus.CANCELLED, False),
        "5": (OrderStatus.COMPLETED, False)}
    sent = form(route)
    assert (sent["start_updated_at"], sent["end_updated_at"], sent["order_status"], sent["refund_status"]) == (
        "1731254400", "1731256200", "5", "5")


def test_order_pages_follow_has_next(make):
    mock, adapter = make()
    route = by_type(mock, {api.ORDER_INCREMENT: [{"order_sn_list": [ORDER] * 100, "has_next": True},
                                                 {"order_sn_list": [{**ORDER, "order_sn": "x"}], "has_next": False}]})
    assert len(list(every_item(lambda t: adapter.fetch_orders(SINCE, SINCE + timedelta(minutes=30), t)))) == 101
    assert [form(route, n)["page"] for n in (0, 1)] == ["1", "2"]


def test_refunds_read_each_order_once_with_its_details(make):
    mock, adapter = make()
    route = by_type(mock, {
        api.REFUND_INCREMENT: {"refund_list": [
            {"id": 1, "order_sn": "9", "sku_id": 101, "goods_number": 1, "after_sales_type": 3,
             "after_sales_status": 10},
            {"id": 2, "order_sn": "9", "sku_id": 101, "goods_number": 1, "after_sales_type": 2,
             "after_sales_status": 10}],
            "total_count": 2},
        api.ORDER_INFORMATION: {"order_info": {**ORDER, "order_sn": "9", "order_status": 2, "tracking_number": "SF1"}}})
    [order] = every_item(lambda t: adapter.fetch_refunds(SINCE, SINCE + timedelta(minutes=30), t))
    assert (order.external_id, order.status) == ("9", OrderStatus.SHIPPED) and len(route.calls) == 2
    # a return (1 unit, goods coming back) and a refund only (1 unit): both units' money went back
    assert [(ln.refunded, ln.returning) for ln in order.lines] == [(2, 1)]
    assert (form(route, 0)["after_sales_status"], form(route, 1)["order_sn"]) == ("10", "9")


def test_carriers_are_declared_and_the_operators_setting_replaces_them(make):
    mock, adapter = make(carriers={"sf": "44", "JT": "384"})
    route = by_type(mock, {api.ONLINE_SEND: {"is_success": True}})
    caps = adapter.capabilities
    assert [caps.carrier(c) for c in ("jt", "SF", "384", "DHL")] == ["384", "44", "384", None]
    assert PddChannel.capabilities.carrier("ZTO") == "115"  # the declared examples, for a channel without the setting
    adapter.ship("241111-001", caps.carrier("JT"), "JT123")  # the core maps, the adapter sends
    assert (form(route)["logistics_id"], form(route)["tracking_number"]) == ("384", "JT123")


def test_an_expired_token_is_renewed_with_the_refresh_token_and_kept(make):
    mock, adapter = make()
    saved = []
    adapter.credential_sink = saved.append
    route = by_type(mock, {
        api.TOKEN_REFRESH: {"access_token": "token-2", "refresh_token": "refresh-2", "expires_in": 86400},
        api.SALE_STATUS: {"is_success": True}})
    adapter.refresh_auth()
    assert "access_token" not in form(route, 0) and form(route, 0)["refresh_token"] == "refresh-value"
    assert saved[-1]["access_token"] == "token-2" and saved[-1]["refresh_token"] == "refresh-2"
    assert timedelta(hours=23) < adapter.token_expires_at() - datetime.now(timezone.utc) <= timedelta(hours=24)
    adapter.set_shelf(ListingContent("A-1", "P", "t", "", True, item_id="11"), True)
    assert form(route)["access_token"] == "token-2"


def test_a_token_about_to_expire_is_renewed_before_the_call_not_after_a_failure(make):
    soon = (datetime.now(timezone.utc) + timedelta(minutes=2)).isoformat()  # inside TokenAuth's 5-minute margin
    mock, adapter = make(token_expires_at=soon)
    route = by_type(mock, {
        api.TOKEN_REFRESH: {"access_token": "token-2", "refresh_token": "refresh-2", "expires_in": 86400},
        api.SALE_STATUS: {"is_success": True}})
    adapter.set_shelf(ListingContent("A-1", "P", "t", "", True, item_id="11"), True)
    assert [form(route, n)["type"] for n in (0, 1)] == [api.TOKEN_REFRESH, api.SALE_STATUS]
    assert form(route, 1)["access_token"] == "token-2"


def test_a_refused_refresh_asks_a_person_to_reauthorise(make):
    mock, adapter = make()
    by_type(mock, {api.TOKEN_REFRESH: {"error_response": {"error_code": 10000, "error_msg": "refresh_token 无效"}}})
    with pytest.raises(Reauthorize) as info:
        adapter.refresh_auth()
    assert "authorise the app again" in info.value.message and "refresh-value" not in str(info.value)
