"""The after-sales commands against fake channels: ship --line, returns receive/exchange/list,
orders show's lines, parcels and history, stock show by warehouse; exit codes and messages."""

import json

import pytest

from channelsync.sdk.plugins import make_manager
from channelsync.sim import fake
from channelsync.store import Store

CONFIG = """
[store]
path = "cs.db"

[warehouses]
SH = "Shanghai"
GZ = "Guangzhou"

[channels.tb]
plugin = "fake"
warehouses = ["SH", "GZ"]
[channels.tb.settings]
platform = "tb"
token = { env = "FAKE_TOKEN" }

[channels.web]
plugin = "fake"
warehouses = ["SH"]
[channels.web.settings]
platform = "web"
token = { env = "FAKE_TOKEN" }
"""

CATALOG = """product_code,sku_code,price,stock:SH,stock:GZ
TEA,TEA-01,39.90,1,5
TEA,TEA-02,59.90,4,0
"""


@pytest.fixture
def env(tmp_path, monkeypatch, invoke_cli):
    monkeypatch.setenv("FAKE_TOKEN", "fake-token-value-1234")
    for name in ("tb", "web"):
        platform = fake.FakePlatform(name, token="fake-token-value-1234")
        platform.seed("TEA-01", 0, 3990)
        platform.seed("TEA-02", 0, 5990)
    (tmp_path / "channelsync.toml").write_text(CONFIG)
    (tmp_path / "catalog.csv").write_text(CATALOG)
    pm = make_manager(extra=[fake])

    def run(*args, expect=0):
        result = invoke_cli(pm, ["--config", str(tmp_path / "channelsync.toml"), *args])
        assert result.exit_code == expect, (args, result.exit_code, result.output)
        return result

    run("catalog", "import", str(tmp_path / "catalog.csv"))
    run("resync")
    return tmp_path, run


def ledger(path, reference):
    store = Store(path / "cs.db")
    try:
        return [(r["warehouse"], r["delta"], r["reason"]) for r in store.query(
            "SELECT warehouse, delta, reason FROM stock_movements WHERE reference = ? ORDER BY id", (reference,))]
    finally:
        store.close()


def test_stock_show_by_warehouse_and_the_channels_that_sell_from_them(env):
    _, run = env
    order = fake.FakePlatform.named("tb").place_order([("TEA-01", 3)])
    run("resync", "--channel", "tb", "--what", "stock")  # ingests the order first
    shown = json.loads(run("--json", "stock", "show", "TEA-01").stdout)
    assert [(w["warehouse"], w["on_hand"], w["reserved"], w["free"]) for w in shown["warehouses"]] == [
        ("GZ", 5, 2, 3), ("SH", 1, 1, 0)]  # SH first by tb's priority, it had 1; GZ the rest
    assert {c["channel"]: (c["warehouses"], c["available"]) for c in shown["channels"]} == {
        "tb": (["SH", "GZ"], 3), "web": (["SH"], 0)}
    text = run("stock", "show", "TEA-01").output
    assert "SH" in text and "sells from SH+GZ: available 3" in text and "sells from SH: available 0" in text
    assert order.order_id


def test_a_split_shipment_a_return_with_a_damaged_unit_and_the_history(env):
    path, run = env
    order = fake.FakePlatform.named("tb").place_order([("TEA-01", 2), ("TEA-02", 1)])
    ref = f"tb:{order.order_id}"
    run("resync", "--channel", "tb", "--what", "stock")
    out = run("ship", ref, "--carrier", "SF", "--tracking", "SF1", "--line", "TEA-01:2").output
    assert "shipped 2 unit(s)" in out and "now paid" in out and "1 unit(s) left to ship" in out
    run("ship", ref, "--carrier", "ZTO", "--tracking", "Z2")
    assert fake.FakePlatform.named("tb").orders[order.order_id].status == "shipped"
    fake.FakePlatform.named("tb").return_line(order.order_id, "TEA-01", 2)
    run("resync", "--channel", "tb", "--what", "stock")
    assert "TEA-01" in run("returns", "list").output
    out = run("returns", "receive", ref, "--line", "TEA-01:2", "--to", "GZ", "--damaged", "1").output
    assert "received 2 at GZ, 1 back on hand, 1 damaged" in out and "0 still expected back" in out
    assert ledger(path, ref)[-3:] == [("GZ", 1, "return"), ("GZ", 1, "return"), ("GZ", -1, "damaged")]
    shown = run("orders", "show", ref).output
    assert "parcel: SF SF1 (line 1 x2" in shown and "parcel: ZTO Z2 (line 2 x1" in shown
    assert "return 2" in shown and "received 2, 1 damaged at GZ" in shown
    data = json.loads(run("--json", "orders", "show", ref).stdout)
    assert [(ln["sku_code"], ln["shipped"], ln["refunded"], ln["received"], ln["damaged"]) for ln in data["lines"]] == [
        ("TEA-01", 2, 2, 2, 1), ("TEA-02", 1, 0, 0, 0)]
    assert run("returns", "list").output.strip() == "nothing expected back"


def test_an_exchange_from_the_command_line(env):
    path, run = env
    order = fake.FakePlatform.named("tb").place_order([("TEA-02", 1)])
    ref = f"tb:{order.order_id}"
    run("resync", "--channel", "tb", "--what", "stock")
    run("ship", ref, "--carrier", "SF", "--tracking", "SF1")
    out = run("returns", "exchange", ref, "--line", "TEA-02:1", "--for", "TEA-01", "--carrier", "SF",
              "--tracking", "SF9").output
    assert "replacement sent (1 TEA-01 from SH)" in out and "1 expected back" in out
    assert ledger(path, ref)[-1] == ("SH", -1, "shipment")


@pytest.mark.parametrize("args, message", [
    (("returns", "receive", "tb:NOPE", "--line", "TEA-01:1", "--to", "SH"), "no order 'tb:NOPE'"),
    (("returns", "receive", "{ref}", "--line", "TEA-01", "--to", "SH"), "expected SKU:QTY"),
    (("returns", "receive", "{ref}", "--line", "TEA-01:1"), "say where the goods arrived with --to"),
    (("returns", "receive", "{ref}", "--line", "TEA-01:1", "--to", "XX"), "unknown warehouse 'XX'"),
    (("returns", "receive", "{ref}", "--line", "TEA-01:3", "--to", "SH"), "only 2 unit(s) shipped"),
    (("returns", "receive", "{ref}", "--line", "TEA-09:1", "--to", "SH"), "has no line 'TEA-09'"),
    (("returns", "receive", "{ref}", "--line", "TEA-01:1", "--to", "SH", "--damaged", "2"), "between 0 and"),
    (("ship", "{ref}", "--carrier", "SF", "--tracking", "X", "--line", "TEA-01:1"), "nothing left to ship"),
])
def test_mistakes_are_named_exit_2_and_change_nothing(env, args, message):
    path, run = env
    order = fake.FakePlatform.named("tb").place_order([("TEA-01", 2)])
    ref = f"tb:{order.order_id}"
    run("resync", "--channel", "tb", "--what", "stock")
    run("ship", ref, "--carrier", "SF", "--tracking", "SF1")
    before = ledger(path, ref)
    result = run(*[a.format(ref=ref) for a in args], expect=2)
    assert message in result.output and "Traceback" not in result.output
    assert ledger(path, ref) == before
