"""The WeChat client and adapter against canned channels/ec answers (respx): envelopes and the error table."""

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from channelsync_wechat import api
from channelsync_wechat.channel import WechatChannel
from channelsync_wechat.errors import ERRORS, error_for

from channelsync.sdk import Detail, Reply
from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.models import OrderStatus, PriceUpdate, StockUpdate
from channelsync.sdk.paging import decode, encode
from channelsync.testing.pytest_plugin import resolved, sent_request

GATEWAY = api.DEFAULT_BASE_URL
SETTINGS = {"appid": "wx-app", "secret": "s3cret-value"}


@pytest.fixture
def platform(mock_platform):
    platform = mock_platform(WechatChannel, SETTINGS, assert_all_called=False)
    # every business call needs a token first: the token route is routes[0]
    platform.router.post(api.STABLE_TOKEN).respond(200, json={"access_token": "TOKEN-1", "expires_in": 7200})
    return platform


@pytest.fixture
def mock(platform):
    return platform.router


@pytest.fixture
def adapter(platform):
    return platform.adapter


def answer(mock, path, *bodies, status=200):
    """Answer ``path`` with the bodies in turn (the last one repeats)."""
    queue = list(bodies)

    def respond(request):
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(status, json=body)
    return mock.post(f"{GATEWAY}{path}").mock(side_effect=respond)


def err(errcode, errmsg):
    return {"errcode": errcode, "errmsg": f"{errmsg} rid: 6530b2f6-1a2b3c4d"}


def stock(delta, item_id="1001", sku_id="2001"):
    return StockUpdate("S-1", sku_id, item_id, quantity=10 + delta, delta=delta, expected=10, key="k")


# --- success envelopes ---------------------------------------------------------------------------

def test_listing_page_reads_ids_then_each_product(mock, adapter):
    listed = answer(mock, api.PRODUCT_LIST, {"errcode": 0, "errmsg": "ok", "product_ids": ["1001", "1002"],
                                             "next_key": "NK1", "total_num": 3})
    answer(mock, api.PRODUCT_GET,
           {"errcode": 0, "errmsg": "ok", "product": {"product_id": "1001", "title": "茶杯", "status": 5, "skus": [
               {"sku_id": "2001", "out_sku_id": "CUP-R", "sale_price": 1290, "stock_num": 7},
               {"sku_id": "2002", "out_sku_id": "", "sale_price": 1390, "stock_num": 0}]}},
           {"errcode": 0, "errmsg": "ok", "product": {"product_id": "1002", "title": "碗", "status": 5, "skus": [
               {"sku_id": "2003", "out_sku_id": "BOWL", "sale_price": 990, "stock_num": 2}]}})
    page = adapter.list_listings(None)
    assert [d.key for d in page.items] == ["1001", "1002"] and all(isinstance(d, Detail) for d in page.items)
    listings = resolved(page)  # the core reads each product with its own call
    assert [(ls.external_id, ls.sku_code, ls.item_id, ls.quantity, ls.price, ls.on_shelf) for ls in listings] == [
        ("2001", "CUP-R", "1001", 7, 1290, True), ("2002", None, "1001", 0, 1390, True),
        ("2003", "BOWL", "1002", 2, 990, True)]
    assert listings[0].title == "茶杯"
    assert sent_request(listed).json == {"status": 5, "page_size": 30}
    at = decode(page.next_token, WechatChannel.listing_pages, 30)
    assert (at.phase, at.token, at.offset) == (5, "NK1", 2)


def test_listing_moves_from_on_sale_to_delisted_then_ends(mock, adapter):
    listed = answer(mock, api.PRODUCT_LIST, {"errcode": 0, "errmsg": "ok", "product_ids": [], "next_key": "",
                                             "total_num": 0})
    second = adapter.listing_pages.next(adapter.listing_pages.first(30), Reply(["x"] * 2, next_token="NK1", total=3))
    following = adapter.list_listings(encode(second, adapter.listing_pages, 30)).next_token
    assert decode(following, adapter.listing_pages, 30).phase == api.DELISTED
    assert sent_request(listed).json == {"status": 5, "page_size": 30, "next_key": "NK1"}
    assert adapter.list_listings(following).next_token is None


def test_order_page_maps_statuses_lines_and_times(mock, adapter):
    listed = answer(mock, api.ORDER_LIST, {"errcode": 0, "errmsg": "ok", "order_id_list": ["9001", "9002"],
                                           "next_key": "NEXT", "has_more": True})

    def order(order_id, status, aftersale=None, delivered=False):
        detail = {"product_infos": [{"product_id": "1001", "sku_id": "2001", "sku_cnt": 2, "sale_price": 1290,
                                     "out_sku_id": "CUP-R"}], "price_info": {"order_price": 2580}}
        if delivered:
            detail["delivery_info"] = {"delivery_product_info": [{"waybill_id": "SF1", "delivery_id": "SF"}]}
        return {"errcode": 0, "errmsg": "ok", "order": {
            "order_id": order_id, "status": status, "create_time": 1731286800, "update_time": 1731290400,
            "order_detail": detail, "aftersale_detail": {"aftersale_order_list": aftersale or []}}}
    answer(mock, api.ORDER_GET, order("9001", 20),
           order("9002", 250, [{"aftersale_order_id": "7001", "status": "MERCHANT_RETURN_SUCCESS"}], delivered=True))
    case = answer(mock, api.AFTERSALE_GET, {"errcode": 0, "errmsg": "ok", "after_sale_order": {
        "after_sale_order_id": "7001", "order_id": "9002", "status": "MERCHANT_RETURN_SUCCESS", "type": "RETURN",
        "product_info": {"product_id": "1001", "sku_id": "2001", "count": 1}}})
    since = datetime(2024, 11, 11, 1, 0, 0, 500_000, tzinfo=timezone.utc)
    page = adapter.fetch_orders(since, since + timedelta(hours=1), None)
    assert sent_request(listed).json == {"update_time_range": {"start_time": 1731286800, "end_time": 1731290401},
                               "page_size": 100}
    paid, refunded = resolved(page)
    assert (paid.external_id, paid.status, paid.total, paid.shipped) == ("9001", OrderStatus.PAID, 2580, False)
    assert [(ln.sku_code, ln.quantity, ln.external_sku_id, ln.price) for ln in paid.lines] == [("CUP-R", 2, "2001", 1290)]
    assert paid.created_at == datetime(2024, 11, 11, 1, 0, tzinfo=timezone.utc)
    assert paid.modified_at == datetime(2024, 11, 11, 2, 0, tzinfo=timezone.utc)
    assert (refunded.status, refunded.shipped, refunded.platform_status) == (OrderStatus.REFUNDED, True, "250")
    # its after-sale order says which line and how many: 1 of the 2 refunded and coming back
    assert sent_request(case).json == {"after_sale_order_id": "7001"}
    assert [(ln.refunded, ln.returning) for ln in refunded.lines] == [(1, 1)]
    assert decode(page.next_token, WechatChannel.order_pages, 100).token == "NEXT"


# 21 (partly shipped) stays paid: the parcels say per line what left; 200 and 250 with nothing
# delivered are cancelled (closed before shipment), whatever the after-sales did
@pytest.mark.parametrize("status,expected", [(10, OrderStatus.NEW), (21, OrderStatus.PAID),
                                             (30, OrderStatus.SHIPPED), (100, OrderStatus.COMPLETED),
                                             (200, OrderStatus.CANCELLED), (250, OrderStatus.CANCELLED)])
def test_order_statuses(mock, adapter, status, expected):
    answer(mock, api.ORDER_GET, {"errcode": 0, "errmsg": "ok", "order": {
        "order_id": "9", "status": status, "create_time": 1, "update_time": 2, "order_detail": {}}})
    assert adapter.order("9").status == expected


def test_stock_is_sent_as_an_increment(mock, adapter):
    route = answer(mock, api.STOCK_UPDATE, {"errcode": 0, "errmsg": "ok"})
    assert adapter.set_stock([stock(+4)])[0].ok
    assert sent_request(route).json == {"product_id": "1001", "sku_id": "2001", "diff_type": 1, "num": 4}
    assert adapter.set_stock([stock(-3)])[0].ok
    assert sent_request(route).json == {"product_id": "1001", "sku_id": "2001", "diff_type": 2, "num": 3}
    assert adapter.set_stock([stock(0)])[0].ok and route.call_count == 2, "nothing to send for 0"


def test_prices_go_in_one_auditfree_call_per_product(mock, adapter):
    route = answer(mock, api.PRICE_UPDATE, {"errcode": 0, "errmsg": "ok"})
    results = adapter.set_prices([PriceUpdate("A", "2001", "1001", 1290), PriceUpdate("B", "2002", "1001", 1390),
                                  PriceUpdate("C", "2003", "1002", 990)])
    assert all(r.ok for r in results) and route.call_count == 2
    assert sent_request(route, 0).json == {"product_id": "1001", "skus": [{"sku_id": "2001", "sale_price": 1290},
                                                                {"sku_id": "2002", "sale_price": 1390}]}


def test_ship_sends_every_line_with_the_carrier_code(mock, adapter):
    answer(mock, api.ORDER_GET, {"errcode": 0, "errmsg": "ok", "order": {
        "order_id": "9001", "status": 20, "create_time": 1, "order_detail": {"product_infos": [
            {"product_id": "1001", "sku_id": "2001", "sku_cnt": 2}]}}})
    sent = answer(mock, api.DELIVERY_SEND, {"errcode": 0, "errmsg": "ok"})
    assert adapter.capabilities.carrier("sf") == "SF"  # the core maps what the operator typed
    adapter.ship("9001", adapter.capabilities.carrier("sf"), "SF1234567890")
    assert sent_request(sent).json == {"order_id": "9001", "delivery_list": [{
        "delivery_id": "SF", "waybill_id": "SF1234567890", "deliver_type": 1,
        "product_infos": [{"product_id": "1001", "sku_id": "2001", "product_cnt": 2}]}]}


def test_the_token_is_fetched_once_and_reused(mock, adapter):
    answer(mock, api.PRODUCT_DELISTING, {"errcode": 0, "errmsg": "ok"})
    from channelsync.sdk.models import ListingContent

    for _ in range(3):
        adapter.set_shelf(ListingContent("A", "P", "t", "", False, item_id="1"), False)
    assert mock.routes[0].call_count == 1
    assert adapter.token_expires_at() is not None


# --- the error table, one class at a time ----------------------------------------------------------

def test_minute_quota_is_rate_limited_until_the_next_minute(mock, adapter):
    answer(mock, api.STOCK_UPDATE, err(45011, "api minute-quota reach limit  mustslower  retry next minute"))
    adapter.client.clock = lambda: datetime(2024, 11, 11, 1, 0, 20, tzinfo=timezone.utc)
    with pytest.raises(RateLimited) as info:
        adapter.set_stock([stock(+1)])
    assert (info.value.code, info.value.retry_after) == ("45011", 40.0)  # "retry next minute"
    assert "minute-quota" in info.value.message


def test_sku_updated_too_often_is_rate_limited_briefly(mock, adapter):
    answer(mock, api.STOCK_UPDATE, err(10020112, "sku stock update too frequently"))
    with pytest.raises(RateLimited) as info:
        adapter.set_stock([stock(+1)])
    assert info.value.code == "10020112" and 0 < info.value.retry_after <= 5


def test_daily_quota_waits_until_beijing_midnight():
    error = error_for(45009, "reach max api daily quota limit", path="/x",
                      clock=lambda: datetime(2024, 11, 11, 15, 30, tzinfo=timezone.utc))  # 23:30 in Beijing
    assert isinstance(error, RateLimited) and error.retry_after == 1800


def test_system_busy_is_transient(mock, adapter):
    answer(mock, api.PRODUCT_LIST, err(-1, "system error"))
    with pytest.raises(Transient) as info:
        adapter.list_listings(None)
    assert not isinstance(info.value, RateLimited) and info.value.code == "-1" and info.value.maybe_applied


def test_insufficient_stock_is_transient_and_certainly_not_applied(mock, adapter):
    answer(mock, api.STOCK_UPDATE, err(10020219, "stock not enough to subtract"))
    with pytest.raises(Transient) as info:
        adapter.set_stock([stock(-5)])
    assert info.value.code == "10020219" and info.value.maybe_applied is False


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_token_refusals_are_auth_expired_and_drop_the_cached_token(mock, adapter, errcode):
    route = answer(mock, api.PRODUCT_LIST, err(errcode, "access_token expired"),
                   {"errcode": 0, "errmsg": "ok", "product_ids": [], "total_num": 0})
    with pytest.raises(AuthExpired) as info:
        adapter.list_listings(None)
    assert info.value.code == str(errcode)
    assert adapter.auth.current is None
    adapter.list_listings(None)  # fetches a token first, then calls
    # the normal token call hands back the refused token (this mock always does), so it is forced
    assert mock.routes[0].call_count == 3 and route.call_count == 2
    assert [sent_request(mock.routes[0], n).json["force_refresh"] for n in range(3)] == [False, False, True]


def test_unknown_product_is_not_found(mock, adapter):
    answer(mock, api.STOCK_UPDATE, err(10020052, "product not exist"))
    result = adapter.set_stock([stock(+1, item_id="987")])[0]
    assert isinstance(result.error, NotFound) and result.error.code == "10020052"


def test_unauthorized_api_is_rejected_with_code_and_message(mock, adapter):
    answer(mock, api.PRODUCT_DELISTING, err(48001, "api unauthorized"))
    from channelsync.sdk.models import ListingContent

    with pytest.raises(Rejected) as info:
        adapter.set_shelf(ListingContent("A", "P", "t", "", False, item_id="1"), False)
    assert info.value.code == "48001" and "api unauthorized" in info.value.message


def test_wrong_secret_at_token_time_is_rejected(mock, adapter):
    for errcode in (40125, 40001):  # stable_token says 40125; the legacy call said 40001
        mock.routes[0].respond(200, json=err(errcode, "invalid appsecret"))
        with pytest.raises(Rejected) as info:
            adapter.list_listings(None)
        assert info.value.code == str(errcode) and "s3cret-value" not in str(info.value)


def test_unknown_errcode_is_rejected_with_its_words(mock, adapter):
    answer(mock, api.PRODUCT_LIST, err(12345678, "something new"))
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == "12345678" and "something new" in info.value.message


def test_http_failures_and_half_answers_are_transient(mock, adapter):
    route = mock.post(f"{GATEWAY}{api.PRODUCT_LIST}")
    route.respond(502, text="<html>bad gateway</html>")
    with pytest.raises(Transient):
        adapter.list_listings(None)
    route.respond(200, content=b'{"errcode": 0, "product_')
    with pytest.raises(Transient):
        adapter.list_listings(None)
    route.respond(429, headers={"Retry-After": "3"})
    with pytest.raises(RateLimited) as info:
        adapter.list_listings(None)
    assert info.value.retry_after == 3.0


def test_a_batch_keeps_what_went_through_when_a_later_call_fails(mock, adapter):
    answer(mock, api.PRICE_UPDATE, {"errcode": 0, "errmsg": "ok"}, err(45011, "minute quota"))
    results = adapter.set_prices([PriceUpdate("A", "2001", "1001", 1290), PriceUpdate("B", "2003", "1002", 990),
                                  PriceUpdate("C", "2004", "1003", 990)])
    assert results[0].ok
    assert isinstance(results[1].error, RateLimited)
    assert results[2].error.code == "not-sent" and results[2].error.maybe_applied is False


def test_every_code_in_platforms_md_is_in_the_table():
    documented = {-1, 40001, 40014, 42001, 45009, 45011, 48001, 10020052, 10020112, 10020219, 10020289, 10020004}
    assert documented <= {int(code) for code in ERRORS.codes}


def test_unknown_order_status_reserves_nothing_and_keeps_wechats_number(mock, adapter):
    answer(mock, api.ORDER_GET, {"errcode": 0, "errmsg": "ok", "order": {
        "order_id": "9", "status": 12, "create_time": 1, "update_time": 2, "order_detail": {}}})
    order = adapter.order("9")
    assert (order.status, order.platform_status) == (OrderStatus.NEW, "12")
