"""Every hook in hookspecs.py is called where its docstring says."""

import click
from click.testing import CliRunner

from channelsync import hookimpl

from channelsync.sdk import hookspecs
from channelsync.cli import cli
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim.fake import FakeChannel
from channelsync.testing.harness import Shop


class Recorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def order_ingested(self, channel, order, previous_status):
        self.calls.append(("order_ingested", channel, order.external_id, order.status.value, previous_status))

    @hookimpl
    def push_failed(self, channel, sku_code, kind, error, parked):
        self.calls.append(("push_failed", channel, sku_code, kind, parked))

    @hookimpl
    def cycle_finished(self, channel, stats):
        self.calls.append(("cycle_finished", channel, stats["orders_seen"]))

    @hookimpl
    def stock_low(self, sku_code, available, reorder_point, title):
        self.calls.append(("stock_low", sku_code, available, reorder_point, title))


def test_event_hooks_fire(tmp_path):
    rec = Recorder()
    shop = Shop(tmp_path, {"a": {}, "b": {}}, plugins=(rec,))
    for name in ("a", "b"):
        shop.platform(name).seed("A", 0, 100)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,1.00,5\n")
    shop.resync_all()
    shop.settle()
    order = shop.platform("a").place_order([("A", 1)])
    shop.platform("b").skus.clear()  # b's listing is gone: the push to b fails for good
    shop.runners["a"].cycle()
    shop.runners["b"].drain()
    assert ("order_ingested", "a", order.order_id, "paid", None) in rec.calls
    assert ("push_failed", "b", "A", "stock", True) in rec.calls
    assert ("cycle_finished", "a", 1) in rec.calls
    shop.platform("a").cancel(order.order_id)
    shop.runners["a"].poll()
    assert ("order_ingested", "a", order.order_id, "cancelled", "paid") in rec.calls
    shop.close()


def test_retryable_push_failure_is_reported_not_parked(tmp_path):
    rec = Recorder()
    shop = Shop(tmp_path, {"a": {}}, plugins=(rec,))
    shop.platform("a").seed("A", 0, 100)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,1.00,5\n")
    shop.resync_all()
    shop.platform("a").inject("error_5xx", count=1)
    shop.runners["a"].drain()
    assert ("push_failed", "a", "A", "stock", False) in rec.calls
    shop.close()


def test_the_running_daemon_announces_low_stock_once(tmp_path):
    from channelsync.engine import catalog
    from channelsync.testing import wait_for

    rec = Recorder()
    shop = Shop(tmp_path, {"a": {"poll_interval": 0.2}}, plugins=(rec,))
    shop.platform("a").seed("A", 0, 100)
    shop.import_csv("product_code,sku_code,sku_title,price,reorder_point,stock:main\nP,A,龙井,1.00,2,5\n")
    try:
        with shop.running_daemon(low_stock_every=0.1) as daemon:
            wait_for(lambda: daemon.started.is_set(), what="daemon start")
            catalog.change_stock(shop.store, shop.config, "A", "main", set_to=2)
            wait_for(lambda: ("stock_low", "A", 2, 2, "龙井") in rec.calls, what="stock_low hook")
            checks = shop.store.scalar("SELECT since FROM low_stock WHERE sku_code = 'A'")
            catalog.change_stock(shop.store, shop.config, "A", "main", set_to=1)  # lower still: no second call
            wait_for(lambda: shop.store.scalar("SELECT available FROM low_stock WHERE sku_code = 'A'") == 1,
                     what="a later check")
            assert [c for c in rec.calls if c[0] == "stock_low"] == [("stock_low", "A", 2, 2, "龙井")]
            assert shop.store.scalar("SELECT since FROM low_stock WHERE sku_code = 'A'") == checks
    finally:
        shop.close()


def test_register_channels_adds_a_type():
    class Plugin:
        @hookimpl
        def register_channels(self, register):
            register("fake2", FakeChannel)

    assert channel_types(make_manager(extra=[Plugin()], load_entry_points=False))["fake2"] is FakeChannel


def test_register_commands_adds_a_cli_command():
    class Plugin:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("hello-plugin")
            def hello():
                click.echo("hello from a plugin")

    pm = make_manager(extra=[Plugin()], load_entry_points=False)
    pm.hook.register_commands(cli=cli)
    try:
        result = CliRunner().invoke(cli, ["hello-plugin"], obj=pm)
        assert result.exit_code == 0 and "hello from a plugin" in result.output
    finally:
        cli.commands.pop("hello-plugin", None)


def test_every_hook_is_exercised_here():
    hooks = {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "channelsync_spec")}
    source = open(__file__, encoding="utf-8").read()
    assert hooks and all(f"def {h}(" in source for h in hooks), hooks


def test_trace_switch_prints_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("CHANNELSYNC_TRACE_PLUGINS", "1")
    pm = make_manager(load_entry_points=False)
    pm.hook.register_channels(register=lambda name, cls: None)
    assert "register_channels" in capsys.readouterr().err


def test_load_plugins_restricts_entry_points(monkeypatch):
    monkeypatch.setenv("CHANNELSYNC_LOAD_PLUGINS", "")
    assert [n for n, _ in make_manager().list_name_plugin()] == []


class WrongIntake:
    @hookimpl
    def register_intake(self, register):
        register("fake", FakeChannel)  # not a Receiver


def test_register_intake_collects_receivers_and_refuses_other_classes():
    from channelsync.sdk.intake import Receiver
    from channelsync.sdk.plugins import intake_types

    found = intake_types(make_manager())
    assert {"ownsite", "wechat", "taobao", "jd"} <= set(found)
    assert all(issubclass(cls, Receiver) for cls in found.values())
    import pytest

    from channelsync.sdk.errors import UserError

    with pytest.raises(UserError, match="not a channelsync.Receiver subclass"):
        intake_types(make_manager(extra=[WrongIntake()], load_entry_points=False))
