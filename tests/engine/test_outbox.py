"""The outbox on a real store: coalescing, reviving, parking, due order, back-off."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


from channelsync.engine import outbox
from channelsync.store import Store, ts

T0 = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
S = timedelta(seconds=1)


def row(store: Store, channel="tb", sku="A", kind="stock") -> dict | None:
    return store.one("SELECT * FROM outbox WHERE channel = ? AND sku_code = ? AND kind = ?", (channel, sku, kind))


def count(store: Store) -> int:
    return store.scalar("SELECT COUNT(*) FROM outbox")


def test_queue_creates_a_pending_row(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    r = row(store)
    assert r["status"] == "pending" and r["attempts"] == 0
    assert r["next_at"] == r["queued_at"] == r["updated_at"] == ts(T0)
    assert r["last_error"] is None and r["inflight_key"] is None


def test_queue_coalesces_one_row_per_channel_sku_and_kind(store):
    for i in range(3):
        outbox.queue(store, "tb", "A", "stock", T0 + i * S)
    assert count(store) == 1
    assert row(store)["queued_at"] == ts(T0)  # the first ask's time
    assert row(store)["updated_at"] == ts(T0 + 2 * S)
    outbox.queue(store, "tb", "A", "price", T0)
    outbox.queue(store, "tb", "B", "stock", T0)
    outbox.queue(store, "jd", "A", "stock", T0)
    assert count(store) == 4


def test_queueing_again_keeps_a_pending_rows_back_off_and_inflight_call(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    store.execute("UPDATE outbox SET inflight_key = 'k1', inflight_delta = -2, inflight_target = 3")
    outbox.retry_later(store, row(store), 60, "[502] busy", T0)
    outbox.queue(store, "tb", "A", "stock", T0 + S)
    r = row(store)
    assert r["attempts"] == 1
    assert r["next_at"] == ts(T0 + 60 * S)  # a new ask does not cut the back-off short
    assert r["last_error"] == "[502] busy"
    assert (r["inflight_key"], r["inflight_delta"], r["inflight_target"]) == ("k1", -2, 3)  # resend the same call


def test_queue_revives_a_parked_row(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.retry_later(store, row(store), 30, "busy", T0)
    outbox.park(store, row(store), "[404] no such sku", T0 + S)
    assert row(store)["status"] == "failed"
    outbox.queue(store, "tb", "A", "stock", T0 + 10 * S)
    r = row(store)
    assert r["status"] == "pending"
    assert r["attempts"] == 0
    assert r["last_error"] is None
    assert r["next_at"] == ts(T0 + 10 * S)  # due now, whatever it was before
    assert count(store) == 1


def test_park_keeps_the_row_visible_and_clears_the_inflight_call(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    store.execute("UPDATE outbox SET inflight_key = 'k1', inflight_delta = -2, inflight_target = 3")
    outbox.park(store, row(store), "[25] bad value", T0 + S)
    r = row(store)
    assert r["status"] == "failed" and r["attempts"] == 1
    assert r["last_error"] == "[25] bad value"
    assert r["updated_at"] == ts(T0 + S)
    assert (r["inflight_key"], r["inflight_delta"], r["inflight_target"]) == (None, None, None)
    assert outbox.due(store, "tb", "stock", 10, T0 + 3600 * S) == []  # parked rows are not sent


def test_revive_failed_for_one_channel(store):
    for ch in ("tb", "jd"):
        for sku in ("A", "B"):
            outbox.queue(store, ch, sku, "stock", T0)
            outbox.retry_later(store, row(store, ch, sku), 5, "busy", T0)
            outbox.park(store, row(store, ch, sku), "gone", T0)
    outbox.queue(store, "tb", "C", "stock", T0)  # pending: untouched
    later = T0 + 100 * S
    assert outbox.revive_failed(store, "tb", later) == 2
    for sku in ("A", "B"):
        r = row(store, "tb", sku)
        assert (r["status"], r["attempts"], r["next_at"], r["updated_at"]) == ("pending", 0, ts(later), ts(later))
        assert row(store, "jd", sku)["status"] == "failed"
    assert row(store, "tb", "C")["updated_at"] == ts(T0)
    assert [r["sku_code"] for r in outbox.due(store, "tb", "stock", 10, later)] == ["C", "A", "B"]  # by next_at


def test_revive_failed_for_all_channels(store):
    for ch in ("tb", "jd", "wx"):
        outbox.queue(store, ch, "A", "price", T0)
        outbox.park(store, row(store, ch, kind="price"), "no", T0)
    assert outbox.revive_failed(store, now=T0) == 3
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") == 0
    assert outbox.revive_failed(store, now=T0) == 0  # nothing left to revive


def test_unqueue_drops_a_pending_row(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.queue(store, "tb", "A", "price", T0)
    outbox.unqueue(store, "tb", "A", "stock")
    assert row(store) is None
    assert row(store, kind="price") is not None  # only that kind


def test_unqueue_leaves_a_row_with_a_call_in_flight(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    store.execute("UPDATE outbox SET inflight_key = 'k1', inflight_delta = 2")
    outbox.unqueue(store, "tb", "A", "stock")
    assert row(store)["inflight_key"] == "k1"  # the call may have applied: it must be settled, not forgotten


def test_unqueue_leaves_a_parked_row(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.park(store, row(store), "bad", T0)
    outbox.unqueue(store, "tb", "A", "stock")
    assert row(store)["status"] == "failed"


def test_due_respects_next_at_kind_channel_order_and_limit(store):
    outbox.queue(store, "tb", "C", "stock", T0)
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.queue(store, "tb", "B", "stock", T0 - 5 * S)
    outbox.queue(store, "tb", "D", "stock", T0 + 10 * S)   # not yet
    outbox.queue(store, "tb", "E", "price", T0)             # another kind
    outbox.queue(store, "jd", "F", "stock", T0)             # another channel
    due = outbox.due(store, "tb", "stock", 10, T0)
    assert [r["sku_code"] for r in due] == ["B", "A", "C"]  # by next_at, then SKU code
    assert [r["sku_code"] for r in outbox.due(store, "tb", "stock", 2, T0)] == ["B", "A"]
    assert [r["sku_code"] for r in outbox.due(store, "tb", "stock", 10, T0 + 10 * S)] == ["B", "A", "C", "D"]
    assert outbox.due(store, "tb", "stock", 10, T0 - 10 * S) == []


def test_retry_later_counts_the_attempt_and_moves_next_at(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.retry_later(store, row(store), 2.5, "[502] busy", T0)
    r = row(store)
    assert r["attempts"] == 1 and r["status"] == "pending"
    assert r["next_at"] == ts(T0 + timedelta(seconds=2.5))
    assert r["last_error"] == "[502] busy" and r["updated_at"] == ts(T0)
    assert outbox.due(store, "tb", "stock", 10, T0 + 2 * S) == []
    assert len(outbox.due(store, "tb", "stock", 10, T0 + 3 * S)) == 1
    outbox.retry_later(store, r, 10, "timeout", T0 + 3 * S)
    assert row(store)["attempts"] == 2
    assert row(store)["last_error"] == "timeout"


def test_done_deletes_the_row(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.queue(store, "tb", "A", "price", T0)
    store.execute("UPDATE outbox SET inflight_key = 'k1' WHERE kind = 'stock'")
    outbox.done(store, row(store))
    assert row(store) is None
    assert row(store, kind="price") is not None


def test_depth_counts_pending_and_failed_per_channel(store):
    assert outbox.depth(store, "tb") == {"pending": 0, "failed": 0}
    for sku in "ABC":
        outbox.queue(store, "tb", sku, "stock", T0)
    outbox.queue(store, "jd", "A", "stock", T0)
    outbox.park(store, row(store, "tb", "B"), "bad", T0)
    assert outbox.depth(store, "tb") == {"pending": 2, "failed": 1}
    assert outbox.depth(store, "jd") == {"pending": 1, "failed": 0}


def test_an_increment_in_flight_is_kept_on_its_row_only(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.queue(store, "tb", "A", "price", T0)
    outbox.mark_in_flight(store, row(store), "key-1", 7, -2)
    r = row(store)
    assert (r["inflight_key"], r["inflight_target"], r["inflight_delta"]) == ("key-1", 7, -2)
    assert row(store, kind="price")["inflight_key"] is None
    outbox.unqueue(store, "tb", "A", "stock")  # a call in flight is never dropped
    assert row(store) is not None
    outbox.clear_in_flight(store, row(store))
    assert (row(store)["inflight_key"], row(store)["inflight_target"], row(store)["inflight_delta"]) == (None,) * 3


def test_due_again_makes_a_backed_off_row_fresh_and_due_now(store):
    outbox.queue(store, "tb", "A", "stock", T0)
    outbox.retry_later(store, row(store), 300, "timeout", T0)
    assert outbox.due(store, "tb", "stock", 10, T0 + S) == []
    outbox.due_again(store, row(store), T0 + S)
    r = row(store)
    assert (r["attempts"], r["last_error"], r["next_at"]) == (0, None, ts(T0 + S))
    assert len(outbox.due(store, "tb", "stock", 10, T0 + S)) == 1
