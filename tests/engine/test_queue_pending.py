"""Queueing stock pushes for rows still pending: the same rows as the upsert, by a cheaper statement.

``inventory.queue_stock`` reads each listing's outbox row with it: a row still pending
(an 11.11 ingest page mostly finds those, queued by the page before) only gets its
``updated_at`` (``outbox.queue_pending``), a failed or missing one the upsert
(``outbox.queue_many``), an agreeing idle one is dropped. The outcome must be exactly
what the upsert for every row gave.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from channelsync.config.settings import ChannelConfig, Config, StockRules
from channelsync.engine import inventory, outbox
from channelsync.store import Store, ts

T0 = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
T1 = T0 + timedelta(seconds=7)


@pytest.fixture
def stores(tmp_path):
    pair = [Store(tmp_path / "a.db"), Store(tmp_path / "b.db")]
    yield pair
    for s in pair:
        s.close()


def state(store: Store) -> list[tuple]:
    return store.execute("SELECT * FROM outbox ORDER BY channel, sku_code, kind").fetchall()


def setup(store: Store) -> None:
    """Rows in every state: pending, pending with a call in flight, failed, other kind."""
    outbox.queue_many(store, [("tb", "A"), ("tb", "B"), ("tb", "C"), ("jd", "A")], "stock", T0)
    outbox.queue(store, "tb", "A", "price", T0)
    outbox.mark_in_flight(store, {"channel": "tb", "sku_code": "B", "kind": "stock"}, "k1", 5, -1)
    outbox.retry_later(store, {"channel": "tb", "sku_code": "C", "kind": "stock"}, 30, "busy", T0)
    outbox.park(store, {"channel": "jd", "sku_code": "A", "kind": "stock"}, "refused", T0)


def test_queue_pending_leaves_every_row_as_the_upsert_does(stores):
    upsert, touch = stores
    for s in stores:
        setup(s)
    rows = [("tb", "A"), ("tb", "B"), ("tb", "C")]  # pending: plain, in flight, backing off
    outbox.queue_many(upsert, rows, "stock", T1)
    outbox.queue_pending(touch, rows, "stock", T1)
    assert state(touch) == state(upsert)
    assert outbox.due(touch, "tb", "stock", 10, T1 + timedelta(seconds=60))[0]["updated_at"] == ts(T1)


def test_queue_pending_given_rows_that_are_not_pending_upserts_them(stores):
    upsert, touch = stores
    for s in stores:
        setup(s)
    rows = [("jd", "A"), ("tb", "A"), ("tb", "NEW")]  # failed (revived), pending, missing (created)
    outbox.queue_many(upsert, rows, "stock", T1)
    outbox.queue_pending(touch, rows, "stock", T1)
    assert state(touch) == state(upsert)
    assert outbox.depth(touch, "jd") == {"pending": 1, "failed": 0}


def test_queue_stock_touches_pending_rows_and_upserts_only_the_others(stores):
    config = Config(path=None, db_path=Path("unused"), channels={
        n: ChannelConfig(name=n, plugin="fake", rules=StockRules(buffer=b))
        for n, b in (("tb", 0), ("jd", 1), ("pdd", 2))})
    for s in stores:
        s.execute("INSERT INTO warehouses (code, name) VALUES ('main', 'Main')")
        s.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', ?)", (ts(T0),))
        for code in "ABC":
            s.execute("INSERT INTO skus (code, product_code, base_price, status, updated_at) "
                      "VALUES (?, 'P', 100, 'active', ?)", (code, ts(T0)))
            inventory.move(s, code, "main", 10, "import")
            for channel, expected in (("tb", 10), ("jd", 3), ("pdd", 3)):  # tb agrees; jd, pdd want 9, 8
                s.execute("INSERT INTO listings (channel, sku_code, external_id, expected, linked_at) "
                          "VALUES (?, ?, ?, ?, ?)", (channel, code, f"{channel}-{code}", expected, ts(T0)))
        outbox.queue_many(s, [("jd", "A"), ("jd", "B"), ("tb", "A"), ("tb", "B")], "stock", T0)
        outbox.mark_in_flight(s, {"channel": "tb", "sku_code": "B", "kind": "stock"}, "k1", 10, 1)
        outbox.park(s, {"channel": "jd", "sku_code": "B", "kind": "stock"}, "refused", T0)
    plain, known = stores
    # the upsert for every row wanted, and the read-then-drop of agreeing ones, as before
    assert inventory.queue_stock(plain, config, "ABC", T1, channel="jd") \
        + inventory.queue_stock(plain, config, "ABC", T1, channel="pdd") \
        + inventory.queue_stock(plain, config, "ABC", T1, channel="tb") == 6
    statements: list[str] = []
    known.conn.set_trace_callback(statements.append)
    try:
        assert inventory.queue_stock(known, config, "ABC", T1) == 6
    finally:
        known.conn.set_trace_callback(None)
    assert state(known) == state(plain)
    # tb A (agreeing, idle) dropped; tb B kept (its call is in flight); jd B revived; pdd created
    assert [(r[0], r[1], r[3]) for r in state(known)] == [
        ("jd", "A", "pending"), ("jd", "B", "pending"), ("jd", "C", "pending"), ("pdd", "A", "pending"),
        ("pdd", "B", "pending"), ("pdd", "C", "pending"), ("tb", "B", "pending")]
    upserts = [s for s in statements if s.lstrip().startswith("INSERT INTO outbox")]
    touches = [s for s in statements if s.startswith("UPDATE outbox SET updated_at")]
    assert len(upserts) == 5 and len(touches) == 1  # jd B, jd C, pdd A-C upserted; jd A touched
