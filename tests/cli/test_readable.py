"""A CLI that reads at a glance: headers on every table, ages instead of stamps, health in words
(colour only on a terminal), price show, stock low, unmatched listings, the dry-run change list."""

import json
import sys

import pytest

from channelsync.sim import fake
from channelsync.telemetry import log

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from test_commands import env  # noqa: F401 - the same config, catalog and fake channels

CONFIG_EXTRA = """
[channels.a.price]
markup_percent = 10
round_ending = 90
"""


@pytest.fixture
def shop(env):  # noqa: F811
    path, run = env
    text = (path / "channelsync.toml").read_text()
    text = text.replace('[channels.b]\nplugin = "fake"', '[channels.b]\nplugin = "fake"\ndisplay_name = "京东自营"')
    (path / "channelsync.toml").write_text(text + CONFIG_EXTRA + '\n[low_stock]\nreorder_point = 3\n')
    fake.FakePlatform.named("a").seed(None, 4, 100, title="无编码的链接")
    run("catalog", "import", str(path / "catalog.csv"))
    run("resync")
    return path, run


def lines_starting(out, word):
    return [line for line in out.splitlines() if line.startswith(word)]


def test_status_is_a_table_with_ages_and_health_words(shop):
    _, run = shop
    assert "LOW" not in run("status", expect=4).output  # 4: needs attention, no daemon runs here
    run("stock", "set", "TEA-02", "2", "-w", "main")
    out = run("status", expect=4).output
    header = lines_starting(out, "channel")[0]
    for column in ("plugin", "health", "last poll ok", "last push", "queued", "parked", "unmatched"):
        assert column in header
    row = lines_starting(out, "a ")[0]
    assert " ok " in row and " s ago" in row and "\x1b[" not in row  # no colour codes in a pipe
    assert lines_starting(out, "京东自营 (b) ")  # the display name, and the name --channel takes
    assert max(len(line) for line in out.splitlines()) < 160
    assert "LOW stock: 1 SKU(s) at or below their reorder point: TEA-02 (2 <= 3)" in out


def test_status_channel_gives_details(shop):
    _, run = shop
    out = run("status", "--channel", "b", expect=4).output
    assert lines_starting(out, "京东自营 (b)") and not lines_starting(out, "a ")
    assert "order cursor" in out
    assert "unknown channel 'zz'" in run("status", "--channel", "zz", expect=2).output


def test_price_show_names_the_rule_per_channel(shop):
    _, run = shop
    out = run("price", "show", "TEA-01").output
    assert lines_starting(out, "channel")[0].split()[:2] == ["channel", "price"]
    a = lines_starting(out, "a ")[0]
    assert "43.90" in a and "base 39.90, +10%, rounded up to x.90" in a  # 39.90 * 1.1 = 43.89 -> 43.90
    b = lines_starting(out, "京东自营")[0]
    assert "39.90" in b and "base 39.90" in b
    data = json.loads(run("--json", "price", "show", "TEA-01").stdout)
    assert [c["price"] for c in data["channels"]] == ["43.90", "39.90"]
    assert "unknown SKU 'NOPE'" in run("price", "show", "NOPE", expect=2).output


def test_stock_low_lists_skus_at_or_below_their_reorder_point(shop):
    _, run = shop
    run("stock", "set", "TEA-02", "3", "-w", "main")
    out = run("stock", "low").output
    assert lines_starting(out, "SKU")[0].split()[:2] == ["SKU", "title"]
    assert lines_starting(out, "TEA-02") and not lines_starting(out, "TEA-01")
    assert len(json.loads(run("--json", "stock", "low", "--all").stdout)) == 2


def test_listings_unmatched_shows_each_with_why(shop):
    _, run = shop
    out = run("listings", "unmatched").output
    row = lines_starting(out, "a ")[0]
    assert "无编码的链接" in row and "no merchant code" in row and "ago" in row
    assert json.loads(run("--json", "listings", "unmatched").stdout)["total"] == 1


def test_resync_dry_run_lists_the_changes(shop):
    _, run = shop
    fake.FakePlatform.named("b").set_stock_by_hand("TEA-01", 50)
    out = run("resync", "--dry-run").output
    assert "Changes it would make:" in out
    header = lines_starting(out, "SKU")[0]
    assert header.split() == ["SKU", "channel", "field", "from", "to"]
    assert lines_starting(out, "TEA-01")[0].split() == ["TEA-01", "b", "stock", "50", "11"]
    assert "listings unmatched" in out
    assert fake.FakePlatform.named("b").stock("TEA-01") == 50  # nothing changed


def test_orders_and_channels_have_headers(shop):
    _, run = shop
    fake.FakePlatform.named("a").place_order([("TEA-01", 1)])
    run("resync", "--channel", "a", "--what", "stock")
    out = run("orders", "list").output
    assert lines_starting(out, "id")[0].split()[:4] == ["id", "channel", "order", "status"]
    assert "ago" in out and "None" not in out
    out = run("channels").output
    assert lines_starting(out, "channel")[0].split()[:3] == ["channel", "name", "plugin"]
    assert "max None" not in out and "none" in out


def test_log_lines_wait_while_a_progress_bar_is_drawn(capsys):
    import structlog

    log.configure("json", "info")
    try:
        logger = structlog.get_logger("t")
        with log.held():
            logger.info("during_the_bar")
            assert "during_the_bar" not in capsys.readouterr().err
        assert "during_the_bar" in capsys.readouterr().err
    finally:
        log.configure("json", "warning")


def test_reload_checks_the_file_then_signals_the_daemon(shop, monkeypatch):
    import signal as signals

    from channelsync.cli import app as app_mod
    from channelsync.cli import sync as sync_mod
    from channelsync.store import Store

    path, run = shop
    sent = []
    monkeypatch.setattr(sync_mod.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    assert "no daemon is running" in run("reload", expect=1).output
    store = Store(path / "cs.db")
    store.execute("INSERT INTO daemon (id, pid) VALUES (1, 4242)")
    store.close()
    monkeypatch.setattr(app_mod.App, "daemon_running", lambda self: True)
    assert "daemon pid 4242 is applying it" in run("reload").output
    assert sent == [(4242, signals.SIGHUP)]
    with open(path / "channelsync.toml", "a") as f:
        f.write("\n[channels.a.overrides.TEA-01]\nbuffer = -1\n")
    out = run("reload", expect=2).output
    assert "channels.a.overrides.TEA-01.buffer" in out and len(sent) == 1  # refused: nothing sent
