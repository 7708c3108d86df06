"""The JD client and adapter against canned JOS responses (respx): envelopes and the error table."""

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.models import OrderStatus, StockUpdate
from channelsync.testing.pytest_plugin import sent_request
from channelsync_jd.channel import JdChannel
from channelsync_jd.signing import sign

GATEWAY = "https://api.jd.com"
ROUTER = f"{GATEWAY}/routerjson"
SETTINGS = {"app_key": "ak", "app_secret": "s3cret-value", "access_token": "tok-value",
            "refresh_token": "refresh-value"}


@pytest.fixture
def platform(mock_platform):
    return mock_platform(JdChannel, SETTINGS)


@pytest.fixture
def mock(platform):
    return platform.router


@pytest.fixture
def adapter(platform):
    return platform.adapter


def reply(mock, body, status=200):
    return mock.post(ROUTER).mock(return_value=httpx.Response(status, json=body))


def error_response(code, en="", zh=""):
    return {"error_response": {"code": code, "en_desc": en, "zh_desc": zh}}


def sent(route):
    """System parameters (query) and business parameters (form body) of the last call."""
    request = sent_request(route)
    return request.query, json.loads(request.form["360buy_param_json"])


# --- success envelopes -------------------------------------------------------------

def test_listing_page_is_parsed_from_the_responce_root(mock, adapter):
    route = reply(mock, {"jingdong_sku_read_searchSkuList_responce": {"code": "0", "page": {
        "data": [{"skuId": 10001, "wareId": 20001, "outerId": "A-1", "jdPrice": "12.90", "stockNum": 7,
                  "status": 1, "wareTitle": "T恤"},
                 {"skuId": 10002, "wareId": 20001, "outerId": "", "jdPrice": 12.9, "stockNum": 0, "status": 2}],
        "pageNo": 1, "pageSize": 50, "totalItem": 51}}})
    page = adapter.list_listings(None)
    assert [(x.external_id, x.item_id, x.sku_code, x.quantity, x.price, x.on_shelf) for x in page.items] == [
        ("10001", "20001", "A-1", 7, 1290, True), ("10002", "20001", None, 0, 1290, False)]
    assert page.items[0].title == "T恤"
    assert page.next_token == "2"  # 51 SKUs at 50 a page
    system, business = sent(route)
    assert route.calls.last.request.method == "POST"
    assert system["method"] == "jingdong.sku.read.searchSkuList" and system["v"] == "2.0"
    assert system["app_key"] == "ak" and system["access_token"] == "tok-value"
    assert business["pageNo"] == 1 and business["page_size"] == 50
    raw_json = sent_request(route).form["360buy_param_json"]
    assert system["sign"] == sign({**system, "360buy_param_json": raw_json}, "s3cret-value")


def test_last_listing_page_has_no_next_token(mock, adapter):
    reply(mock, {"jingdong_sku_read_searchSkuList_responce": {"code": "0", "page": {
        "data": [{"skuId": 1, "wareId": 2, "outerId": "X", "jdPrice": "1.00", "stockNum": 1, "status": 1}],
        "pageNo": 2, "pageSize": 50, "totalItem": 51}}})
    assert adapter.list_listings("2").next_token is None


def test_param_json_can_travel_in_the_query(mock, mock_platform):
    route = reply(mock, {"jingdong_stock_write_updateSkuStock_responce": {"code": "0", "success": True}})
    ch = mock_platform(JdChannel, {**SETTINGS, "param_json_in": "query"}).adapter
    ch.set_stock([StockUpdate("A", "10001", "20001", 5, 0, None, "k")])
    request = route.calls.last.request
    assert request.content == b""
    assert json.loads(request.url.params["360buy_param_json"]) == {"skuId": 10001, "stockNum": 5}


def test_orders_are_parsed_with_lines_states_and_beijing_times(mock, adapter):
    def info(order_id, state):
        return {"orderId": order_id, "orderState": state, "orderStartTime": "2024-11-11 00:00:05",
                "modified": "2024-11-11 00:10:00", "orderTotalPrice": "59.70", "orderPayment": "49.70",
                "itemInfoList": [{"skuId": "10001", "outerSkuId": "A-1", "itemTotal": "3", "jdPrice": "19.90"}]}
    states = ["WAIT_SELLER_STOCK_OUT", "WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L", "TRADE_CANCELED",
              "LOCKED", "PAUSE", "SOMETHING_NEW"]
    route = reply(mock, {"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": True}, "orderTotal": 7,
        "orderInfoList": [info(str(900 + i), s) for i, s in enumerate(states)]}}})
    since = datetime(2024, 11, 10, 16, 0, tzinfo=timezone.utc)
    page = adapter.fetch_orders(since, since + timedelta(days=1), None)
    assert [o.status for o in page.items] == [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                                              OrderStatus.CANCELLED, OrderStatus.PAID, OrderStatus.PAID,
                                              OrderStatus.NEW]
    first = page.items[0]
    assert first.created_at == datetime(2024, 11, 10, 16, 0, 5, tzinfo=timezone.utc)
    assert first.total == 4970
    assert [(ln.sku_code, ln.quantity, ln.external_sku_id, ln.price) for ln in first.lines] == [
        ("A-1", 3, "10001", 1990)]
    assert page.items[-1].platform_status == "SOMETHING_NEW"
    assert page.next_token is None
    _, business = sent(route)
    assert business["start_date"] == "2024-11-11 00:00:00" and business["end_date"] == "2024-11-12 00:00:00"
    assert business["page_size"] == "100" and business["dateType"] == "0"


def test_order_date_type_is_configurable(mock, mock_platform):
    route = reply(mock, {"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": True}, "orderTotal": 0, "orderInfoList": []}}})
    ch = mock_platform(JdChannel, {**SETTINGS, "order_date_type": "3"}).adapter
    now = datetime.now(timezone.utc)
    ch.fetch_orders(now - timedelta(hours=1), now, None)
    assert sent(route)[1]["dateType"] == "3"


def test_ship_sends_the_numeric_carrier_id(mock, adapter):
    route = reply(mock, {"jingdong_pop_order_shipment_responce": {"code": "0", "sopjosshipment_result": {
        "success": True}}})
    adapter.ship("900", "sf", "SF1234567890")
    assert sent(route)[1] == {"orderId": "900", "logiCoprId": "467", "logiNo": "SF1234567890"}


def test_ship_with_an_unmapped_carrier_is_rejected_before_calling_jd(adapter):
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(ROUTER)
        with pytest.raises(Rejected) as info:
            adapter.ship("900", "NOPE", "1")
    assert info.value.code == "unknown-carrier"
    assert not route.called


# --- the error table --------------------------------------------------------------

@pytest.mark.parametrize("code", ["2", "ISP_FLOW_CONTROL_LIMIT"])
def test_call_limit_is_rate_limited_with_a_wait(mock, adapter, code):
    reply(mock, error_response(code, "App Call Limited", "限制时间内调用失败次数"))
    with pytest.raises(RateLimited) as info:
        adapter.list_listings(None)
    assert info.value.code == code and info.value.retry_after == 1.0


def test_flow_control_inside_a_result_object_is_rate_limited(mock, adapter):
    reply(mock, {"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": False, "numberCode": "ISP_FLOW_CONTROL_LIMIT", "englishErrCode": "flow control"}}}})
    with pytest.raises(RateLimited):
        adapter.fetch_orders(datetime.now(timezone.utc) - timedelta(hours=1), datetime.now(timezone.utc), None)


def test_backend_unavailable_is_transient(mock, adapter):
    reply(mock, error_response("66", "backend unavailable"))
    with pytest.raises(Transient) as info:
        adapter.list_listings(None)
    assert info.value.code == "66" and not isinstance(info.value, RateLimited)


@pytest.mark.parametrize("response", [httpx.Response(502, text="<html>bad gateway</html>"),
                                      httpx.Response(200, text='{"truncated": ')])
def test_5xx_and_malformed_bodies_are_transient(mock, adapter, response):
    mock.post(ROUTER).mock(return_value=response)
    with pytest.raises(Transient):
        adapter.list_listings(None)


def test_invalid_token_is_auth_expired(mock, adapter):
    reply(mock, error_response("19", "Invalid access_token", "无效access_token"))
    with pytest.raises(AuthExpired) as info:
        adapter.list_listings(None)
    assert info.value.code == "19"


def test_unknown_sku_is_a_not_found_result_not_an_exception(mock, adapter):
    reply(mock, {"jingdong_stock_write_updateSkuStock_responce": {"code": "SKU_NOT_EXIST",
                                                                   "en_desc": "sku 1 does not exist"}})
    [result] = adapter.set_stock([StockUpdate("GHOST", "1", None, 5, 5, 0, "k")])
    assert isinstance(result.error, NotFound) and result.error.code == "SKU_NOT_EXIST"
    assert result.external_id == "1"


def test_invalid_signature_is_rejected_with_code_and_both_messages(mock, adapter):
    reply(mock, error_response("12", "Invalid Signature", "无效签名"))
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == "12"
    assert "Invalid Signature" in info.value.message and "无效签名" in info.value.message
    assert "s3cret-value" not in str(info.value) and "tok-value" not in str(info.value)


def test_invalid_app_key_is_rejected(mock, adapter):
    reply(mock, error_response("21", "Invalid App Key"))
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == "21"


def test_unknown_code_is_rejected_keeping_jds_code(mock, adapter):
    reply(mock, error_response("999", "something odd"))
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert (info.value.code, info.value.message) == ("999", "something odd")


def test_api_result_failure_surfaces(mock, adapter):
    reply(mock, {"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": False, "numberCode": "10100", "englishErrCode": "bad state",
                      "chineseErrCode": "状态错误"}}}})
    with pytest.raises(Rejected) as info:
        adapter.fetch_orders(datetime.now(timezone.utc) - timedelta(hours=1), datetime.now(timezone.utc), None)
    assert info.value.code == "10100" and "状态错误" in info.value.message


def test_shipment_failure_inside_the_result_surfaces(mock, adapter):
    reply(mock, {"jingdong_pop_order_shipment_responce": {"code": "0", "sopjosshipment_result": {
        "success": False, "error_code": "ORDER_STATE_ERROR", "english_err_code": "already shipped"}}})
    with pytest.raises(Rejected) as info:
        adapter.ship("900", "SF", "1")
    assert info.value.code == "ORDER_STATE_ERROR"


def test_a_response_without_the_expected_root_is_transient(mock, adapter):
    reply(mock, {"something_else": {}})
    with pytest.raises(Transient) as info:
        adapter.list_listings(None)
    assert info.value.code == "envelope"


# --- token refresh -------------------------------------------------------------------

def test_refresh_auth_swaps_the_token_and_reports_expiry(mock, adapter):
    oauth = mock.get("https://open-oauth.jd.com/oauth2/refresh_token").mock(return_value=httpx.Response(200, json={
        "code": 0, "access_token": "new-token", "refresh_token": "refresh-2", "expires_in": 3600}))
    route = reply(mock, {"jingdong_stock_write_updateSkuStock_responce": {"code": "0", "success": True}})
    before = datetime.now(timezone.utc)
    adapter.refresh_auth()
    assert dict(oauth.calls.last.request.url.params)["refresh_token"] == "refresh-value"
    assert before + timedelta(seconds=3590) < adapter.token_expires_at() < before + timedelta(seconds=3700)
    adapter.set_stock([StockUpdate("A", "1", None, 1, 0, None, "k")])
    assert sent(route)[0]["access_token"] == "new-token"


def test_refused_refresh_is_rejected_with_the_oauth_code(mock, adapter):
    mock.get("https://open-oauth.jd.com/oauth2/refresh_token").mock(
        return_value=httpx.Response(200, json={"code": 402, "msg": "invalid or expired refresh_token"}))
    with pytest.raises(Rejected) as info:
        adapter.refresh_auth()
    assert info.value.code == "402" and "refresh-value" not in str(info.value)


def test_refresh_without_a_refresh_token_says_so():
    ch = JdChannel("jd-n", {k: v for k, v in SETTINGS.items() if k != "refresh_token"}, httpx.Client())
    with pytest.raises(Rejected) as info:
        ch.refresh_auth()
    assert info.value.code == "no-refresh-token"


def test_a_row_missing_jds_ids_is_a_garbled_answer(mock, adapter):
    reply(mock, {"jingdong_sku_read_searchSkuList_responce": {"code": "0", "page": {
        "data": [{"wareId": 2, "outerId": "X", "jdPrice": "1.00"}], "pageNo": 1, "pageSize": 50, "totalItem": 1}}})
    with pytest.raises(Transient) as info:
        adapter.list_listings(None)
    assert info.value.code == "payload"


def test_call_limit_on_the_oauth_endpoint_is_rate_limited(mock, adapter):
    mock.get("https://open-oauth.jd.com/oauth2/refresh_token").mock(
        return_value=httpx.Response(200, json=error_response("2", "App Call Limited")))
    with pytest.raises(RateLimited):
        adapter.refresh_auth()


def test_only_approved_refund_applications_become_refunded_orders(mock, adapter):
    def answer(request):
        method = request.url.params["method"]
        if method == "jingdong.pop.afs.soa.refundapply.queryPageList":
            return httpx.Response(200, json={"jingdong_pop_afs_soa_refundapply_queryPageList_responce": {
                "code": "0", "queryResult": {"success": True, "totalCount": 2, "result": [
                    {"id": 1, "orderId": 901, "status": "0", "applyTime": "2024-11-11 08:00:00"},
                    {"id": 2, "orderId": 902, "status": "1", "applyTime": "2024-11-11 08:00:00",
                     "checkTime": "2024-11-11 09:00:00"}]}}})
        if method == "jingdong.asc.query.list":  # no after-sales service: the refund names no lines
            return httpx.Response(200, json={"jingdong_asc_query_list_responce": {"code": "0", "result": {
                "success": True, "pageResult": {"data": [], "totalCount": 0}}}})
        assert json.loads(dict(parse_qsl(request.content.decode()))["360buy_param_json"])["order_id"] == "902"
        return httpx.Response(200, json={"jingdong_pop_order_get_responce": {"code": "0", "orderDetailInfo": {
            "apiResult": {"success": True}, "orderInfo": {
                "orderId": "902", "orderState": "FINISHED_L", "orderStartTime": "2024-11-10 08:00:00",
                "modified": "2024-11-10 20:00:00", "orderPayment": "9.90",
                "itemInfoList": [{"skuId": "1", "outerSkuId": "R-1", "itemTotal": "1", "jdPrice": "9.90"}]}}}})

    route = mock.post(ROUTER).mock(side_effect=answer)
    since = datetime(2024, 11, 11, 0, 0, tzinfo=timezone.utc)
    page = adapter.fetch_refunds(since, since + timedelta(days=1), None)
    [order] = page.items
    assert (order.external_id, order.status, order.platform_status) == ("902", OrderStatus.REFUNDED, "FINISHED_L")
    assert order.modified_at == datetime(2024, 11, 11, 1, 0, tzinfo=timezone.utc)  # approval, Beijing 09:00
    # money back for the whole order, goods kept: every unit refunded, none expected back
    assert [(ln.sku_code, ln.quantity, ln.refunded, ln.returning) for ln in order.lines] == [("R-1", 1, 1, 0)]
    assert page.next_token == "asc:1" and route.call_count == 3  # then the after-sales services
