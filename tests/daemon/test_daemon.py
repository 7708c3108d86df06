"""The daemon: workers per channel, pushes right after ingest, lock, health, clean stop."""

from dataclasses import replace

import httpx
import pytest
from structlog.testing import capture_logs

from channelsync.engine import catalog

from channelsync.telemetry import log
from channelsync.daemon import Daemon, InstanceLock
from channelsync.sdk.errors import UserError
from channelsync.config.settings import DaemonConfig
from channelsync.testing import wait_for
from channelsync.testing.harness import free_port


@pytest.fixture
def running(ab_shop):
    shop = ab_shop
    port = free_port()
    log.configure("json", "info")
    try:
        with capture_logs() as logs, \
                shop.running_daemon(replace(shop.config, daemon=DaemonConfig(http_port=port))) as daemon:
            wait_for(lambda: all(shop.platform(n).stock("A") == 10 for n in ("a", "b")), what="first sync")
            yield shop, daemon, port, logs
    finally:
        log.configure("json", "warning")


def test_order_on_one_channel_reaches_the_other(running):
    shop, daemon, _, _ = running
    shop.platform("a").place_order([("A", 4)])
    # pushed after the ingest: b's drift check (every 60 s) and resync (15 min) are not due
    wait_for(lambda: shop.platform("b").stock("A") == 6, timeout=30, what="push to b")
    assert shop.platform("a").stock("A") == 6


def test_cli_side_change_is_picked_up(running):
    shop, daemon, _, _ = running
    catalog.change_stock(shop.store, shop.config, "B", "main", set_to=7)  # as `channelsync stock set` would
    wait_for(lambda: shop.platform("a").stock("B") == 7 and shop.platform("b").stock("B") == 7, what="stock push")


def test_second_daemon_refuses(running):
    shop, daemon, _, _ = running
    assert InstanceLock.held(shop.config.db_path)
    other = Daemon(shop.config, shop.pm)
    with pytest.raises(UserError, match="already running"):
        other.run(install_signals=False)


def test_health_and_metrics_answer(running):
    shop, daemon, port, _ = running
    shop.platform("a").place_order([("A", 1)])
    wait_for(lambda: shop.platform("b").stock("A") == 9, what="push")
    health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
    assert health["status"] == "ok" and set(health["channels"]) == {"a", "b"}
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert 'channelsync_orders_ingested_total{channel="a"}' in metrics
    assert 'channelsync_pushes_total{channel="b",kind="stock",result="ok"}' in metrics
    assert "channelsync_propagation_seconds_bucket" in metrics


def test_one_canonical_line_per_cycle(running):
    shop, daemon, _, logs = running
    # idle cycles log at debug: give one something to say. An order can also be ingested by
    # the start-up resync's poll or the overlap sweep (no cycle line), so keep ordering until
    # a cycle is the one that finds it
    for _ in range(10):
        shop.platform("a").place_order([("A", 1)])
        try:
            wait_for(lambda: any(e["event"] == "channel_cycle" for e in logs), what="a busy cycle", timeout=3.0)
            break
        except AssertionError:
            continue
    line = next((e for e in logs if e["event"] == "channel_cycle"), None)
    assert line is not None, "ten orders and no busy cycle logged its line"
    for key in ("channel", "orders_seen", "pushes_ok", "queue_depth", "poll_ms", "push_ms"):
        assert key in line


def test_failing_channel_does_not_stall_the_other(running):
    shop, daemon, _, _ = running
    shop.platform("b").inject("error_5xx", count=10_000)  # b is down for every call from now on
    catalog.change_stock(shop.store, shop.config, "A", "main", set_to=5)
    wait_for(lambda: shop.platform("a").stock("A") == 5, what="push to the healthy channel")
    shop.platform("b").faults.clear()


def test_cli_work_is_handed_to_the_running_daemon(running):
    """resync and ship submitted as request rows are done by the daemon's worker."""
    from channelsync.daemon import handoff

    shop, daemon, _, _ = running
    order = shop.platform("a").place_order([("A", 2)])
    wait_for(lambda: shop.store.scalar("SELECT COUNT(*) FROM orders") == 1, what="ingest")
    order_id = shop.store.scalar("SELECT id FROM orders")
    done = handoff.wait(shop.store, handoff.submit(shop.store, "ship", "a",
                                                   {"ref": str(order_id), "carrier": "SF", "tracking_no": "SF77"}),
                        timeout=20)
    assert done["status"] == "shipped" and shop.platform("a").orders[order.order_id].tracking_no == "SF77"
    progressed = []
    report = handoff.wait(shop.store, handoff.submit(shop.store, "resync", "b", {"dry_run": True}),
                          on_progress=progressed.append, timeout=20)
    assert report["seen"] == 2 and report["dry_run"] is True and sum(progressed) == 2
    with pytest.raises(UserError, match="nothing left to ship"):
        handoff.wait(shop.store, handoff.submit(shop.store, "ship", "a",
                                                {"ref": str(order_id), "carrier": "SF", "tracking_no": "SF78"}),
                     timeout=20)
