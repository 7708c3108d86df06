"""What the TinyShop simulator enforces, through the adapter and over real HTTP."""

from datetime import timedelta

import httpx
import pytest

from channelsync.sdk.errors import Rejected
from channelsync.sdk.models import OrderStatus
from channelsync_tinyshop.channel import TinyShopChannel
from channelsync_tinyshop.sim import API_KEY


def test_pages_hold_at_most_50(connect_simulator):
    _, adapter = connect_simulator(TinyShopChannel)
    assert adapter.request("GET", "/skus", params={"per_page": 50})["skus"] == []
    with pytest.raises(Rejected) as info:
        adapter.request("GET", "/skus", params={"per_page": 51})
    assert info.value.code == "400"


def test_orders_are_found_by_their_update_time(clock, connect_simulator):
    sim, adapter = connect_simulator(TinyShopChannel, clock=clock)
    sim.seed("A-1", 5, 990)
    order = sim.place_order([("A-1", 2)])
    clock.now += timedelta(hours=1)
    sim.cancel(order.order_id)  # updated an hour after it was placed
    placed = clock.now - timedelta(hours=1)
    assert adapter.fetch_orders(placed - timedelta(minutes=1), placed + timedelta(minutes=1), None).items == []
    [seen] = adapter.fetch_orders(clock.now - timedelta(minutes=1), clock.now + timedelta(minutes=1), None).items
    assert (seen.external_id, seen.status, seen.lines[0].quantity) == (order.order_id, OrderStatus.CANCELLED, 2)


def test_the_api_over_real_http_as_the_sandbox_serves_it(served_simulator):
    sim, base_url = served_simulator(TinyShopChannel)
    sim.seed("A-1", 5, 990)
    with httpx.Client(base_url=base_url) as http:
        assert http.post("/token", json={"api_key": "wrong"}).status_code == 403
        token = http.post("/token", json={"api_key": API_KEY}).json()["token"]
        assert http.get("/skus").status_code == 401
        skus = http.get("/skus", headers={"Authorization": f"Bearer {token}"}).json()["skus"]
    assert [(s["code"], s["stock"], s["price"]) for s in skus] == [("A-1", 5, 990)]
