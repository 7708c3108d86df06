"""The Taobao client and adapter against canned TOP responses (respx): envelopes and the error table."""

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.models import ListingContent, OrderStatus, PriceUpdate, StockUpdate
from channelsync.testing.pytest_plugin import sent_request
from channelsync_taobao import api
from channelsync_taobao.channel import TaobaoChannel
from channelsync_taobao.errors import classify
from channelsync_taobao.signing import BEIJING, parse_time, sign

GATEWAY = "https://eco.taobao.com"
ROUTER = f"{GATEWAY}/router/rest"
SETTINGS = {"app_key": "ak", "app_secret": "s3cret-value", "session": "session-value"}


@pytest.fixture
def platform(mock_platform):
    return mock_platform(TaobaoChannel, SETTINGS)


@pytest.fixture
def mock(platform):
    return platform.router


@pytest.fixture
def adapter(platform):
    return platform.adapter


@pytest.fixture
def make(mock_platform):
    """Another adapter on the mocked gateway, with ``SETTINGS`` changed."""
    return lambda **settings: mock_platform(TaobaoChannel, {**SETTINGS, **settings}).adapter


def by_method(mock, answers):
    """Answer each TOP method with its canned body (a list is consumed call by call)."""
    def answer(request):
        method = request.url.params["method"]
        body = answers[method]
        if isinstance(body, list):
            body = body.pop(0)
        return httpx.Response(200, json=body)
    return mock.post(ROUTER).mock(side_effect=answer)


def error(code, msg, sub_code=None, sub_msg=None):
    body = {"code": code, "msg": msg, "request_id": "abc"}
    if sub_code:
        body["sub_code"] = sub_code
    if sub_msg:
        body["sub_msg"] = sub_msg
    return {"error_response": body}


def sent(route, n=-1):
    """System parameters (query) and business parameters (form body) of call ``n``."""
    request = sent_request(route, n)
    return request.query, request.form


# --- request and success envelopes ---------------------------------------------------------

def test_request_is_a_signed_form_post_with_system_params_in_the_query(mock, adapter):
    route = by_method(mock, {api.ITEM_DELISTING: {"item_update_delisting_response": {"item": {"num_iid": 7}}}})
    adapter.set_shelf(ListingContent("A", "P", "t", "", False, item_id="7"), False)
    system, business = sent(route)
    assert route.calls.last.request.headers["content-type"] == "application/x-www-form-urlencoded;charset=utf-8"
    assert {k: system[k] for k in ("method", "app_key", "session", "format", "v", "sign_method")} == {
        "method": api.ITEM_DELISTING, "app_key": "ak", "session": "session-value", "format": "json", "v": "2.0",
        "sign_method": "md5"}
    assert business == {"num_iid": "7"}
    assert abs(parse_time(system["timestamp"]) - datetime.now(timezone.utc)) < timedelta(seconds=5)
    unsigned = {k: v for k, v in system.items() if k != "sign"}
    assert system["sign"] == sign({**unsigned, **business}, "s3cret-value", "md5")


def test_listing_page_reads_item_details_and_converts_yuan(mock, adapter):
    route = by_method(mock, {
        api.ITEMS_ONSALE: {"items_onsale_get_response": {"items": {"item": [{"num_iid": 11}, {"num_iid": 12}]},
                                                         "total_results": 150}},
        api.ITEMS_LIST: {"items_seller_list_get_response": {"items": {"item": [
            {"num_iid": 11, "title": "T恤", "approve_status": "onsale", "num": 7, "price": "12.90",
             "skus": {"sku": [{"sku_id": 101, "outer_id": "A-1", "quantity": 5, "price": "12.90"},
                              {"sku_id": 102, "outer_id": "", "quantity": 2, "price": "13"}]}},
            {"num_iid": 12, "title": "Mug", "approve_status": "onsale", "outer_id": "MUG", "num": 4,
             "price": "0.10"}]}}}})
    page = adapter.list_listings(None)
    assert [(x.external_id, x.item_id, x.sku_code, x.quantity, x.price, x.on_shelf, x.title) for x in page.items] == [
        ("101", "11", "A-1", 5, 1290, True, "T恤"), ("102", "11", None, 2, 1300, True, "T恤"),
        ("12", "12", "MUG", 4, 10, True, "Mug")]
    assert page.next_token == "onsale:2"
    assert sent(route, -1)[1]["num_iids"] == "11,12"
    assert int(sent(route, 0)[1]["page_size"]) == adapter.capabilities.listing_page_size


def test_after_the_last_onsale_page_come_the_warehouse_items(mock, adapter):
    by_method(mock, {api.ITEMS_INVENTORY: {"items_inventory_get_response": {"items": {"item": [{"num_iid": 9}]},
                                                                            "total_results": 1}},
                     api.ITEMS_LIST: {"items_seller_list_get_response": {"items": {"item": [
                         {"num_iid": 9, "approve_status": "instock", "skus": {"sku": [
                             {"sku_id": 91, "outer_id": "OFF", "quantity": 0, "price": "1.00"}]}}]}}}})
    page = adapter.list_listings("instock:1")
    assert [(x.sku_code, x.on_shelf) for x in page.items] == [("OFF", False)] and page.next_token is None


def test_stock_increments_group_skus_by_item(mock, adapter):
    route = by_method(mock, {api.SKUS_QUANTITY: {"skus_quantity_update_response": {"item": {"num_iid": 1}}}})
    updates = [StockUpdate("A", "101", "1", 5, -2, 7, "k1"), StockUpdate("B", "201", "2", 4, 4, 0, "k2"),
               StockUpdate("C", "102", "1", 3, 3, 0, "k3"), StockUpdate("D", "103", "1", 3, 0, 3, "k4")]
    results = adapter.set_stock(updates)
    assert [r.external_id for r in results] == ["101", "201", "102", "103"] and all(r.ok for r in results)
    assert [sent(route, n)[1] for n in range(2)] == [
        {"num_iid": "1", "type": "2", "skuid_quantities": "101:-2;102:3"},
        {"num_iid": "2", "type": "2", "skuid_quantities": "201:4"}]


def test_price_update_names_the_sku_by_its_properties(mock, adapter):
    route = by_method(mock, {
        api.ITEM_GET: {"item_seller_get_response": {"item": {"num_iid": 1, "skus": {"sku": [
            {"sku_id": 101, "properties": "1627207:28320"}, {"sku_id": 102, "properties": "1627207:28321"}]}}}},
        api.SKU_PRICE: {"item_sku_price_update_response": {"sku": {"sku_id": 102}}}})
    results = adapter.set_prices([PriceUpdate("B", "102", "1", 1290), PriceUpdate("A", "101", "1", 5)])
    assert all(r.ok for r in results)
    assert [sent(route, n)[0]["method"] for n in range(3)] == [api.ITEM_GET, api.SKU_PRICE, api.SKU_PRICE]
    assert sent(route, 1)[1] == {"num_iid": "1", "properties": "1627207:28321", "price": "12.90"}
    assert sent(route, 2)[1]["price"] == "0.05"


def test_trades_are_parsed_with_statuses_lines_and_money(mock, adapter):
    trades = [{"tid": 1, "status": "WAIT_SELLER_SEND_GOODS", "created": "2024-11-11 00:00:01",
               "modified": "2024-11-11 00:05:00", "pay_time": "2024-11-11 00:00:05", "payment": "25.80",
               "orders": {"order": [{"sku_id": 101, "num_iid": 11, "outer_sku_id": "A-1", "num": 2,
                                     "price": "12.90"}]}},
              {"tid": 2, "status": "TRADE_CLOSED", "created": "2024-11-11 00:00:01", "pay_time": "2024-11-11 00:01:00",
               "modified": "2024-11-11 00:06:00", "consign_time": "2024-11-11 00:03:00",
               "orders": {"order": [{"num_iid": 12, "outer_iid": "MUG", "num": 1, "price": "3"}]}},
              {"tid": 3, "status": "TRADE_CLOSED", "created": "2024-11-11 00:00:01", "modified": "2024-11-11 00:06:00"},
              {"tid": 4, "status": "TRADE_CLOSED_BY_TAOBAO", "created": "2024-11-11 00:00:01"},
              {"tid": 5, "status": "WAIT_BUYER_CONFIRM_GOODS", "created": "2024-11-11 00:00:01"},
              {"tid": 6, "status": "TRADE_FINISHED", "created": "2024-11-11 00:00:01"},
              {"tid": 7, "status": "WAIT_BUYER_PAY", "created": "2024-11-11 00:00:01"}]
    by_method(mock, {api.TRADES_INCREMENT: {"trades_sold_increment_get_response": {
        "trades": {"trade": trades}, "total_results": 7}}})
    since = datetime(2024, 11, 10, 16, 0, tzinfo=timezone.utc)
    page = adapter.fetch_orders(since, since + timedelta(minutes=30), None)
    orders = {o.external_id: o for o in page.items}
    assert page.next_token is None
    assert {k: o.status for k, o in orders.items()} == {
        "1": OrderStatus.PAID, "2": OrderStatus.REFUNDED, "3": OrderStatus.CANCELLED, "4": OrderStatus.CANCELLED,
        "5": OrderStatus.SHIPPED, "6": OrderStatus.COMPLETED, "7": OrderStatus.NEW}
    first = orders["1"]
    assert [(ln.sku_code, ln.quantity, ln.external_sku_id, ln.price) for ln in first.lines] == [("A-1", 2, "101", 1290)]
    assert first.total == 2580 and first.created_at == datetime(2024, 11, 11, 0, 0, 1, tzinfo=BEIJING)
    assert first.modified_at == datetime(2024, 11, 10, 16, 5, tzinfo=timezone.utc)
    assert orders["2"].lines[0].sku_code == "MUG" and orders["2"].shipped is True and first.shipped is False


def test_order_pages_are_read_from_the_last_backwards(mock, adapter):
    empty = {"trades_sold_increment_get_response": {"trades": {"trade": []}, "total_results": 250}}
    route = by_method(mock, {api.TRADES_INCREMENT: empty})
    since = datetime(2024, 11, 10, 16, 0, tzinfo=timezone.utc)
    tokens, token = [], None
    for _ in range(4):
        page = adapter.fetch_orders(since, since + timedelta(minutes=30), token)
        tokens.append(page.next_token)
        token = page.next_token
    assert tokens == ["back:3", "back:2", "back:1", None]
    assert [sent(route, n)[1]["page_no"] for n in range(4)] == ["1", "3", "2", "1"]
    system, business = sent(route, 0)
    assert (business["start_modified"], business["end_modified"], business["page_size"]) == (
        "2024-11-11 00:00:00", "2024-11-11 00:30:00", "100")


def test_confirm_with_fullinfo_reads_each_listed_trade_again(mock, make):
    adapter = make(confirm_with_fullinfo=True)
    listed = {"tid": 5, "status": "WAIT_SELLER_SEND_GOODS", "created": "2024-11-11 00:00:01"}
    final = {**listed, "status": "TRADE_CLOSED", "pay_time": "2024-11-11 00:00:02"}
    route = by_method(mock, {
        api.TRADES_INCREMENT: {"trades_sold_increment_get_response": {"trades": {"trade": [listed]},
                                                                      "total_results": 1}},
        api.TRADE_FULLINFO: {"trade_fullinfo_get_response": {"trade": final}}})
    now = datetime.now(timezone.utc)
    [order] = adapter.fetch_orders(now - timedelta(minutes=5), now, None).items
    assert order.status == OrderStatus.CANCELLED and sent(route, 1)[1]["tid"] == "5"


def test_refunds_are_read_again_with_fullinfo(mock, adapter):
    route = by_method(mock, {
        api.REFUNDS_RECEIVE: {"refunds_receive_get_response": {"refunds": {"refund": [
            {"refund_id": 1, "tid": 42, "status": "SUCCESS"}, {"refund_id": 2, "tid": 42, "status": "SUCCESS"}]},
            "has_next": False}},
        api.TRADE_FULLINFO: {"trade_fullinfo_get_response": {"trade": {
            "tid": 42, "status": "TRADE_CLOSED", "created": "2024-11-11 00:00:01", "pay_time": "2024-11-11 00:00:02",
            "orders": {"order": [{"sku_id": 1, "outer_sku_id": "A", "num": 1}]}}}}})
    now = datetime.now(timezone.utc)
    page = adapter.fetch_refunds(now - timedelta(minutes=30), now, None)
    # closed after payment with nothing consigned: a cancel, whatever TOP calls it
    assert [(o.external_id, o.status) for o in page.items] == [("42", OrderStatus.CANCELLED)]
    assert page.next_token is None and len(route.calls) == 2  # one fullinfo per trade


def test_ship_sends_tracking_number_and_carrier(mock, adapter):
    route = by_method(mock, {api.OFFLINE_SEND: [
        {"logistics_offline_send_response": {"shipping": {"is_success": True}}},
        {"logistics_offline_send_response": {"shipping": {"is_success": False}}}]})
    adapter.ship("42", "sf", "SF123")
    assert sent(route)[1] == {"tid": "42", "out_sid": "SF123", "company_code": "SF"}
    with pytest.raises(Rejected):
        adapter.ship("42", "SF", "SF123")


# --- the error table: one test per class -------------------------------------------------------

def test_rate_limit_carries_the_ban_length(mock, adapter):
    by_method(mock, {api.ITEMS_ONSALE: error(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                                             "This ban will last for 37 more seconds")})
    with pytest.raises(RateLimited) as info:
        adapter.list_listings(None)
    assert info.value.retry_after == 37.0
    assert info.value.code == "accesscontrol.limited-by-app-access-count"
    assert "App Call Limited" in info.value.message and "37 more seconds" in info.value.message


def test_rate_limit_without_a_stated_ban_still_waits(mock, adapter):
    by_method(mock, {api.ITEMS_ONSALE: error(7, "App Call Limited")})
    with pytest.raises(RateLimited) as info:
        adapter.list_listings(None)
    assert info.value.retry_after and info.value.retry_after > 0 and info.value.code == "7"


@pytest.mark.parametrize("body", [error(10, "Service Currently Unavailable", "isp.service-unavailable"),
                                  error(15, "Remote service error", "isp.top-remote-connection-timeout")])
def test_service_failures_are_transient(mock, adapter, body):
    by_method(mock, {api.ITEMS_ONSALE: body})
    with pytest.raises(Transient) as info:
        adapter.list_listings(None)
    assert not isinstance(info.value, RateLimited) and info.value.maybe_applied
    assert info.value.code.startswith("isp.")


def test_invalid_session_is_auth_expired(mock, adapter):
    by_method(mock, {api.ITEMS_ONSALE: error(27, "Invalid session", "invalid-sessionkey", "session expired")})
    with pytest.raises(AuthExpired) as info:
        adapter.list_listings(None)
    assert info.value.code == "invalid-sessionkey" and "Invalid session" in info.value.message
    assert "session-value" not in str(info.value)


def test_missing_item_is_not_found(mock, adapter):
    by_method(mock, {api.ITEM_DELISTING: error(15, "Remote service error", "isv.item-not-exist:invalid-numIid-or-iid",
                                               "商品不存在")})
    with pytest.raises(NotFound) as info:
        adapter.set_shelf(ListingContent("A", "P", "t", "", False, item_id="7"), False)
    assert info.value.code == "isv.item-not-exist:invalid-numIid-or-iid" and "商品不存在" in info.value.message


def test_missing_item_in_a_stock_batch_is_a_result_not_a_raise(mock, adapter):
    by_method(mock, {api.SKUS_QUANTITY: error(15, "Remote service error", "isv.item-is-delete:invalid-numIid-or-iid")})
    [result] = adapter.set_stock([StockUpdate("A", "101", "1", 5, 5, 0, "k")])
    assert isinstance(result.error, NotFound)


@pytest.mark.parametrize("body,code", [(error(25, "Invalid signature"), "25"), (error(29, "Invalid app Key"), "29"),
                                       (error(15, "Remote service error", "isv.invalid-parameter:sku-properties",
                                              "SKU属性错误"), "isv.invalid-parameter:sku-properties"),
                                       (error(41, "Invalid Arguments:page_size"), "41")])
def test_refusals_are_rejected_with_code_and_message(mock, adapter, body, code):
    by_method(mock, {api.ITEMS_ONSALE: body})
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == code
    assert body["error_response"]["msg"] in info.value.message
    assert "s3cret-value" not in str(info.value)


def test_every_code_in_the_issue_maps_as_specified():
    assert classify("7", None) is RateLimited
    assert classify("27", "invalid-sessionkey") is AuthExpired
    assert classify("15", "isv.item-not-exist:invalid-numIid-or-iid") is NotFound
    assert classify("15", "isv.invalid-parameter") is Rejected
    assert classify("10", None) is Transient and classify("15", "isp.remote-service-timeout") is Transient
    assert classify("25", None) is Rejected and classify("29", None) is Rejected
    assert classify("99999", None) is Rejected  # unknown: permanent, with TOP's code kept


@pytest.mark.parametrize("response,error_type", [
    (httpx.Response(200, content=b'{"items_onsale_get_resp'), Transient),
    (httpx.Response(200, json={"something_else": {}}), Transient),
    (httpx.Response(502, content=b"<html>bad gateway</html>"), Transient),
    (httpx.Response(429, headers={"Retry-After": "3"}), RateLimited)])
def test_garbled_or_http_failures_are_transient(mock, adapter, response, error_type):
    mock.post(ROUTER).mock(return_value=response)
    with pytest.raises(error_type):
        adapter.list_listings(None)


# --- partial batches and auth ----------------------------------------------------------------------

def test_a_failure_after_an_applied_call_stays_with_its_updates(mock, adapter):
    by_method(mock, {api.SKUS_QUANTITY: [{"skus_quantity_update_response": {"item": {"num_iid": 1}}},
                                         error(10, "Service Currently Unavailable")]})
    results = adapter.set_stock([StockUpdate("A", "101", "1", 5, 1, 4, "k1"),
                                 StockUpdate("B", "201", "2", 5, 1, 4, "k2"),
                                 StockUpdate("C", "301", "3", 5, 1, 4, "k3")])
    assert results[0].ok
    assert isinstance(results[1].error, Transient) and results[1].error.maybe_applied
    assert isinstance(results[2].error, Transient) and not results[2].error.maybe_applied  # never sent


def test_a_failure_of_the_first_call_fails_the_batch(mock, adapter):
    by_method(mock, {api.SKUS_QUANTITY: error(27, "Invalid session", "invalid-sessionkey")})
    with pytest.raises(AuthExpired):  # so the core refreshes the session and sends the batch again
        adapter.set_stock([StockUpdate("A", "101", "1", 5, 1, 4, "k1"), StockUpdate("B", "201", "2", 5, 1, 4, "k2")])


def test_a_refused_multi_sku_call_is_retried_sku_by_sku(mock, adapter):
    bad = error(15, "Remote service error", "isv.invalid-parameter:sku_id")
    ok = {"skus_quantity_update_response": {"item": {"num_iid": 1}}}
    route = by_method(mock, {api.SKUS_QUANTITY: [bad, ok, bad]})
    results = adapter.set_stock([StockUpdate("A", "101", "1", 5, 1, 4, "k1"),
                                 StockUpdate("B", "102", "1", 5, 1, 4, "k2")])
    assert results[0].ok and isinstance(results[1].error, Rejected)
    assert [sent(route, n)[1]["skuid_quantities"] for n in range(3)] == ["101:1;102:1", "101:1", "102:1"]


def test_refresh_auth_without_a_refresh_token_says_what_to_do(adapter):
    with pytest.raises(Rejected) as info:
        adapter.refresh_auth()
    assert "session" in info.value.message and info.value.code


def test_refresh_auth_takes_the_new_session_and_refresh_token(mock, make):
    adapter = make(refresh_token="r-1")
    token = {"access_token": "session-2", "refresh_token": "r-2", "expires_in": 3600}
    refreshed = {"top_auth_token_refresh_response": {"token_result": json.dumps(token)}}
    route = by_method(mock, {api.TOKEN_REFRESH: [refreshed],
                             api.ITEM_DELISTING: {"item_update_delisting_response": {"item": {}}}})
    adapter.refresh_auth()
    system, business = sent(route, 0)
    assert business == {"refresh_token": "r-1"} and "session" not in system
    assert timedelta(minutes=59) < adapter.token_expires_at() - datetime.now(timezone.utc) <= timedelta(hours=1)
    adapter.set_shelf(ListingContent("A", "P", "t", "", False, item_id="7"), False)
    assert sent(route, 1)[0]["session"] == "session-2" and adapter._refresh_token == "r-2"
