"""The adapter against canned TinyShop answers (respx, through the ``mock_platform`` fixture)."""

import pytest

from channelsync import Reply
from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.testing.pytest_plugin import sent_request
from channelsync_tinyshop.channel import TinyShopChannel

SETTINGS = {"base_url": "https://api.tinyshop.example", "api_key": "key-1"}


@pytest.fixture
def platform(mock_platform):
    platform = mock_platform(TinyShopChannel, SETTINGS)
    platform.router.post("/token").respond(json={"token": "t-1"})
    return platform


def test_a_token_is_fetched_once_and_sent_as_a_bearer(platform):
    router, adapter = platform
    skus = router.get("/skus").respond(json={"skus": [], "next_page": None})
    adapter.list_listings(None)
    adapter.list_listings(None)
    token = router.routes[0]
    assert token.call_count == 1 and sent_request(token).json == {"api_key": "key-1"}
    assert skus.call_count == 2 and sent_request(skus).request.headers["Authorization"] == "Bearer t-1"


def test_a_listing_page_and_its_next_token(platform):
    router, adapter = platform
    skus = router.get("/skus").respond(json={"next_page": 2, "skus": [
        {"id": 7, "item_id": 3, "code": "A-1", "stock": 5, "price": 1290, "active": True, "title": "Mug"},
        {"id": 8, "item_id": 3, "code": "", "stock": 0, "price": 990, "active": False, "title": "Mug"}]})
    page = adapter.list_listings(None)
    assert [(ls.external_id, ls.sku_code, ls.item_id, ls.quantity, ls.price, ls.on_shelf) for ls in page.items] == [
        ("7", "A-1", "3", 5, 1290, True), ("8", None, "3", 0, 990, False)]
    assert page.next_token is not None  # the kit's token for page 2; the core keeps it opaque
    assert adapter.listing_pages.next(adapter.listing_pages.first(50), Reply(page.items, has_more=True)).page == 2
    assert sent_request(skus).query == {"page": "1", "per_page": "50"}


@pytest.mark.parametrize("status,error", [(401, AuthExpired), (404, NotFound), (400, Rejected),
                                          (429, RateLimited), (503, Transient)])
def test_http_errors_become_typed_errors_with_the_status_as_code(platform, status, error):
    router, adapter = platform
    router.get("/skus").respond(status, json={"error": "no"})
    with pytest.raises(error) as info:
        adapter.list_listings(None)
    assert info.value.code == str(status)
