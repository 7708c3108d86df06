"""IN-lists under SQLite's variable limit: ``store.sqlin`` and a caller with more SKUs than one list holds.

Builds of SQLite differ (Debian's allows 250,000 variables, the default since 3.32 is
32,766, older ones 999); the tests lower the limit on the connection itself, so they
fail wherever a statement would outgrow a stock build's.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import inventory
from channelsync.store import Store, ts
from channelsync.store.sqlin import CHUNK, chunks, marks

T0 = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def test_chunks_keep_order_and_size_and_marks_count_values():
    assert list(chunks(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 3)) == [] and list(chunks(iter("ab"))) == [["a", "b"]]
    assert marks(["a", "b", "c"]) == "?,?,?" and marks(()) == ""


def test_queue_stock_reads_more_listings_than_one_in_list_holds(tmp_path):
    """A config reload queues every listed SKU at once (``daemon.upkeep``): more codes than
    a statement may bind must be read chunk by chunk, not refused by SQLite."""
    store = Store(tmp_path / "s.db")
    try:
        n = CHUNK + 50
        store.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, CHUNK + 1)  # a chunk and one more parameter
        config = Config(path=None, db_path=Path("unused"), channels={"tb": ChannelConfig(name="tb", plugin="fake")})
        codes = [f"S{i:05d}" for i in range(n)]
        with store.write():
            store.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', ?)", (ts(T0),))
            store.conn.executemany("INSERT INTO skus (code, product_code, base_price, status, updated_at) "
                                   "VALUES (?, 'P', 100, 'active', ?)", [(c, ts(T0)) for c in codes])
            store.conn.executemany("INSERT INTO listings (channel, sku_code, external_id, expected, linked_at) "
                                   "VALUES ('tb', ?, ?, 5, ?)", [(c, f"x{c}", ts(T0)) for c in codes])
            # no stock: every listing wants 0 against the 5 it shows, so each one is queued
            assert inventory.queue_stock(store, config, codes, T0) == n
            assert inventory.queue_stock(store, config, codes, T0, channel="tb") == n
        assert store.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'stock'") == n
    finally:
        store.close()
