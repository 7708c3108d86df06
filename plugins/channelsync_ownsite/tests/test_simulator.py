"""The WooCommerce simulator's limits and the adapter behaviour they exercise."""

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from channelsync.sdk.errors import NotFound, Rejected
from channelsync.sdk.models import ListingContent, OrderStatus, StockUpdate
from channelsync.testing.pytest_plugin import every_item
from channelsync_ownsite.channel import OwnsiteChannel
from channelsync_ownsite.sim import SANDBOX_KEY, SANDBOX_SECRET, OwnsiteSimulator

SHOP = "https://sim.invalid"  # https: Basic auth, so raw calls below need no signature
API = f"{SHOP}/wp-json/wc/v3"
AUTH = (SANDBOX_KEY, SANDBOX_SECRET)


@pytest.fixture
def sim():
    return OwnsiteSimulator()


@pytest.fixture
def raw(sim):
    with httpx.Client(transport=httpx.WSGITransport(app=sim), auth=AUTH) as client:
        yield client


@pytest.fixture
def adapter(connect_simulator, sim):
    return connect_simulator(OwnsiteChannel, sim, settings={"base_url": SHOP}).adapter


def update(sku, target, expected=None):
    return StockUpdate(sku.sku_code, sku.external_id, sku.item_id, target, target - (expected or 0), expected, "k")


# --- limits -------------------------------------------------------------------------

def test_per_page_above_100_is_invalid(raw):
    response = raw.get(f"{API}/products", params={"per_page": 101})
    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"
    assert raw.get(f"{API}/orders", params={"per_page": 101}).json()["code"] == "rest_invalid_param"
    assert raw.get(f"{API}/products", params={"per_page": 100}).status_code == 200


def test_paging_headers(sim, raw):
    for i in range(5):
        sim.seed(f"H-{i}", 1, 100)
    response = raw.get(f"{API}/products", params={"per_page": 2, "page": 3})
    assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("5", "3")
    assert len(response.json()) == 1


@pytest.mark.parametrize("path", ["products/batch", "products/{item}/variations/batch"])
def test_batch_above_100_items_is_413(sim, raw, path):
    sku = sim.seed("B-0", 1, 100)
    sim.seed("B-1", 1, 100, item_id=sku.item_id)
    body = {"update": [{"id": int(sku.external_id), "stock_quantity": 1}] * 60,
            "delete": [int(sku.item_id)] * 41}
    response = raw.post(f"{API}/{path.format(item=sku.item_id)}", json=body)
    assert response.status_code == 413
    assert response.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert sim.stock("B-0") == 1, "a refused batch changes nothing"


def test_batch_of_100_is_accepted_and_invalid_items_answer_inside(sim, raw):
    skus = [sim.seed(f"C-{i}", 1, 100) for i in range(99)]
    body = {"update": [{"id": int(s.external_id), "stock_quantity": 9} for s in skus] + [{"id": 42, "stock_quantity": 1}]}
    answer = raw.post(f"{API}/products/batch", json=body).json()["update"]
    assert all(sim.stock(s.sku_code) == 9 for s in skus)
    assert answer[-1] == {"id": 42, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                                              "data": {"status": 400}}}


def test_schema_errors_refuse_the_item(sim, raw):
    sku = sim.seed("V-1", 4, 100)
    answer = raw.post(f"{API}/products/batch", json={"update": [
        {"id": int(sku.external_id), "regular_price": 12.9, "stock_quantity": 1}]}).json()["update"][0]
    assert answer["error"]["code"] == "rest_invalid_param"
    assert (sim.stock("V-1"), sim.find("V-1").price) == (4, 100)


# --- order windows ---------------------------------------------------------------------

@pytest.fixture
def clocked_sim(clock):
    """A shop on a clock that stands at 2024-05-01 08:00 UTC until the test moves it."""
    clock.now = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)
    return OwnsiteSimulator(clock=clock)


def ids(response):
    return [o["id"] for o in response.json()]


def test_window_bounds_are_exclusive_whole_seconds_and_gmt_is_honoured(clocked_sim):
    sim = clocked_sim
    sim.seed("W", 100, 100)
    order = sim.place_order([("W", 1)])
    with httpx.Client(transport=httpx.WSGITransport(app=sim), auth=AUTH) as raw:
        def query(**params):
            return ids(raw.get(f"{API}/orders", params={"dates_are_gmt": "true", **params}))

        assert query(modified_after="2024-05-01T07:59:59", modified_before="2024-05-01T08:00:01") == [int(order.order_id)]
        assert query(modified_after="2024-05-01T08:00:00") == []
        assert query(modified_before="2024-05-01T08:00:00") == []
        # without dates_are_gmt a bare date is the site's local time (UTC+8)
        local = ids(raw.get(f"{API}/orders", params={"modified_after": "2024-05-01T15:59:59"}))
        assert local == [int(order.order_id)]
        bad = raw.get(f"{API}/orders", params={"modified_after": "yesterday"})
        assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


def test_adapter_finds_orders_modified_inside_a_window_with_fractions(clocked_sim, clock, connect_simulator):
    sim = clocked_sim
    sim.seed("W", 100, 100)
    clock.now = datetime(2024, 5, 1, 8, 0, 0, 700000, tzinfo=timezone.utc)
    placed = sim.place_order([("W", 1)])
    _, adapter = connect_simulator(OwnsiteChannel, sim, settings={"base_url": SHOP})
    since = datetime(2024, 5, 1, 8, 0, 0, 600000, tzinfo=timezone.utc)
    found = list(every_item(lambda tok: adapter.fetch_orders(since, since + timedelta(milliseconds=200), tok)))
    assert [o.external_id for o in found] == [placed.order_id]


def test_order_paging_does_not_skip_when_an_order_changes_between_pages(clocked_sim, clock, connect_simulator):
    sim = clocked_sim
    sim.seed("P", 10_000, 100)
    placed = []
    for i in range(230):
        clock.now = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc) + timedelta(seconds=i // 3)
        placed.append(sim.place_order([("P", 1)]).order_id)
    clock.now = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
    _, adapter = connect_simulator(OwnsiteChannel, sim, settings={"base_url": SHOP})
    since, until = datetime(2024, 5, 1, 7, 0, tzinfo=timezone.utc), datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    first = adapter.fetch_orders(since, until, None)
    sim.cancel(first.items[0].external_id)  # moves to the end of the modified order
    seen = {o.external_id for o in first.items}
    for order in every_item(lambda tok: adapter.fetch_orders(since, until, tok) if tok else first):
        seen.add(order.external_id)
    assert set(placed) <= seen


def test_many_orders_in_one_second_page_by_count(clocked_sim, clock, connect_simulator):
    sim = clocked_sim
    sim.seed("P", 10_000, 100)
    placed = {sim.place_order([("P", 1)]).order_id for _ in range(205)}
    _, adapter = connect_simulator(OwnsiteChannel, sim, settings={"base_url": SHOP})
    found = list(every_item(lambda tok: adapter.fetch_orders(clock.now - timedelta(minutes=1),
                                                             clock.now + timedelta(minutes=1), tok)))
    assert {o.external_id for o in found} == placed


# --- stock --------------------------------------------------------------------------

def test_read_stock_shows_what_the_shop_shows_now(sim, adapter):
    # the guard against erasing unseen sales lives in the core now: the adapter reads and sets
    plain = sim.seed("G-1", 10, 100)
    red = sim.seed("G-R", 4, 100, item_id="6000")
    blue = sim.seed("G-B", 6, 100, item_id="6000")
    sim.place_order([("G-1", 3)])
    sim.set_stock_by_hand("G-B", 30)
    ids = [plain.external_id, red.external_id, blue.external_id, "424242"]
    shown = adapter.read_stock(ids, [plain.item_id, red.item_id, blue.item_id, None])
    assert shown == {plain.external_id: 7, red.external_id: 4, blue.external_id: 30}  # the unknown id left out


def test_set_stock_sends_the_quantity_it_is_given(sim, adapter):
    sku = sim.seed("G-3", 10, 100)
    sim.place_order([("G-3", 3)])
    assert adapter.set_stock([update(sku, 14, expected=10)])[0].ok
    assert sim.stock("G-3") == 14


def test_variations_are_updated_through_their_parent(sim, adapter):
    red = sim.seed("V-R", 1, 100, item_id="5000")
    blue = sim.seed("V-B", 1, 100, item_id="5000")
    lone = sim.seed("V-L", 1, 100)
    results = adapter.set_stock([update(red, 4), update(lone, 5), update(blue, 6)])
    assert [r.external_id for r in results] == [red.external_id, lone.external_id, blue.external_id]
    assert (sim.stock("V-R"), sim.stock("V-L"), sim.stock("V-B")) == (4, 5, 6)
    assert sim.calls.count("POST batch_variations") == 1 and sim.calls.count("POST batch_products") == 1


def test_unknown_variation_is_not_found(adapter):
    ghost = StockUpdate("GHOST", "987654321", "987654320", 5, 5, None, "k")
    result = adapter.set_stock([ghost])[0]
    assert isinstance(result.error, NotFound) and result.error.code == "woocommerce_rest_product_variation_invalid_id"


# --- listings, shelf, publish ---------------------------------------------------------

def test_variation_shelf_is_per_variation_and_needs_a_published_parent(sim, adapter, raw):
    red = sim.seed("S-R", 3, 100, item_id="6000")
    sim.seed("S-B", 3, 100, item_id="6000")
    raw.put(f"{API}/products/6000", json={"status": "draft"})
    content = ListingContent("S-R", "6000", "t", "", True, external_id=red.external_id, item_id="6000")
    adapter.set_shelf(content, False)
    assert sim.find("S-R").on_shelf is False and sim.find("S-B").on_shelf is True
    adapter.set_shelf(content, True)
    shelf = {ls.sku_code: ls.on_shelf for ls in every_item(adapter.list_listings)}
    assert shelf == {"S-R": True, "S-B": True}


def test_publish_creates_a_simple_product_and_refuses_a_duplicate_sku(sim, adapter):
    content = ListingContent("NEW-1", "P-NEW", "新品", "desc", True, price=1290, quantity=4)
    [listing] = adapter.publish(content)
    assert listing.external_id == listing.item_id and (listing.sku_code, listing.price, listing.quantity) == (
        "NEW-1", 1290, 4)
    assert sim.find("NEW-1").title == "新品"
    with pytest.raises(Rejected) as info:
        adapter.publish(content)
    assert info.value.code == "product_invalid_sku"


# --- orders: shipment and status -------------------------------------------------------

def test_ship_writes_a_customer_note_then_completes(sim, adapter, raw):
    sim.seed("O-1", 5, 1990)
    order = sim.place_order([("O-1", 2)])
    adapter.ship(order.order_id, "SF", "SF1234567890")
    adapter.ship(order.order_id, "SF", "SF1234567890")  # a retry changes nothing
    assert (sim.orders[order.order_id].status, sim.orders[order.order_id].carrier) == ("shipped", "SF")
    notes = raw.get(f"{API}/orders/{order.order_id}/notes").json()
    assert notes[0]["customer_note"] is True and "SF1234567890" in notes[0]["note"]
    seen = adapter.fetch_orders(sim.now() - timedelta(minutes=1), sim.now() + timedelta(minutes=1), None).items
    assert (seen[0].status, seen[0].shipped, seen[0].platform_status) == (OrderStatus.SHIPPED, True, "completed")


def test_ship_of_an_unknown_order_is_not_found(adapter):
    with pytest.raises(NotFound) as info:
        adapter.ship("424242", "SF", "1")
    assert info.value.code == "woocommerce_rest_shop_order_invalid_id"


def test_refunds_endpoint_lists_a_refund(sim, raw):
    sim.seed("R-1", 5, 1990)
    order = sim.place_order([("R-1", 1)])
    assert raw.get(f"{API}/orders/{order.order_id}/refunds").json() == []
    sim.refund(order.order_id)
    [refund] = raw.get(f"{API}/orders/{order.order_id}/refunds").json()
    assert refund["amount"] == "19.90"


def test_unknown_route_and_rate_limit_shapes(sim, raw):
    missing = raw.get(f"{SHOP}/wp-json/wc/v3/coupons")
    assert missing.status_code == 404 and missing.json()["code"] == "rest_no_route"
    sim.inject("rate_limit")
    limited = raw.get(f"{API}/products")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
