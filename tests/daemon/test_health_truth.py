"""Health tells the truth: poll and push tracked apart, parked pushes and crashed workers
visible, /healthz 503 with per-channel reasons under ``daemon.unhealthy_when``, and
``channelsync status`` exiting 4 when something needs attention."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace

import httpx
import pytest
from click.testing import CliRunner

from channelsync.config.settings import DaemonConfig
from channelsync.daemon.health import health_document
from channelsync.engine import catalog, channels
from channelsync.store import utcnow
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop, free_port


def row(name: str, health: str, error: str | None = None, enabled: bool = True) -> dict:
    return {"channel": name, "enabled": enabled, "health": health, "last_error": error,
            "poll": {}, "push": {}, "queue": {"pending": 0, "failed": 0}}


@pytest.mark.parametrize("policy, healths, expected", [
    ("any_failing", ["ok", "ok"], "ok"),
    ("any_failing", ["ok", "degraded"], "ok"),
    ("any_failing", ["ok", "failing"], "failing"),
    ("any_degraded", ["ok", "degraded"], "failing"),
    ("any_degraded", ["ok", "unknown"], "ok"),
    ("all_failing", ["ok", "failing"], "ok"),
    ("all_failing", ["failing", "failing"], "failing"),
])
def test_health_policy(policy, healths, expected):
    rows = [row(f"c{i}", h, None if h == "ok" else f"why {i}") for i, h in enumerate(healths)]
    doc = health_document(rows, {r["channel"]: True for r in rows}, policy=policy)
    assert doc["status"] == expected and doc["policy"] == policy
    if expected == "failing":
        assert doc["reasons"] and all(": why " in reason for reason in doc["reasons"])


def test_a_dead_worker_or_a_stopping_daemon_is_always_failing():
    rows = [row("a", "ok"), row("b", "ok")]
    doc = health_document(rows, {"a": True, "b": False}, policy="all_failing")
    assert doc["status"] == "failing" and doc["reasons"] == ["b: failing: worker not running"]
    assert health_document(rows, {"a": True, "b": True}, stopping=True)["reasons"][0] == "the daemon is stopping"


def test_a_disabled_channel_does_not_count():
    rows = [row("a", "ok"), row("off", "failing", "never polled", enabled=False)]
    doc = health_document(rows, {"a": True})
    assert doc["status"] == "ok" and set(doc["channels"]) == {"a"}


def test_a_good_push_round_does_not_hide_a_failing_poll(tmp_path):
    shop = Shop(tmp_path, {"a": {}})
    store, now = shop.store, utcnow()
    with store.write():
        channels.record_poll(store, "a", "order poll: [500] down", now, token_expires_at=None)
        channels.record_push(store, "a", "ok", None)
    r = channels.status_rows(store, shop.config)[0]
    assert r["health"] == "failing" and r["poll"]["health"] == "failing" and r["push"]["health"] == "ok"
    assert r["last_error"] == "order poll: [500] down"
    with store.write():
        channels.record_poll(store, "a", None, now, token_expires_at=None)
        channels.record_push(store, "a", "degraded", "3 push(es) being retried")
    r = channels.status_rows(store, shop.config)[0]
    assert r["health"] == "degraded" and r["poll"]["health"] == "ok" and r["last_error"] == "3 push(es) being retried"
    with store.write():
        channels.record_worker(store, "a", "worker crashed (RuntimeError: x); restarting in 2 s")
    assert channels.status_rows(store, shop.config)[0]["health"] == "failing"
    shop.close()


def test_an_error_echoing_a_secret_is_stored_redacted(tmp_path):
    from channelsync.telemetry import log

    shop = Shop(tmp_path, {"a": {}})
    log.register_secrets(["tok-PLANTED-abcdef"])
    with shop.store.write():
        channels.record_worker(shop.store, "a", "worker crashed (HTTPError: GET /x?access_token=tok-PLANTED-abcdef)")
    r = channels.status_rows(shop.store, shop.config)[0]
    assert "tok-PLANTED" not in str(r) and "access_token=***" in r["worker_error"]
    shop.close()


# --- a running daemon ---------------------------------------------------------------------------

@pytest.fixture
def daemon_of(ab_shop):
    """``start(policy)`` runs a daemon over the a/b shop with that ``unhealthy_when``."""
    with contextlib.ExitStack() as stack:
        def start(policy: str = "any_failing"):
            port = free_port()
            config = replace(ab_shop.config, daemon=DaemonConfig(http_port=port, unhealthy_when=policy))
            daemon = stack.enter_context(ab_shop.running_daemon(config))
            wait_for(lambda: ab_shop.platform("b").stock("A") == 10, what="first sync")
            return ab_shop, daemon, f"http://127.0.0.1:{port}/healthz"

        yield start


def test_healthz_is_503_with_the_failing_channels_reason_and_status_exits_4(daemon_of, tmp_path, monkeypatch):
    shop, daemon, url = daemon_of()
    assert httpx.get(url).status_code == 200
    shop.platform("b").inject("error_5xx", count=10_000)  # b's order polls fail from now on
    wait_for(lambda: httpx.get(url).status_code == 503, what="/healthz 503")
    body = httpx.get(url).json()
    assert body["status"] == "failing" and body["channels"]["a"]["health"] == "ok"
    assert body["channels"]["b"]["poll"]["health"] == "failing"
    assert body["reasons"] == [f"b: failing: {body['channels']['b']['reason']}"]
    assert "order poll" in body["channels"]["b"]["reason"]
    # status from the CLI, while the daemon runs: attention for b only; --channel a is all well
    config_path = tmp_path / "cli.toml"
    config_path.write_text(_config_text(shop))
    runner = _cli(shop)
    everything = runner("--config", str(config_path), "--json", "status")
    assert everything.exit_code == 4, everything.output
    doc = json.loads(everything.stdout)
    assert doc["daemon"]["running"] is True and [a.split(":")[0] for a in doc["attention"]] == ["b"]
    only_a = runner("--config", str(config_path), "--json", "status", "--channel", "a")
    assert only_a.exit_code == 0, only_a.output
    assert [c["channel"] for c in json.loads(only_a.stdout)["channels"]] == ["a"]
    shop.platform("b").faults.clear()
    wait_for(lambda: httpx.get(url).status_code == 200, what="/healthz back to 200")


def test_parked_pushes_show_in_health_and_fail_the_strict_policy(daemon_of):
    shop, daemon, url = daemon_of("any_degraded")
    platform = shop.platform("a")
    with platform.lock:  # deleted in the seller centre: the next push of B parks
        del platform.skus[platform.find("B").external_id]
    catalog.change_stock(shop.store, shop.config, "B", "main", set_to=2)
    wait_for(lambda: httpx.get(url).status_code == 503, what="503 for a parked push")
    body = httpx.get(url).json()
    assert body["channels"]["a"]["health"] == "degraded" and body["channels"]["a"]["push"]["parked"] == 1
    assert "parked" in body["channels"]["a"]["reason"]
    assert body["channels"]["b"]["health"] == "ok"


def _config_text(shop) -> str:
    return f'[store]\npath = "{shop.config.db_path}"\n[daemon]\nhttp_port = 0\n' \
           '[channels.a]\nplugin = "fake"\n[channels.a.settings]\nplatform = "a"\n' \
           '[channels.b]\nplugin = "fake"\n[channels.b.settings]\nplatform = "b"\n'


def _cli(shop):
    from channelsync import cli as cli_mod

    class Main:
        name = "channelsync"

        def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
            cli_mod.main(list(args), pm=shop.pm)

    return lambda *args: CliRunner().invoke(Main(), list(args))
