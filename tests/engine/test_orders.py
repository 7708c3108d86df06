"""engine/orders.py at unit level: the state machine, its flags and what they do to
``expected``, reservations and the ledger; the cursor; finding an order.

The scenarios (tests/scenarios/) drive these through fake platforms end to end;
here each rule is pinned on a bare store with hand-made ``Order`` values.
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import orders
from channelsync.sdk.errors import UserError
from channelsync.sdk.models import Order, OrderLine
from channelsync.sdk.models import OrderStatus as S
from channelsync.store import Store, ts

NOW = "2026-06-01T00:00:00.000000+00:00"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TB = ChannelConfig(name="tb", plugin="fake")


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    s.execute("INSERT INTO warehouses (code, name) VALUES ('main', 'Main')")
    s.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', ?)", (NOW,))
    for code in ("A", "B"):
        s.execute("INSERT INTO skus (code, product_code, base_price, updated_at) VALUES (?, 'P', 100, ?)", (code, NOW))
        s.execute("INSERT INTO stock (sku_code, warehouse, on_hand) VALUES (?, 'main', 10)", (code,))
    s.execute("INSERT INTO channels (name, plugin) VALUES ('tb', 'fake'), ('jd', 'fake')")
    for channel in ("tb", "jd"):  # expected 10 = the target of 10 on hand: nothing to push
        for code in ("A", "B"):
            s.execute("INSERT INTO listings (channel, sku_code, external_id, expected, linked_at) VALUES (?,?,?,10,?)",
                      (channel, code, f"{channel}-{code}", NOW))
    yield s
    s.close()


def config(*cfgs: ChannelConfig) -> Config:
    return Config(path=None, db_path=Path("unused"), channels={c.name: c for c in cfgs or (TB,)})


def order(status: S, lines=(("A", 2),), external_id: str = "O1", minutes: int = 0, **kw) -> Order:
    return Order(external_id, status, T0, T0 + timedelta(minutes=minutes),
                 [OrderLine(code, qty) for code, qty in lines], **kw)


def ingest(store, *os: Order, cfg: ChannelConfig = TB, **kw) -> orders.IngestResult:
    return orders.ingest(store, config(cfg), cfg, list(os), **kw)


def state(store, external_id: str = "O1", channel: str = "tb") -> dict:
    return store.one("SELECT status, held, shipped FROM orders WHERE channel = ? AND external_id = ?",
                     (channel, external_id))


def expected(store, code: str = "A", channel: str = "tb") -> int | None:
    return store.scalar("SELECT expected FROM listings WHERE channel = ? AND sku_code = ?", (channel, code))


def reserved(store, external_id: str = "O1") -> list[int]:
    """Units each line of the order holds in reservations, in line order."""
    return [r["units"] for r in store.query(
        "SELECT (SELECT COALESCE(SUM(r.quantity), 0) FROM reservations r WHERE r.order_id = l.order_id "
        "AND r.line_no = l.line_no) AS units FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE o.external_id = ? ORDER BY l.line_no", (external_id,))]


def ledger(store, code: str = "A") -> list[tuple[int, str, str]]:
    return [(r["delta"], r["reason"], r["reference"]) for r in store.query(
        "SELECT delta, reason, reference FROM stock_movements WHERE sku_code = ? ORDER BY id", (code,))]


# --- the transition table --------------------------------------------------------------------

# written out here, not read from orders.FORWARD, so a change to the table is caught
ALLOWED = {
    (S.NEW, S.PAID), (S.NEW, S.SHIPPED), (S.NEW, S.COMPLETED), (S.NEW, S.CANCELLED), (S.NEW, S.REFUNDED),
    (S.PAID, S.SHIPPED), (S.PAID, S.COMPLETED), (S.PAID, S.CANCELLED), (S.PAID, S.REFUNDED),
    (S.SHIPPED, S.COMPLETED), (S.SHIPPED, S.REFUNDED),
    (S.COMPLETED, S.REFUNDED),
}


@pytest.mark.parametrize("before, after", list(itertools.product(S, S)))
def test_only_forward_transitions_apply(store, before, after):
    ingest(store, order(before))
    result = ingest(store, order(after, minutes=1))
    if (before, after) in ALLOWED:
        # closed with nothing shipped is "cancelled" on every channel, whatever the platform said
        shipped_first = before in (S.SHIPPED, S.COMPLETED)
        stored = S.CANCELLED if after == S.REFUNDED and not shipped_first else after
        assert state(store)["status"] == stored.value
        assert [(o.status, prev) for o, prev in result.changed] == [(after, before.value)]
    else:  # a stale read (or the same state again): ignored
        assert state(store)["status"] == (S.CANCELLED if before == S.REFUNDED else before).value
        assert result.changed == []
        assert result.skus == set()


def test_a_stale_state_changes_nothing_at_all(store):
    ingest(store, order(S.SHIPPED, minutes=5))
    snapshot = (store.query("SELECT * FROM orders"), store.query("SELECT * FROM order_lines"),
                store.query("SELECT * FROM listings"), store.query("SELECT * FROM stock_movements"))
    result = ingest(store, order(S.PAID, minutes=1))  # an old page read again
    assert result.changed == [] and result.pushes_queued == 0
    assert (store.query("SELECT * FROM orders"), store.query("SELECT * FROM order_lines"),
            store.query("SELECT * FROM listings"), store.query("SELECT * FROM stock_movements")) == snapshot


def test_reingesting_the_same_order_changes_nothing(store):
    first = ingest(store, order(S.PAID))
    assert [(o.external_id, prev) for o, prev in first.changed] == [("O1", None)]
    snapshot = (store.query("SELECT * FROM orders"), store.query("SELECT * FROM order_lines"),
                store.query("SELECT * FROM listings"))
    again = ingest(store, order(S.PAID), order(S.PAID))
    assert again.changed == [] and again.skus == set()
    assert (store.query("SELECT * FROM orders"), store.query("SELECT * FROM order_lines"),
            store.query("SELECT * FROM listings")) == snapshot
    assert expected(store) == 8  # lowered once, not three times


def test_a_new_order_is_stored_with_its_lines(store):
    result = ingest(store, order(S.NEW, lines=[("A", 2), ("B", 1)], total=300, platform_status="WAIT_PAY"))
    row = store.one("SELECT * FROM orders WHERE external_id = 'O1'")
    assert (row["channel"], row["status"], row["platform_status"], row["total"]) == ("tb", "new", "WAIT_PAY", 300)
    assert (row["created_at"], row["modified_at"]) == (ts(T0), ts(T0))
    lines = store.query("SELECT line_no, sku_code, quantity FROM order_lines WHERE order_id = ? ORDER BY line_no",
                        (row["id"],))
    assert [(r["line_no"], r["sku_code"], r["quantity"]) for r in lines] == [(1, "A", 2), (2, "B", 1)]
    assert result.skus == {"A", "B"}


# --- the cursor ------------------------------------------------------------------------------

def test_ingest_moves_the_cursor(store):
    cursor = T0 + timedelta(hours=1)
    ingest(store, order(S.PAID), cursor=cursor)
    assert store.scalar("SELECT order_cursor FROM channels WHERE name = 'tb'") == ts(cursor)
    assert store.scalar("SELECT order_cursor FROM channels WHERE name = 'jd'") is None


def test_ingest_without_a_cursor_leaves_it(store):
    ingest(store, order(S.PAID), cursor=T0)
    ingest(store, order(S.PAID, external_id="O2"))
    assert store.scalar("SELECT order_cursor FROM channels WHERE name = 'tb'") == ts(T0)


def test_an_empty_page_still_moves_the_cursor(store):
    ingest(store, cursor=T0)
    assert store.scalar("SELECT order_cursor FROM channels WHERE name = 'tb'") == ts(T0)


def test_the_cursor_moves_in_the_same_transaction_as_the_orders(store):
    ingest(store, cursor=T0)
    bad = order(S.PAID, lines=[("A", 0)], external_id="O2")  # quantity 0 violates a CHECK: the write fails
    with pytest.raises(sqlite3.IntegrityError):
        ingest(store, order(S.PAID), bad, cursor=T0 + timedelta(hours=1))
    assert store.scalar("SELECT order_cursor FROM channels WHERE name = 'tb'") == ts(T0)
    assert store.scalar("SELECT COUNT(*) FROM orders") == 0  # the good order went too
    assert expected(store) == 10


# --- held, shipped, reservations ---------------------------------------------------------------

def test_new_holds_and_reserves_nothing(store):
    ingest(store, order(S.NEW))
    assert state(store) == {"status": "new", "held": 0, "shipped": 0}
    assert reserved(store) == [0]
    assert expected(store) == 10


def test_paid_holds_reserves_and_lowers_expected(store):
    ingest(store, order(S.PAID, lines=[("A", 2), ("B", 3)]))
    assert state(store) == {"status": "paid", "held": 1, "shipped": 0}
    assert reserved(store) == [2, 3]
    assert (expected(store, "A"), expected(store, "B")) == (8, 7)
    assert expected(store, "A", channel="jd") == 10  # another channel's listing is not its sale
    assert ledger(store) == []


def test_shipped_books_the_ledger_once_and_releases_the_reservation(store):
    ingest(store, order(S.PAID))
    ingest(store, order(S.SHIPPED, minutes=1))
    assert state(store) == {"status": "shipped", "held": 1, "shipped": 1}
    assert reserved(store) == [0]
    assert expected(store) == 8  # the platform took them off at payment; shipping changes nothing there
    assert ledger(store) == [(-2, "shipment", "tb:O1")]
    ingest(store, order(S.COMPLETED, minutes=2))
    assert state(store) == {"status": "completed", "held": 1, "shipped": 1}
    assert ledger(store) == [(-2, "shipment", "tb:O1")]  # not booked twice


def test_an_order_first_seen_shipped_is_held_and_booked(store):
    ingest(store, order(S.SHIPPED))
    assert state(store) == {"status": "shipped", "held": 1, "shipped": 1}
    assert expected(store) == 8
    assert ledger(store) == [(-2, "shipment", "tb:O1")]
    assert reserved(store) == [0]


def test_cancel_before_shipment_releases_and_raises_expected_again(store):
    ingest(store, order(S.PAID))
    ingest(store, order(S.CANCELLED, minutes=1))
    assert state(store) == {"status": "cancelled", "held": 0, "shipped": 0}
    assert reserved(store) == [0]
    assert expected(store) == 10
    assert ledger(store) == []


def test_refund_before_shipment_is_like_a_cancel(store):
    ingest(store, order(S.PAID))
    ingest(store, order(S.REFUNDED, minutes=1))
    assert state(store) == {"status": "cancelled", "held": 0, "shipped": 0}  # one meaning on every channel
    assert expected(store) == 10 and ledger(store) == []


def test_refund_after_shipment_keeps_the_hold_and_restocks_only_when_configured(store):
    ingest(store, order(S.SHIPPED))
    ingest(store, order(S.REFUNDED, minutes=1))
    assert state(store) == {"status": "refunded", "held": 1, "shipped": 1}
    assert expected(store) == 8  # goods left: the platform does not put them back
    assert ledger(store) == [(-2, "shipment", "tb:O1")]

    restocking = ChannelConfig(name="tb", plugin="fake", restock_on_refund=True)
    ingest(store, order(S.SHIPPED, external_id="O2"), cfg=restocking)
    ingest(store, order(S.REFUNDED, external_id="O2", minutes=1), cfg=restocking)
    assert ledger(store)[1:] == [(-2, "shipment", "tb:O2"), (2, "return", "tb:O2")]


def test_a_refund_that_says_the_goods_left_books_the_unseen_shipment(store):
    ingest(store, order(S.PAID))
    ingest(store, order(S.REFUNDED, minutes=1, shipped=True))
    assert state(store) == {"status": "refunded", "held": 1, "shipped": 1}
    assert expected(store) == 8
    assert ledger(store) == [(-2, "shipment", "tb:O1")]


def test_an_order_first_seen_cancelled_is_replayed_through_paid(store):
    # expected 10: lowered by the sale and raised by the put-back, so unchanged
    ingest(store, order(S.CANCELLED))
    assert state(store) == {"status": "cancelled", "held": 0, "shipped": 0}
    assert expected(store) == 10
    assert reserved(store) == [0] and ledger(store) == []


def test_first_seen_cancelled_after_a_floored_decrement_puts_the_units_back(store):
    # the platform showed 1 and floored the 3 sold at 0, then the cancel put all 3 back
    store.execute("UPDATE listings SET expected = 1 WHERE channel = 'tb' AND sku_code = 'A'")
    ingest(store, order(S.CANCELLED, lines=[("A", 3)]))
    assert expected(store) == 3  # max(0, 1 - 3) + 3


@pytest.mark.parametrize("arrival", ["sale first", "refund first"])
def test_a_refund_and_a_sale_in_one_poll_follow_the_platforms_order(store, arrival):
    # the platform showed 0; O1 (2 units, ingested earlier) was refunded at 9:05, putting
    # 2 back; then a buyer took 1 at 9:06: it shows 1, whatever order the poll lists them in
    ingest(store, order(S.PAID))
    store.execute("UPDATE listings SET expected = 0 WHERE channel = 'tb' AND sku_code = 'A'")
    refund = order(S.REFUNDED, minutes=5)
    sale = Order("O2", S.PAID, T0 + timedelta(minutes=6), T0 + timedelta(minutes=6), [OrderLine("A", 1)])
    ingest(store, *([sale, refund] if arrival == "sale first" else [refund, sale]))
    assert expected(store) == 1


def test_first_seen_refunded_unshipped_is_replayed_like_a_cancel(store):
    store.execute("UPDATE listings SET expected = 1 WHERE channel = 'tb' AND sku_code = 'A'")
    ingest(store, order(S.REFUNDED, lines=[("A", 3)]))
    assert state(store) == {"status": "cancelled", "held": 0, "shipped": 0}
    assert expected(store) == 3


def test_absolute_channel_orders_make_expected_unknown(store):
    ingest(store, order(S.PAID), absolute=True)
    assert expected(store) is None
    assert expected(store, "B") == 10


def test_lines_match_by_code_then_by_listing_id_and_the_rest_are_counted(store):
    o = Order("O1", S.PAID, T0, T0, [OrderLine("A", 1), OrderLine("X-UNKNOWN", 1, external_sku_id="tb-B"),
                                      OrderLine(None, 1, external_sku_id="nowhere"), OrderLine("NOPE", 4)])
    result = ingest(store, o)
    assert result.unmatched_lines == 2
    assert store.scalar("SELECT unmatched_lines FROM orders") == 2
    codes = [r["sku_code"] for r in store.query("SELECT sku_code FROM order_lines ORDER BY line_no")]
    assert codes == ["A", "B", None, None]
    assert (expected(store, "A"), expected(store, "B")) == (9, 9)
    assert result.skus == {"A", "B"}


def test_the_listing_id_is_looked_up_on_the_orders_own_channel(store):
    o = Order("O1", S.PAID, T0, T0, [OrderLine(None, 1, external_sku_id="jd-A")])
    assert ingest(store, o).unmatched_lines == 1


def test_ingest_queues_pushes_for_the_other_channels(store):
    jd = ChannelConfig(name="jd", plugin="fake")
    result = orders.ingest(store, config(TB, jd), TB, [order(S.PAID)])
    assert result.pushes_queued == 1
    queued = store.query("SELECT channel, sku_code, kind FROM outbox")
    assert [(r["channel"], r["sku_code"], r["kind"]) for r in queued] == [("jd", "A", "stock")]


def test_mark_shipped_records_the_shipment_like_an_ingested_state(store):
    ingest(store, order(S.PAID))
    row = store.one("SELECT * FROM orders WHERE external_id = 'O1'")
    orders.mark_shipped(store, config(), TB, row, "SF", "SF123")
    got = store.one("SELECT status, held, shipped, carrier, tracking_no FROM orders WHERE external_id = 'O1'")
    assert got == {"status": "shipped", "held": 1, "shipped": 1, "carrier": "SF", "tracking_no": "SF123"}
    assert ledger(store) == [(-2, "shipment", "tb:O1")]
    assert expected(store) == 8


# --- find_order ------------------------------------------------------------------------------

@pytest.fixture
def three_orders(store):
    ingest(store, order(S.PAID, external_id="T-1"))
    ingest(store, order(S.PAID, external_id="SAME"))
    jd = ChannelConfig(name="jd", plugin="fake")
    orders.ingest(store, config(jd), jd, [order(S.PAID, external_id="SAME"), order(S.PAID, external_id="99")])
    return store


def test_find_order_by_internal_id(three_orders):
    first = three_orders.one("SELECT id FROM orders WHERE external_id = 'T-1'")["id"]
    assert orders.find_order(three_orders, str(first))["external_id"] == "T-1"


def test_find_order_by_channel_and_external_id(three_orders):
    found = orders.find_order(three_orders, "jd:SAME")
    assert (found["channel"], found["external_id"]) == ("jd", "SAME")
    assert orders.find_order(three_orders, "tb:SAME")["channel"] == "tb"


def test_find_order_by_a_unique_external_id(three_orders):
    assert orders.find_order(three_orders, "T-1")["channel"] == "tb"
    # all digits but no such internal id: still found as an external id
    assert orders.find_order(three_orders, "99")["channel"] == "jd"


def test_find_order_ambiguous_names_the_channels(three_orders):
    with pytest.raises(UserError) as exc:
        orders.find_order(three_orders, "SAME")
    message = str(exc.value)
    assert "several channels" in message and "tb" in message and "jd" in message
    assert "CHANNEL:SAME" in message


@pytest.mark.parametrize("ref", ["NOPE", "tb:99", "wx:T-1", "12345"])
def test_find_order_unknown(three_orders, ref):
    with pytest.raises(UserError, match=f"no order '{ref}'"):
        orders.find_order(three_orders, ref)
