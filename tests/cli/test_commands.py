"""The operator CLI against fake channels: exit codes, messages, all-or-nothing imports, no secrets shown."""

import json

import pytest

from channelsync.sdk.plugins import make_manager
from channelsync.store import Store
from channelsync.sim import fake

CONFIG = """
[store]
path = "cs.db"

[warehouses]
main = "Main"
north = "North"

[channels.a]
plugin = "fake"
[channels.a.settings]
platform = "a"
token = { env = "FAKE_TOKEN" }

[channels.b]
plugin = "fake"
buffer = 1
[channels.b.settings]
platform = "b"
token = { env = "FAKE_TOKEN" }
"""

CATALOG = """product_code,product_title,sku_code,price,cost,stock:main,stock:north
TEA,Green tea,TEA-01,39.90,12.00,10,2
TEA,Green tea,TEA-02,59.90,20.00,4,0
"""


@pytest.fixture
def env(tmp_path, monkeypatch, invoke_cli):
    monkeypatch.setenv("FAKE_TOKEN", "fake-token-value-1234")
    for name in ("a", "b"):
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

    return tmp_path, run




def db_snapshot(path):
    store = Store(path / "cs.db")
    try:
        return (store.query("SELECT * FROM skus ORDER BY code"), store.query("SELECT * FROM stock ORDER BY 1, 2"),
                store.scalar("SELECT COUNT(*) FROM stock_movements"))
    finally:
        store.close()


def test_import_export_roundtrip(env):
    path, run = env
    out = run("catalog", "import", str(path / "catalog.csv")).output
    assert "2 new" in out
    exported = run("catalog", "export").output
    assert "TEA-01" in exported and "39.90" in exported and ",10,2" in exported


def test_malformed_csv_names_row_and_column_and_changes_nothing(env):
    path, run = env
    run("catalog", "import", str(path / "catalog.csv"))
    before = db_snapshot(path)
    (path / "bad.csv").write_text("product_code,sku_code,price,stock:main\n"
                                  "TEA,TEA-01,45.00,3\n"          # a valid change: must not be applied
                                  "TEA,TEA-03,12.345,1\n"         # 3 decimals
                                  "TEA,,9.90,1\n"                 # no SKU code
                                  "TEA,TEA-04,9.90,-2\n")         # negative stock
    result = run("catalog", "import", str(path / "bad.csv"), expect=2)
    assert "row 3, column price" in result.output
    assert "row 4, column sku_code" in result.output
    assert "row 5, column stock:main" in result.output
    assert "nothing was imported" in result.output
    assert db_snapshot(path) == before


def test_stock_commands_and_unknown_sku(env):
    path, run = env
    run("catalog", "import", str(path / "catalog.csv"))
    assert "10 -> 7" in run("stock", "set", "TEA-01", "7", "-w", "main").output
    assert "7 -> 5" in run("stock", "adjust", "TEA-01", "-2", "-w", "main", "--reason", "count").output
    shown = json.loads(run("--json", "stock", "show", "TEA-01").stdout)
    assert shown["on_hand"] == {"main": 5, "north": 2} and shown["reserved"] == 0
    result = run("stock", "set", "NOPE", "1", "-w", "main", expect=2)
    assert "unknown SKU 'NOPE'" in result.output
    result = run("stock", "set", "TEA-01", "1", expect=2)  # two warehouses: must say which
    assert "--warehouse" in result.output


def test_resync_status_orders_and_ship_without_daemon(env):
    path, run = env
    run("catalog", "import", str(path / "catalog.csv"))
    dry = json.loads(run("--json", "resync", "--dry-run").stdout)
    assert dry["a"]["new_links"] == 2 and dry["a"]["dry_run"] is True
    assert Store(path / "cs.db").scalar("SELECT COUNT(*) FROM listings") == 0, "a dry run changes nothing"
    run("resync")
    assert fake.FakePlatform.named("a").stock("TEA-01") == 12
    assert fake.FakePlatform.named("b").stock("TEA-01") == 11  # buffer 1
    order = fake.FakePlatform.named("a").place_order([("TEA-01", 2)])
    run("resync", "--channel", "a", "--what", "stock")  # ingests the order first
    listed = json.loads(run("--json", "orders", "list", "--status", "paid").stdout)
    assert [o["external_id"] for o in listed] == [order.order_id]
    assert "TEA-01 x2" in run("orders", "show", f"a:{order.order_id}").output
    assert "shipped" in run("ship", f"a:{order.order_id}", "--carrier", "SF", "--tracking", "SF123").output
    assert fake.FakePlatform.named("a").orders[order.order_id].tracking_no == "SF123"
    run("ship", f"a:{order.order_id}", "--carrier", "SF", "--tracking", "SF123", expect=2)  # not paid any more
    status = run("--json", "status", expect=4).stdout  # 4: needs attention, no daemon is running
    assert "fake-token-value-1234" not in status
    data = json.loads(status)
    assert {c["channel"] for c in data["channels"]} == {"a", "b"}
    assert data["attention"] == ["the daemon is not running"]


def test_channels_and_plugins_hide_secrets(env):
    path, run = env
    out = run("--json", "channels").output
    assert "fake-token-value-1234" not in out and "***" in out
    assert "fake" in json.loads(run("--json", "plugins").stdout)["channel_types"]


def test_check_reports_every_mistake(env):
    path, run = env
    (path / "channelsync.toml").write_text(CONFIG.replace('plugin = "fake"\nbuffer = 1', 'plugin = "fake"\nbuffer = "x"')
                                           .replace("[channels.a]\nplugin = \"fake\"", "[channels.a]\nplugin = \"fak\"")
                                           + "\n[colour]\n")
    result = run("check", "--offline", expect=2)
    assert "channels.a.plugin" in result.output
    assert "channels.b.buffer" in result.output
    assert "colour" in result.output


def test_missing_secret_is_named_not_shown(env, monkeypatch):
    path, run = env
    monkeypatch.delenv("FAKE_TOKEN")
    result = run("check", "--offline", expect=2)
    assert "channels.a.settings.token" in result.output and "FAKE_TOKEN" in result.output


def test_status_counts_drift_with_sku_seen_and_expected(env):
    path, run = env
    run("catalog", "import", str(path / "catalog.csv"))
    run("resync")
    fake.FakePlatform.named("a").set_stock_by_hand("TEA-01", 500)  # a hand edit in the seller centre
    report = json.loads(run("--json", "resync", "--channel", "a", "--what", "stock").stdout)
    assert report["a"]["drift"] == 1 and report["a"]["drift_examples"] == [{"sku": "TEA-01", "expected": 12,
                                                                             "seen": 500}]
    assert fake.FakePlatform.named("a").stock("TEA-01") == 12
    data = json.loads(run("--json", "status", expect=4).stdout)  # 4: needs attention, no daemon runs here
    drift = {c["channel"]: c["drift"] for c in data["channels"]}
    assert drift["b"]["count"] == 0 and drift["a"]["count"] == 1
    assert {k: drift["a"]["latest"][0][k] for k in ("sku", "seen", "expected")} == {
        "sku": "TEA-01", "seen": 500, "expected": 12}
    assert "a: drift found and repaired: 1 (latest: TEA-01 showed 500, expected 12 (" in run("status", expect=4).output
