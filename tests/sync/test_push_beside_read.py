"""A channel's pushes go on while its drift read is on the wire, and a push that lands
between a read and its record is never taken for drift (ordering, not timing)."""

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from channelsync.engine import listings, outbox
from channelsync.store import Store, ts, utcnow
from channelsync.sync import push
from channelsync.sync.runner import ChannelRunner
from channelsync.testing.harness import Shop


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {"a": {}, "b": {}})
    for name in ("a", "b"):
        for code in ("A", "B"):
            shop.platform(name).seed(code, 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,10\nP,B,10.00,10\n")
    shop.resync_all()
    shop.settle()
    yield shop
    shop.close()


def beside(shop, lane, work) -> None:
    store = Store(shop.config.db_path)
    try:
        work(ChannelRunner(replace(lane, store=store)))
    finally:
        store.close()


def test_a_push_goes_out_while_a_read_of_its_channel_is_on_the_wire(shop):
    lane = shop.lanes["b"]
    on_wire, answer = threading.Event(), threading.Event()
    real = lane.adapter.read_stock

    def read_stock(ids, items):
        shown = real(ids, items)  # what the platform shows as the read passes it...
        on_wire.set()
        answer.wait(30)           # ...and the answer is still on its way back
        return shown

    lane.adapter.read_stock = read_stock
    # the drift check reads from the worker's thread, the pushes go from the pusher's, each on a
    # connection of its own, as in the daemon
    reading = threading.Thread(target=beside, args=(shop, lane, lambda r: r.drift.read(force=True)))
    reading.start()
    try:
        assert on_wire.wait(30)
        shop.platform("a").place_order([("A", 3)])
        shop.runners["a"].poll()
        pushing = threading.Thread(target=beside, args=(shop, lane, ChannelRunner.drain))
        pushing.start()
        pushing.join(30)
        # the push did not wait for the read's answer
        assert not pushing.is_alive() and not answer.is_set()
        assert shop.platform("b").stock("A") == 7
    finally:
        answer.set()
        reading.join(30)
    assert not reading.is_alive()
    rows = {r["sku_code"]: r for r in shop.store.query("SELECT sku_code, read_qty FROM listings WHERE channel = 'b'")}
    # A's read (10, taken before the push landed) cannot be judged against expected (7): not kept;
    # B's, which no push touched, is
    assert rows["A"]["read_qty"] is None and rows["B"]["read_qty"] == 10
    shop.settle()
    assert listings.drift_summary(shop.store, "b")["count"] == 0
    assert shop.platform("b").stock("A") == 7 == shop.expected("b", "A")


def test_an_idle_push_round_looks_at_the_outbox_once(shop, monkeypatch):
    looked: list[str] = []
    real_due = outbox.due
    monkeypatch.setattr(outbox, "due", lambda store, channel, kind, *a, **k: (looked.append(kind),
                                                                              real_due(store, channel, kind, *a, **k))[1])
    kinds = []
    real_kinds = outbox.due_kinds
    monkeypatch.setattr(outbox, "due_kinds", lambda *a, **k: (kinds.append(1), real_kinds(*a, **k))[1])
    push.drain(shop.lanes["b"])
    assert looked == [] and len(kinds) == 1  # not one query per kind
    shop.platform("a").place_order([("A", 1)])
    shop.runners["a"].poll()
    looked.clear()
    assert push.drain(shop.lanes["b"]).ok == 1
    assert looked == ["stock"]  # only the kind that has rows due
    assert shop.platform("b").stock("A") == 9


def test_release_makes_every_held_row_due_in_one_statement(shop):
    now = utcnow()
    with shop.store.write():
        for code in ("A", "B"):
            outbox.queue(shop.store, "b", code, "stock", now)
            outbox.hold(shop.store, {"channel": "b", "sku_code": code, "kind": "stock"}, now)
    assert outbox.due(shop.store, "b", "stock", 10, now) == []
    statements: list[str] = []
    shop.store.db.conn.set_trace_callback(statements.append)
    try:
        with shop.store.write():
            outbox.release(shop.store, "b", ["A", "B"], now=now)
    finally:
        shop.store.db.conn.set_trace_callback(None)
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in statements) == 1
    assert [r["sku_code"] for r in outbox.due(shop.store, "b", "stock", 10, now)] == ["A", "B"]


def test_release_leaves_a_row_due_already_as_it_was(shop):
    """Only rows that wait are moved: one due already keeps its time (its place in the queue),
    and is not written (after a resync every listing's push was rewritten for nothing)."""
    now = utcnow()
    earlier = now - timedelta(seconds=5)
    with shop.store.write():
        outbox.queue(shop.store, "b", "A", "stock", earlier)
        outbox.queue(shop.store, "b", "B", "stock", now)
        outbox.hold(shop.store, {"channel": "b", "sku_code": "B", "kind": "stock"}, now)
    before = shop.store.conn.total_changes
    with shop.store.write():
        outbox.release(shop.store, "b", ["A", "B"], now=now)
    assert shop.store.conn.total_changes - before == 1  # B's row alone
    due = outbox.due(shop.store, "b", "stock", 10, now)
    assert [(r["sku_code"], r["next_at"]) for r in due] == [("A", ts(earlier)), ("B", ts(now))]


def test_a_poll_ingests_while_its_channels_push_is_on_the_wire_except_the_skus_it_carries(shop, monkeypatch):
    from channelsync.sync import lane as lanes, runner as runners

    lane = shop.lanes["b"]
    on_wire, answer, waiting = threading.Event(), threading.Event(), threading.Event()
    real_set = lane.adapter.set_stock

    def set_stock(updates):
        on_wire.set()
        answer.wait(30)
        return real_set(updates)

    lane.adapter.set_stock = set_stock
    real_busy = lanes.Flights.busy

    def busy(self, skus=None):
        found = real_busy(self, skus)
        if found and skus is not None and "A" in skus:
            waiting.set()  # the ingest of b's own sale of A found A's call on the wire
        return found

    monkeypatch.setattr(lanes.Flights, "busy", busy)
    ingested = []
    real_ingest = runners.ingest

    def ingest(store, config, cfg, orders, **kw):
        ingested.append(({line.sku_code for o in orders for line in o.lines}, lane.flights.busy()))
        return real_ingest(store, config, cfg, orders, **kw)

    monkeypatch.setattr(runners, "ingest", ingest)
    shop.platform("a").place_order([("A", 3)])
    shop.runners["a"].poll()
    pushing = threading.Thread(target=beside, args=(shop, lane, ChannelRunner.drain))
    pushing.start()
    try:
        assert on_wire.wait(30)
        # b sells B while its push of A is on the wire: the poll ingests it at once
        shop.platform("b").place_order([("B", 2)])
        assert shop.runners["b"].poll().orders_changed == 1
        assert ingested[-1] == ({"B"}, True) and not answer.is_set()
        # b sells A: that ingest waits for A's call to land and settle
        shop.platform("b").place_order([("A", 1)])
        polling = threading.Thread(target=beside, args=(shop, lane, lambda r: r.poll()))
        polling.start()
        assert waiting.wait(30)
    finally:
        answer.set()
        pushing.join(30)
    polling.join(30)
    assert not pushing.is_alive() and not polling.is_alive()
    assert ingested[-1] == ({"A"}, False)
    shop.settle()
    assert shop.platform("b").stock("A") == 6 == shop.expected("b", "A")  # 10 - 3 (a) - 1 (b)
    assert shop.platform("b").stock("B") == 8 == shop.expected("b", "B")
    assert shop.platform("a").stock("A") == 6 and shop.platform("a").stock("B") == 8


def test_a_second_push_thread_sends_what_arrives_while_a_batch_is_on_the_wire_and_only_that(shop):
    lane = shop.lanes["b"]
    on_wire, answer = threading.Event(), threading.Event()
    real_set = lane.adapter.set_stock
    sent: list[list[str]] = []

    def set_stock(updates):
        sent.append([u.sku_code for u in updates])
        if len(sent) == 1:  # the first batch's answer is slow
            on_wire.set()
            answer.wait(30)
        return real_set(updates)

    lane.adapter.set_stock = set_stock
    shop.platform("a").place_order([("A", 3)])
    shop.runners["a"].poll()
    first = threading.Thread(target=beside, args=(shop, lane, ChannelRunner.drain))
    first.start()
    try:
        assert on_wire.wait(30)
        shop.platform("a").place_order([("B", 2)])
        shop.runners["a"].poll()
        second = threading.Thread(target=beside, args=(shop, lane, ChannelRunner.drain))
        second.start()
        second.join(30)
        assert not second.is_alive() and not answer.is_set()
        assert sent == [["A"], ["B"]]  # B went beside A's batch; A, on the wire, was not sent again
        assert shop.platform("b").stock("B") == 8
    finally:
        answer.set()
        first.join(30)
    assert not first.is_alive()
    shop.settle()
    assert sent == [["A"], ["B"]]
    assert shop.platform("b").stock("A") == 7 == shop.expected("b", "A")
    assert shop.platform("b").stock("B") == 8 == shop.expected("b", "B")
