"""Errors a platform reports are counted by its own code, in the core: the ones Taobao, JD and
WeChat send with HTTP 200 (never seen by the HTTP layer) as well as those per record in a batch."""

import pytest

from channelsync.sdk.errors import Rejected, Transient
from channelsync.sdk.models import UpdateResult
from channelsync.telemetry import metrics
from channelsync.testing.harness import Shop


def count(channel, code):
    return metrics.PLATFORM_ERRORS.labels(channel, code)._value.get()


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {"m1": {}})
    shop.platform("m1").seed("A", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,5\n")
    shop.resync_all()
    yield shop
    shop.close()


def test_a_raised_platform_error_is_counted_by_its_code(shop):
    lane = shop.lanes["m1"]
    before = count("m1", "isv.item-not-exist")

    def refuse():
        raise Rejected("item does not exist", code="isv.item-not-exist")  # as a body of an HTTP 200 decodes

    with pytest.raises(Rejected):
        lane.call(refuse)
    assert count("m1", "isv.item-not-exist") == before + 1


def test_each_retried_attempt_counts_and_an_error_without_code_counts_by_kind(shop):
    lane = shop.lanes["m1"]
    before = count("m1", "Transient")
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise Transient("system busy", maybe_applied=False)
        return "ok"

    from channelsync.sync import retry

    assert retry.call(flaky, sleep=lambda s: None, on_error=lane.count_error) == "ok"
    assert count("m1", "Transient") == before + 2


def test_per_record_errors_in_a_batch_are_counted(shop, monkeypatch):
    lane = shop.lanes["m1"]
    before = count("m1", "PRICE_TOO_LOW")
    monkeypatch.setattr(lane.adapter, "set_prices", lambda updates: [
        UpdateResult(u.external_id, Rejected("price below floor", code="PRICE_TOO_LOW")) for u in updates])
    shop.import_csv("product_code,sku_code,price\nP,A,12.00\n")  # queues a price push
    shop.runners["m1"].drain()
    assert count("m1", "PRICE_TOO_LOW") == before + 1
    assert metrics.PARKED.labels("m1")._value.get() == 1


def test_metrics_page_has_the_process_collector_and_the_new_gauges(shop):
    from prometheus_client import generate_latest

    shop.runners["m1"].poll()
    text = generate_latest(metrics.REGISTRY).decode()
    for name in ("process_resident_memory_bytes", "channelsync_last_poll_success_timestamp_seconds{channel=\"m1\"}",
                 'channelsync_channel_health{channel="m1",state="ok"} 1.0'):
        assert name in text
