"""The simulators' control API for after-sales: refund one line, return or exchange shipped
units, ship a parcel of some lines; mistakes answer 400 and change nothing."""

import httpx
import pytest

from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox


@pytest.fixture(params=tuple(sandbox.DEFAULT_PORTS))
def control(request):
    sim = channel_types(make_manager())[request.param].simulator()
    sim.seed("A", 10, 1000)
    sim.seed("B", 10, 500)
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim.invalid") as client:
        yield sim, client


def test_refund_a_line_then_ship_a_parcel_then_return(control):
    sim, client = control
    placed = client.post("/_sim/orders", json={"lines": [{"sku_code": "A", "quantity": 3},
                                                         {"sku_code": "B", "quantity": 1}]}).json()
    oid = placed["order_id"]
    assert client.post(f"/_sim/orders/{oid}/refund_line", json={"sku": "B", "quantity": 1}).status_code == 200
    assert sim.stock("B") == 10  # back on sale: it had not shipped
    r = client.post(f"/_sim/orders/{oid}/ship", json={"carrier": "SF", "tracking_no": "SF1", "lines": {"A": 2}})
    assert r.status_code == 200 and r.json()["status"] == "paid"  # one A still to ship
    r = client.post(f"/_sim/orders/{oid}/return_line", json={"sku": "A", "quantity": 1, "exchange": True})
    assert r.status_code == 200
    order = sim.orders[oid]
    assert [(ln.sku_code, ln.shipped, ln.released, ln.refunded, ln.returned) for ln in order.lines] == [
        ("A", 2, 0, 0, 1), ("B", 0, 1, 1, 0)]
    assert [(a.kind, a.quantity) for a in order.aftersales] == [("refund", 1), ("exchange", 1)]
    assert sim.stock("A") == 7  # shipped and exchanged units never go back on sale by themselves


@pytest.mark.parametrize("path, body", [
    ("refund_line", {"sku": "A", "quantity": 4}),
    ("refund_line", {"sku": "Z", "quantity": 1}),
    ("return_line", {"sku": "A", "quantity": 1}),  # nothing shipped yet
    ("ship", {"lines": {"A": 5}}),
])
def test_impossible_after_sales_are_refused(control, path, body):
    sim, client = control
    oid = client.post("/_sim/orders", json={"lines": [{"sku_code": "A", "quantity": 3}]}).json()["order_id"]
    before = (sim.stock("A"), [(ln.shipped, ln.refunded, ln.returned) for ln in sim.orders[oid].lines])
    assert client.post(f"/_sim/orders/{oid}/{path}", json=body).status_code in (400, 404)
    assert (sim.stock("A"), [(ln.shipped, ln.refunded, ln.returned) for ln in sim.orders[oid].lines]) == before
