"""The PDD simulator holds clients to what PDD's gateway and APIs enforce, and behaves as a
PDD mall does: paid orders only, a cancel after payment is a refund, refunds after shipment
leave stock alone, and a refresh token works once."""

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from channelsync_pdd import api
from channelsync_pdd.channel import PddChannel
from channelsync_pdd.router import PopRouter
from channelsync_pdd.sim import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, PddSimulator

from channelsync.sdk.errors import AuthExpired, Rejected, Transient
from channelsync.sdk.models import OrderStatus, StockUpdate
from channelsync.sdk.router import sign
from channelsync.testing.pytest_plugin import every_item


@pytest.fixture
def sim():
    return PddSimulator()


@pytest.fixture
def adapter(sim, connect_simulator):
    return connect_simulator(PddChannel, sim)[1]


@pytest.fixture
def pop(adapter):
    """A bare router client on the simulator, to send what the adapter never would."""
    return PopRouter(adapter.http.request, app_key=CLIENT_ID, secret=CLIENT_SECRET, token=ACCESS_TOKEN)


def raw(sim, **changes):
    """One hand-built gateway call, signed after ``changes`` unless they set ``sign``: the error_response or None."""
    params = {"type": api.GOODS_LIST, "client_id": CLIENT_ID, "access_token": ACCESS_TOKEN, "data_type": "JSON",
              "timestamp": str(int(datetime.now(timezone.utc).timestamp()))}
    params.update({k: v for k, v in changes.items() if k != "sign"})
    params = {k: v for k, v in params.items() if v is not None}
    params["sign"] = changes["sign"] if "sign" in changes else sign(params, CLIENT_SECRET)
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim.invalid") as client:
        body = client.post("/api/router", data={k: v for k, v in params.items() if v is not None}).json()
    return body.get("error_response")


@pytest.mark.parametrize("changes,code", [
    ({"sign": "0" * 32}, "10017"), ({"sign": None}, "10001"), ({"client_id": "someone-else"}, "10016"),
    ({"type": "pdd.no.such.api"}, "10021"), ({"access_token": "stale"}, "10019"), ({"access_token": None}, "10018"),
    ({"timestamp": "yesterday"}, "10020"), ({"timestamp": "1000000000"}, "10020")])
def test_the_gateway_refuses_what_pdd_refuses(sim, changes, code):
    error = raw(sim, **changes)
    assert error and str(error["error_code"]) == code and error["request_id"]


def test_millisecond_timestamps_are_accepted(sim):
    assert raw(sim, timestamp=str(int(datetime.now(timezone.utc).timestamp() * 1000))) is None


def test_business_limits_are_enforced(sim, pop):
    now = int(datetime.now(timezone.utc).timestamp())
    with pytest.raises(Rejected, match="page_size"):
        pop.execute(api.GOODS_LIST, {"page_size": 101})
    with pytest.raises(Rejected, match="30 minutes"):
        pop.execute(api.ORDER_INCREMENT, {"start_updated_at": now - 1801, "end_updated_at": now, "order_status": 5})
    sku = sim.seed("F-1", 3, 990)
    with pytest.raises(Rejected, match="group_price < single_price"):
        pop.execute(api.SKU_PRICE_UPDATE, {"goods_id": sku.item_id, "sku_price_list": [
            {"sku_id": int(sku.external_id), "group_price": 990, "single_price": 990}]})


def test_a_decrease_below_zero_is_refused_as_certainly_not_applied(sim, adapter):
    """A sale the core has not ingested came first: PDD refuses the decrease. The push is
    retried later computed afresh (maybe_applied False), not parked as a permanent refusal."""
    sku = sim.seed("F-1", 3, 990)
    sim.place_order([("F-1", 2)])  # the platform now shows 1; the core still expects 3
    with pytest.raises(Transient) as info:
        adapter.set_stock([StockUpdate("F-1", sku.external_id, sku.item_id, 1, -2, 3, "k")])
    assert (info.value.code, info.value.maybe_applied, sim.stock("F-1")) == ("20005", False, 1)


def test_an_increment_keeps_a_sale_made_meanwhile_and_absolute_mode_sets_the_value(sim, adapter, connect_simulator):
    sku = sim.seed("INC", 10, 990)
    update = StockUpdate("INC", sku.external_id, sku.item_id, 14, 4, 10, "k")
    sim.place_order([("INC", 3)])
    assert adapter.set_stock([update])[0].ok and sim.stock("INC") == 11
    _, absolute = connect_simulator(PddChannel, sim, settings={"stock_updates": "absolute"})
    assert absolute.set_stock([update])[0].ok and sim.stock("INC") == 14


def test_unpaid_orders_are_not_the_sellers_yet_and_a_cancel_after_payment_is_a_refund(sim, adapter):
    sim.seed("O-1", 10, 1990)
    unpaid = sim.place_order([("O-1", 1)], pay=False)
    paid = sim.place_order([("O-1", 2)])
    sim.cancel(paid.order_id)
    now = sim.now()
    window = (now - timedelta(minutes=29), now + timedelta(seconds=1))
    listed = {o.external_id: o for o in every_item(lambda t: adapter.fetch_orders(*window, t))}
    # refunded before shipment: closed with nothing shipped is a cancel (docs/order-statuses.md), money back per line
    assert unpaid.order_id not in listed and listed[paid.order_id].status == OrderStatus.CANCELLED
    assert [ln.refunded for ln in listed[paid.order_id].lines] == [2]
    assert listed[paid.order_id].lines[0].price == 1990 and sim.stock("O-1") == 10


def test_a_refund_after_shipment_comes_from_the_refund_list_and_stock_stays(sim, adapter):
    sim.seed("RET", 5, 100)
    order = sim.place_order([("RET", 2)])
    adapter.ship(order.order_id, adapter.capabilities.carrier("SF"), "SF9")
    assert sim.shipments[order.order_id] == "44" and sim.orders[order.order_id].tracking_no == "SF9"
    sim.refund(order.order_id)
    now = sim.now()
    [refunded] = every_item(lambda t: adapter.fetch_refunds(now - timedelta(minutes=29), now, t))
    assert (refunded.external_id, refunded.status, refunded.shipped) == (order.order_id, OrderStatus.REFUNDED, True)
    assert sim.stock("RET") == 3  # a return after shipment is not back on sale by itself


def test_shipping_twice_is_refused(sim, adapter):
    sim.seed("S-1", 5, 100)
    order = sim.place_order([("S-1", 1)])
    adapter.ship(order.order_id, "44", "1")
    with pytest.raises(Rejected) as info:
        adapter.ship(order.order_id, "44", "2")
    assert info.value.code == "20004"


def test_a_refresh_token_works_once_and_an_expired_token_stays_expired(sim, adapter, pop):
    sim.seed("T-1", 1, 100)
    sim.expire_tokens()
    for _ in range(2):
        with pytest.raises(AuthExpired):
            adapter.list_listings(None)
    adapter.refresh_auth()
    assert adapter.list_listings(None).items and REFRESH_TOKEN not in sim.refresh_tokens
    with pytest.raises(Rejected, match="already used"):
        pop.execute(api.TOKEN_REFRESH, {"refresh_token": REFRESH_TOKEN}, with_token=False)
