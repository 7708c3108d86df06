"""The daemon's upkeep: the stock_low hook fires once per crossing; SIGHUP reloads a valid
config (its rules reach the channels) and keeps the running one when the file is bad."""

import os
import signal
import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest
from structlog.testing import capture_logs

from channelsync import config as config_mod
from channelsync.daemon import Daemon, upkeep
from channelsync.engine import catalog
from channelsync.engine.orders import ingest
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sdk.models import Order, OrderLine, OrderStatus
from channelsync.store import utcnow
from channelsync.telemetry import log, metrics
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop


class Recorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def stock_low(self, sku_code, available, reorder_point, title):
        self.calls.append((sku_code, available, reorder_point))


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {"a": {}})
    shop.config = replace(shop.config, reorder_point=3)
    shop.import_csv("product_code,sku_code,sku_title,price,reorder_point,stock:main\n"
                    "P,A,Tea,10.00,,10\nP,B,Cup,10.00,0,10\nP,C,Pot,10.00,,1\n")
    yield shop
    shop.close()


def test_stock_low_fires_once_per_crossing(shop):
    recorder = Recorder()
    shop.pm.register(recorder)
    daemon = SimpleNamespace(config=shop.config, pm=shop.pm)

    def look():
        upkeep.announce_low_stock(daemon, shop.store)
        calls, recorder.calls[:] = list(recorder.calls), []
        return calls

    def stock(sku, n):
        catalog.change_stock(shop.store, shop.config, sku, "main", set_to=n)

    assert look() == [("C", 1, 3)]  # already low when first seen: announced once
    assert look() == []
    stock("A", 3)  # at the default point: low
    assert look() == [("A", 3, 3)]
    assert metrics.LOW_STOCK._value.get() == 2
    stock("A", 2)
    assert look() == []  # still low: not again
    stock("A", 4)
    assert look() == []  # recovered
    # a paid order reserves: available 4 - 1 = 3 crosses again
    ingest(shop.store, shop.config, shop.config.channels["a"],
           [Order("o1", OrderStatus.PAID, utcnow(), utcnow(), [OrderLine("A", 1)])])
    assert look() == [("A", 3, 3)]
    stock("B", 1)  # its own point (0) overrides the default
    assert look() == []
    stock("B", 0)
    assert look() == [("B", 0, 0)]


def test_a_failing_hook_does_not_stop_the_announcements(shop):
    class Broken:
        @hookimpl
        def stock_low(self, sku_code):
            raise RuntimeError("chat server down")

    shop.pm.register(Broken())
    daemon = SimpleNamespace(config=shop.config, pm=shop.pm)
    with capture_logs() as logs:
        assert upkeep.announce_low_stock(daemon, shop.store) == 1
    assert any(e["event"] == "stock_low_hook_failed" for e in logs)


def test_a_failing_look_is_logged_and_the_daemon_goes_on(shop, monkeypatch):
    from channelsync.engine import lowstock

    def locked(*_a, **_k):
        raise __import__("sqlite3").OperationalError("database is locked")

    monkeypatch.setattr(lowstock, "check", locked)
    with capture_logs() as logs:
        assert upkeep.announce_low_stock(SimpleNamespace(config=shop.config, pm=shop.pm), shop.store) is None
    assert [e["event"] for e in logs] == ["announce_low_stock_failed"]


CONFIG = """
[store]
path = "shop.db"
[daemon]
http_port = 0
[channels.a]
plugin = "fake"
poll_interval = 0.2
[channels.a.settings]
platform = "a"
token = {{ env = "FAKE_TOKEN" }}
[channels.a.price]
markup_percent = {markup}
"""


@pytest.mark.slow
def test_sighup_reloads_a_valid_config_and_keeps_the_old_one_on_a_bad_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_TOKEN", "fake-token")
    shop = Shop(tmp_path, {"a": {}})
    shop.platform("a").seed("A", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,5\n")
    path = tmp_path / "channelsync.toml"
    path.write_text(CONFIG.format(markup=0))
    daemon = Daemon(config_mod.load(path, shop.types), shop.pm, tick=0.05)
    steps = {}

    def operator():
        try:
            wait_for(lambda: shop.platform("a").stock("A") == 5, what="first sync")
            path.write_text(CONFIG.format(markup='"ten"'))  # a mistake
            os.kill(os.getpid(), signal.SIGHUP)
            wait_for(lambda: metrics.CONFIG_RELOADS.labels("rejected")._value.get() >= 1, what="rejected reload")
            steps["kept"] = daemon.config.channels["a"].price.markup_percent
            path.write_text(CONFIG.format(markup=10))
            os.kill(os.getpid(), signal.SIGHUP)
            wait_for(lambda: shop.platform("a").find("A").price == 1100, what="new price rule pushed", timeout=30)
            steps["applied"] = True
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            steps["error"] = exc
        finally:
            daemon.request_stop()

    log.configure("json", "info")
    try:
        with capture_logs() as logs:
            helper = threading.Thread(target=operator)
            helper.start()
            assert daemon.run(install_signals=True) == 0  # the main thread: it receives SIGHUP
            helper.join(timeout=30)
    finally:
        log.configure("json", "warning")
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        shop.close()
    assert "error" not in steps, steps.get("error")
    assert steps == {"kept": 0, "applied": True}
    rejected = next(e for e in logs if e["event"] == "config_reload_rejected")
    assert any("channels.a.price.markup_percent" in err for err in rejected["errors"])
    # the reload set logging up again from the new file (its log_level applies): the line is on stderr
    assert '"event": "config_reloaded"' in capsys.readouterr().err


def test_idle_cycles_log_at_debug_and_debug_shows_calls_windows_and_decisions(tmp_path):
    shop = Shop(tmp_path, {"a": {}, "b": {}})
    for name in ("a", "b"):
        shop.platform(name).seed("A", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,5\n")
    shop.resync_all()
    shop.settle()
    log.configure("json", "debug")
    try:
        with capture_logs() as logs:
            shop.runners["a"].cycle()  # nothing new: an idle cycle
            shop.platform("a").place_order([("A", 2)])
            shop.runners["a"].cycle()
    finally:
        log.configure("json", "warning")
        shop.close()
    cycles = [e for e in logs if e["event"] == "channel_cycle"]
    assert [c["log_level"] for c in cycles] == ["debug", "info"]
    assert any(e["event"] == "poll_window" and e["log_level"] == "debug" for e in logs)
    queued = [e for e in logs if e["event"] == "stock_push_queued"]
    assert queued and queued[0]["channel"] == "b" and queued[0]["target"] == 3
