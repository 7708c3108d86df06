"""Limits and behaviours the JD simulator enforces, seen through the real client."""

from datetime import datetime, timedelta, timezone

import pytest
from channelsync_jd import api
from channelsync_jd.channel import JdChannel
from channelsync_jd.sim import ACCESS_TOKEN, JdSimulator

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected
from channelsync.sdk.models import OrderStatus
from channelsync.sdk.times import BEIJING, format_time
from channelsync.sdk.paging import At, decode
from channelsync.testing.conformance import connect
from channelsync.testing.pytest_plugin import every_item


@pytest.fixture
def env():
    with connect(JdChannel, "wsgi", JdSimulator()) as env:
        yield env


def execute(env, method, params):
    return env.adapter.client.execute(method, params)


def order_window(start, end, **extra):
    return {"start_date": format_time(start, BEIJING), "end_date": format_time(end, BEIJING),
            "page": "1", "page_size": "100", "order_state": ",".join(api.ORDER_STATES), "dateType": "0", **extra}


def test_sandbox_credentials_are_the_documented_ones():
    creds = JdSimulator().credentials("http://127.0.0.1:8102")
    assert creds == {"base_url": "http://127.0.0.1:8102", "app_key": "sandbox-jd-key",
                     "app_secret": "sandbox-jd-secret", "access_token": "sandbox-jd-token",
                     "refresh_token": "sandbox-jd-refresh", "oauth_url": "http://127.0.0.1:8102"}


# --- page sizes ------------------------------------------------------------------------

def test_sku_page_size_above_50_is_refused(env):
    assert execute(env, api.SKU_SEARCH, {"pageNo": 1, "page_size": 50})["page"]["pageSize"] == 50
    with pytest.raises(Rejected) as info:
        execute(env, api.SKU_SEARCH, {"pageNo": 1, "page_size": 51})
    assert info.value.code == "PARAM_ERROR"


def test_order_page_size_above_100_is_refused(env):
    now = env.sim.now()
    with pytest.raises(Rejected) as info:
        execute(env, api.ORDER_SEARCH, order_window(now - timedelta(hours=1), now, page_size="101"))
    assert info.value.code == "PARAM_ERROR" and "page_size" in info.value.message


def test_refund_page_size_above_50_is_refused(env):
    with pytest.raises(Rejected):
        execute(env, api.REFUND_QUERY, {"pageIndex": 1, "pageSize": 51})


# --- batch: one SKU a stock call ------------------------------------------------------------

def test_stock_update_takes_one_sku_a_call(env):
    a, b = env.sim.seed("B-1", 1, 100), env.sim.seed("B-2", 1, 100)
    with pytest.raises(Rejected) as info:
        execute(env, api.STOCK_UPDATE, {"skuId": [int(a.external_id), int(b.external_id)], "stockNum": 5})
    assert "one skuId" in info.value.message
    assert env.sim.stock("B-1") == 1 and env.sim.stock("B-2") == 1


def test_negative_stock_is_refused(env):
    sku = env.sim.seed("NEG", 1, 100)
    with pytest.raises(Rejected):
        execute(env, api.STOCK_UPDATE, {"skuId": int(sku.external_id), "stockNum": -1})


def test_price_with_three_decimals_is_refused(env):
    sku = env.sim.seed("PRICE", 1, 100)
    with pytest.raises(Rejected):
        execute(env, api.PRICE_UPDATE, {"skuId": int(sku.external_id), "jdPrice": "1.234"})
    assert env.sim.find("PRICE").price == 100


# --- order windows -----------------------------------------------------------------------

def test_order_window_longer_than_a_month_is_refused(env):
    now = env.sim.now()
    execute(env, api.ORDER_SEARCH, order_window(now - timedelta(days=30), now))
    with pytest.raises(Rejected) as info:
        execute(env, api.ORDER_SEARCH, order_window(now - timedelta(days=32), now))
    assert "month" in info.value.message


def test_order_window_ending_before_it_starts_is_refused(env):
    now = env.sim.now()
    with pytest.raises(Rejected):
        execute(env, api.ORDER_SEARCH, order_window(now, now - timedelta(hours=1)))


def test_date_type_chooses_created_or_modified_time(clock):
    clock.now = datetime(2024, 11, 11, 0, 0, tzinfo=timezone.utc)
    sim = JdSimulator(clock=clock)
    sim.seed("DT", 10, 100)
    order = sim.place_order([("DT", 1)])
    clock.now += timedelta(hours=3)
    sim.cancel(order.order_id)  # modified three hours after it was created
    with connect(JdChannel, "wsgi", sim) as env:
        early = (clock.now - timedelta(hours=4), clock.now - timedelta(hours=2))
        by_modified = execute(env, api.ORDER_SEARCH, order_window(*early, dateType=api.DATE_TYPE_MODIFIED))
        by_created = execute(env, api.ORDER_SEARCH, order_window(*early, dateType=api.DATE_TYPE_CREATED))
        with pytest.raises(Rejected):
            execute(env, api.ORDER_SEARCH, order_window(*early, dateType="9"))
    assert by_modified["searchorderinfo_result"]["orderTotal"] == 0
    assert by_created["searchorderinfo_result"]["orderInfoList"][0]["orderId"] == order.order_id


def test_window_edges_are_inclusive_to_the_second(clock):
    clock.now = datetime(2024, 11, 11, 0, 0, 0, 400_000, tzinfo=timezone.utc)
    sim = JdSimulator(clock=clock)
    sim.seed("EDGE", 10, 100)
    order = sim.place_order([("EDGE", 1)])
    with connect(JdChannel, "wsgi", sim) as env:
        # the order's modified time is inside [since, until) though both ends carry fractions
        at = clock.now
        page = env.adapter.fetch_orders(at - timedelta(milliseconds=100), at + timedelta(milliseconds=1), None)
    assert [o.external_id for o in page.items] == [order.order_id]


# --- orders, shipment, refunds -------------------------------------------------------------

def test_unpaid_orders_are_not_listed(env):
    env.sim.seed("UNPAID", 5, 100)
    order = env.sim.place_order([("UNPAID", 1)], pay=False)
    now = env.sim.now()
    assert order.order_id not in {o.external_id for o in env.adapter.fetch_orders(
        now - timedelta(hours=1), now + timedelta(minutes=1), None).items}


def test_shipping_an_order_twice_is_refused(env):
    env.sim.seed("SHIP", 5, 100)
    order = env.sim.place_order([("SHIP", 1)])
    env.adapter.ship(order.order_id, env.caps.carrier("SF"), "SF1")
    assert env.sim.orders[order.order_id].carrier == "467"
    with pytest.raises(Rejected) as info:
        env.adapter.ship(order.order_id, env.caps.carrier("SF"), "SF2")
    assert info.value.code == "ORDER_STATE_ERROR"
    assert env.sim.orders[order.order_id].tracking_no == "SF1"


def test_shipping_an_unknown_order_is_not_found(env):
    with pytest.raises(NotFound):
        env.adapter.ship("424242", env.caps.carrier("SF"), "SF1")


def test_refund_after_shipment_comes_from_the_refund_list(env):
    env.sim.seed("RET", 5, 100)
    order = env.sim.place_order([("RET", 2)])
    env.sim.ship(order.order_id, "467", "SF9")
    env.sim.refund(order.order_id)
    now = env.sim.now()
    window = (now - timedelta(hours=1), now + timedelta(minutes=1))
    [listed] = [o for o in env.adapter.fetch_orders(*window, None).items if o.external_id == order.order_id]
    assert listed.status == OrderStatus.SHIPPED  # JD keeps the order's state; the refund is after-sales
    # the refund application and the after-sales service both name it: the core keeps the later read
    read = every_item(lambda token: env.adapter.fetch_refunds(*window, token))
    [refunded] = {o.external_id: o for o in read}.values()
    assert refunded.external_id == order.order_id and refunded.status == OrderStatus.REFUNDED
    assert [(ln.sku_code, ln.quantity) for ln in refunded.lines] == [("RET", 2)]
    assert env.sim.stock("RET") == 3  # returned after shipment: not back on sale by itself


def test_refunds_page_at_50(env):
    env.sim.seed("MANY", 1000, 100)
    for _ in range(52):
        env.sim.refund(env.sim.place_order([("MANY", 1)]).order_id)
    now = env.sim.now()
    first = env.adapter.fetch_refunds(now - timedelta(hours=1), now + timedelta(minutes=1), None)
    second = env.adapter.fetch_refunds(now - timedelta(hours=1), now + timedelta(minutes=1), first.next_token)
    assert (len(first.items), len(second.items)) == (50, 2)
    assert [call for call in env.sim.calls if "refundapply" in call] == [api.REFUND_QUERY] * 2
    services = env.adapter.fetch_refunds(now - timedelta(hours=1), now + timedelta(minutes=1), second.next_token)
    assert len(services.items) == 50 and services.next_token  # 52 services, one per refunded line: 2 pages
    assert decode(services.next_token, JdChannel.refund_pages, 50) == At(size=50, page=2, phase="services")


# --- wares: shelf and title act on every SKU of the ware -------------------------------------

def test_shelf_and_title_apply_to_the_whole_ware(env):
    a = env.sim.seed("W-A", 1, 100, title="old")
    env.sim.seed("W-B", 1, 100, title="old", item_id=a.item_id)
    content = env.content(a)
    env.adapter.set_shelf(content, False)
    env.adapter.update_listing(env.content(a, title="新"))
    assert [(s.on_shelf, s.title) for s in env.sim.items()[a.item_id]] == [(False, "新"), (False, "新")]
    assert {ls.sku_code: ls.on_shelf for ls in env.listings()} == {"W-A": False, "W-B": False}


def test_unknown_ware_is_not_found(env):
    ghost = env.content(env.sim.seed("W-X", 1, 100), item_id="777")
    with pytest.raises(NotFound):
        env.adapter.set_shelf(ghost, True)


# --- rate limit and tokens -----------------------------------------------------------------------

def test_rate_limit_answers_jd_code_2():
    with connect(JdChannel, "wsgi", JdSimulator(rate_limit=0.001, burst=1)) as env:
        env.adapter.list_listings(None)
        with pytest.raises(RateLimited) as info:
            env.adapter.list_listings(None)
    assert info.value.code == "2" and info.value.retry_after


def test_refresh_issues_a_new_token_and_the_expired_one_stays_dead(env):
    env.sim.expire_tokens()
    env.adapter.refresh_auth()
    assert env.adapter.auth.token() != ACCESS_TOKEN
    env.adapter.list_listings(None)
    assert env.adapter.token_expires_at() > datetime.now(timezone.utc)
    with connect(JdChannel, "wsgi", env.sim) as stale:
        with pytest.raises(AuthExpired) as info:
            stale.adapter.list_listings(None)
    assert info.value.code == "19"


def test_calls_are_recorded_by_method_name(env):
    sku = env.sim.seed("REC", 1, 100)
    env.adapter.set_stock([env.stock_update(sku, 4)])
    assert env.sim.calls == [api.STOCK_UPDATE]
