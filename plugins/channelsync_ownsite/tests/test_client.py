"""The WooCommerce client and adapter against canned responses (respx): envelopes and the error table."""

import base64
from datetime import datetime, timezone

import httpx
import pytest

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.models import OrderStatus, PriceUpdate, StockUpdate
from channelsync.sdk.paging import At, decode, encode
from channelsync.testing.pytest_plugin import resolved, sent_request
from channelsync_ownsite.channel import OwnsiteChannel
from channelsync_ownsite.signing import signature

SHOP = "https://shop.example.com"
API = f"{SHOP}/wp-json/wc/v3"
SETTINGS = {"base_url": SHOP, "consumer_key": "ck_live", "consumer_secret": "cs_very-secret"}
#: the kit's token for page 3 of the product list
PAGE_3 = encode(At(size=100, page=3), OwnsiteChannel.listing_pages, 100)


@pytest.fixture
def platform(mock_platform):
    return mock_platform(OwnsiteChannel, SETTINGS)


@pytest.fixture
def mock(platform):
    return platform.router


@pytest.fixture
def adapter(platform):
    return platform.adapter


@pytest.fixture
def make(mock_platform):
    """Another adapter on the mocked shop, with ``SETTINGS`` changed."""
    return lambda **settings: mock_platform(OwnsiteChannel, {**SETTINGS, **settings}).adapter


def woo_error(status, code, message):
    return httpx.Response(status, json={"code": code, "message": message, "data": {"status": status}})


def stock(ext, item, qty, expected=None):
    return StockUpdate(sku_code=f"S-{ext}", external_id=ext, item_id=item, quantity=qty, delta=0,
                       expected=expected, key="k")


# --- requests ---------------------------------------------------------------------

def test_https_sends_basic_auth_and_no_oauth(mock, adapter):
    route = mock.get(f"{API}/products").mock(return_value=httpx.Response(200, json=[]))
    adapter.list_listings(None)
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"ck_live:cs_very-secret").decode()
    assert not any(k.startswith("oauth_") for k in request.url.params)
    assert dict(request.url.params) == {"page": "1", "per_page": "100", "orderby": "id", "order": "asc",
                                        "status": "any"}


def test_http_signs_the_query_with_oauth(mock, make):
    adapter = make(base_url="http://shop.example.com")
    route = mock.get("http://shop.example.com/wp-json/wc/v3/products").mock(return_value=httpx.Response(200, json=[]))
    adapter.list_listings(PAGE_3)
    request = route.calls.last.request
    params = dict(request.url.params)
    assert "Authorization" not in request.headers
    assert params["page"] == "3" and params["oauth_consumer_key"] == "ck_live"
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    given = params.pop("oauth_signature")
    assert given == signature("GET", "http://shop.example.com/wp-json/wc/v3/products", params.items(),
                              "cs_very-secret")


# --- success envelopes ----------------------------------------------------------------

def test_products_and_variations_become_listings(mock, adapter):
    mock.get(f"{API}/products").mock(return_value=httpx.Response(200, headers={
        "X-WP-Total": "250", "X-WP-TotalPages": "3"}, json=[
        {"id": 11, "type": "simple", "sku": "TEE-S", "name": "T恤", "status": "publish", "regular_price": "12.90",
         "manage_stock": True, "stock_quantity": 7},
        {"id": 12, "type": "simple", "sku": "", "name": "no code", "status": "draft", "regular_price": "",
         "manage_stock": False, "stock_quantity": None},
        {"id": 20, "type": "variable", "sku": "", "name": "Mug", "status": "publish"},
        {"id": 30, "type": "grouped", "sku": "G", "name": "set", "status": "publish"},
    ]))
    mock.get(f"{API}/products/20/variations").mock(return_value=httpx.Response(200, headers={
        "X-WP-TotalPages": "1"}, json=[
        {"id": 21, "sku": "MUG-R", "status": "publish", "regular_price": "9.9", "manage_stock": True,
         "stock_quantity": 2},
        {"id": 22, "sku": "MUG-B", "status": "private", "regular_price": "10", "manage_stock": True,
         "stock_quantity": 0}]))
    page = adapter.list_listings(None)
    assert decode(page.next_token, OwnsiteChannel.listing_pages, 100).page == 2
    assert [(x.external_id, x.item_id, x.sku_code, x.quantity, x.price, x.on_shelf) for x in resolved(page)] == [
        ("11", "11", "TEE-S", 7, 1290, True),
        ("12", "12", None, None, None, False),
        ("21", "20", "MUG-R", 2, 990, True),
        ("22", "20", "MUG-B", 0, 1000, False),
    ]


def test_last_listing_page_has_no_next_token(mock, adapter):
    mock.get(f"{API}/products").mock(return_value=httpx.Response(200, headers={"X-WP-TotalPages": "3"}, json=[
        {"id": 11, "type": "simple", "sku": "A", "status": "publish", "regular_price": "1.00"}]))
    assert adapter.list_listings(PAGE_3).next_token is None


def test_orders_are_parsed_with_gmt_dates_lines_and_statuses(mock, adapter):
    route = mock.get(f"{API}/orders").mock(return_value=httpx.Response(200, headers={"X-WP-TotalPages": "1"}, json=[
        {"id": 501, "status": "processing", "date_created_gmt": "2024-05-01T08:00:00",
         "date_modified_gmt": "2024-05-01T08:05:00", "date_paid_gmt": "2024-05-01T08:01:00", "total": "39.80",
         "line_items": [{"product_id": 20, "variation_id": 21, "sku": "MUG-R", "quantity": 2, "subtotal": "19.80",
                         "price": 9.9},
                        {"product_id": 11, "variation_id": 0, "sku": "TEE-S", "quantity": 1, "subtotal": "20.00",
                         "price": 20}]},
        {"id": 502, "status": "on-hold", "date_created_gmt": "2024-05-01T08:00:00",
         "date_modified_gmt": "2024-05-01T08:06:00", "total": "1.00", "line_items": []},
        {"id": 503, "status": "completed", "date_created_gmt": "2024-05-01T08:00:00",
         "date_modified_gmt": "2024-05-01T08:07:00", "date_completed_gmt": "2024-05-01T08:07:00", "total": "1.00",
         "line_items": []},
        {"id": 504, "status": "refunded", "date_created_gmt": "2024-05-01T08:00:00",
         "date_modified_gmt": "2024-05-01T08:08:00", "date_completed_gmt": None, "total": "1.00", "line_items": []},
        {"id": 505, "status": "failed", "date_created_gmt": "2024-05-01T08:00:00",
         "date_modified_gmt": "2024-05-01T08:09:00", "total": "1.00", "line_items": []},
    ]))
    since = datetime(2024, 5, 1, 8, 0, 0, 500000, tzinfo=timezone.utc)
    until = datetime(2024, 5, 1, 9, 0, 0, tzinfo=timezone.utc)
    page = adapter.fetch_orders(since, until, None)
    params = dict(route.calls.last.request.url.params)
    assert params["modified_after"] == "2024-05-01T07:59:59" and params["modified_before"] == "2024-05-01T09:00:01"
    assert params["dates_are_gmt"] == "true" and params["orderby"] == "modified" and params["order"] == "asc"
    assert page.next_token is None
    first = page.items[0]
    assert first.external_id == "501" and first.status == OrderStatus.PAID and first.total == 3980
    assert first.created_at == datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    assert [(ln.sku_code, ln.quantity, ln.external_sku_id, ln.price) for ln in first.lines] == [
        ("MUG-R", 2, "21", 990), ("TEE-S", 1, "11", 2000)]
    assert [(o.status, o.shipped) for o in page.items[1:]] == [
        (OrderStatus.NEW, False), (OrderStatus.SHIPPED, True), (OrderStatus.REFUNDED, False),
        (OrderStatus.CANCELLED, False)]


def test_batch_answer_maps_each_item(mock, adapter):
    route = mock.post(f"{API}/products/batch").mock(return_value=httpx.Response(200, json={"update": [
        {"id": 11, "stock_quantity": 5},
        {"id": 12, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                             "data": {"status": 400}}}]}))
    results = adapter.set_stock([stock("11", "11", 5), stock("12", "12", 3)])
    assert sent_request(route).json == {"update": [
        {"id": 11, "manage_stock": True, "stock_quantity": 5}, {"id": 12, "manage_stock": True, "stock_quantity": 3}]}
    assert results[0].ok and isinstance(results[1].error, NotFound)
    assert results[1].error.code == "woocommerce_rest_product_invalid_id"


def test_prices_grouped_by_parent_as_yuan_strings(mock, adapter):
    simple = mock.post(f"{API}/products/batch").mock(return_value=httpx.Response(200, json={"update": [{"id": 11}]}))
    variations = mock.post(f"{API}/products/20/variations/batch").mock(
        return_value=httpx.Response(200, json={"update": [{"id": 21}, {"id": 22}]}))
    results = adapter.set_prices([PriceUpdate("A", "21", "20", 1290), PriceUpdate("B", "11", "11", 5),
                                  PriceUpdate("C", "22", "20", 100000)])
    assert all(r.ok for r in results) and [r.external_id for r in results] == ["21", "11", "22"]
    assert sent_request(simple).json == {"update": [{"id": 11, "regular_price": "0.05"}]}
    assert sent_request(variations).json == {"update": [
        {"id": 21, "regular_price": "12.90"}, {"id": 22, "regular_price": "1000.00"}]}


# --- the error table: one test per class ------------------------------------------------

def test_proxy_429_is_rate_limited_with_its_wait(mock, adapter):
    mock.get(f"{API}/products").mock(return_value=httpx.Response(429, headers={"Retry-After": "7"},
                                                                 text="<html>slow down</html>"))
    with pytest.raises(RateLimited) as info:
        adapter.list_listings(None)
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize("response", [httpx.Response(503, text="<html>busy</html>"),
                                      httpx.Response(200, text='[{"id": 1,')])
def test_5xx_and_truncated_bodies_are_transient(mock, adapter, response):
    mock.get(f"{API}/products").mock(return_value=response)
    with pytest.raises(Transient):
        adapter.list_listings(None)


@pytest.mark.parametrize("message", ["Invalid timestamp.", "Invalid nonce - nonce has already been used."])
def test_refused_timestamp_or_nonce_is_auth_expired(mock, adapter, message):
    mock.get(f"{API}/products").mock(return_value=woo_error(401, "woocommerce_rest_authentication_error", message))
    with pytest.raises(AuthExpired) as info:
        adapter.list_listings(None)
    assert info.value.code == "woocommerce_rest_authentication_error" and info.value.message == message


def test_unknown_product_is_not_found(mock, adapter):
    mock.put(f"{API}/products/99").mock(return_value=woo_error(404, "woocommerce_rest_product_invalid_id",
                                                               "Invalid ID."))
    with pytest.raises(NotFound) as info:
        adapter.set_shelf(_content("99", "99"), False)
    assert info.value.code == "woocommerce_rest_product_invalid_id"


@pytest.mark.parametrize("status,code,message", [
    (401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."),
    (401, "woocommerce_rest_authentication_error", "The API key provided does not have write permissions."),
    (400, "rest_invalid_param", "Invalid parameter(s): per_page"),
    (403, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
])
def test_permanent_errors_are_rejected_with_code_and_message(mock, adapter, status, code, message):
    mock.get(f"{API}/products").mock(return_value=woo_error(status, code, message))
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert (info.value.code, info.value.message) == (code, message)
    assert "cs_very-secret" not in str(info.value)


def test_batch_too_large_is_rejected_for_every_item(mock, adapter):
    mock.post(f"{API}/products/batch").mock(return_value=woo_error(
        413, "woocommerce_rest_request_entity_too_large", "Unable to accept more than 100 items for this request."))
    results = adapter.set_stock([stock("11", "11", 1), stock("12", "12", 1)])
    assert all(isinstance(r.error, Rejected) and r.error.code == "woocommerce_rest_request_entity_too_large"
               for r in results)


def test_html_error_page_keeps_the_http_status_as_code(mock, adapter):
    mock.get(f"{API}/products").mock(return_value=httpx.Response(403, text="<html>Forbidden by WAF</html>"))
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == "http_403"


def test_auth_expired_in_a_batch_is_raised_for_the_core_to_refresh(mock, adapter):
    mock.post(f"{API}/products/batch").mock(return_value=woo_error(
        401, "woocommerce_rest_authentication_error", "Invalid timestamp."))
    with pytest.raises(AuthExpired):
        adapter.set_stock([stock("11", "11", 1)])


def _content(ext, item):
    from channelsync.sdk.models import ListingContent

    return ListingContent(sku_code="X", product_code="P", title="t", description="", on_shelf=False,
                          external_id=ext, item_id=item)


@pytest.mark.parametrize("body", [{"code": "not a list"}, [{"id": 1, "type": "simple", "regular_price": "abc"}],
                                  ["not an object"]])
def test_a_body_that_does_not_translate_is_an_unexpected_payload_through_the_core(mock, adapter, body):
    from channelsync.sdk import UnexpectedPayload
    from channelsync.testing.pytest_plugin import core_call

    mock.get(f"{API}/products").respond(200, json=body)
    with pytest.raises(UnexpectedPayload) as info:
        core_call(lambda: resolved(adapter.list_listings(None)))
    assert str(info.value).startswith("[payload] unexpected payload (") and info.value.retryable
