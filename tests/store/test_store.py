"""Store: connection set-up, write transactions (nested ones join the outer), stored times."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from channelsync.store import Store, StoreBusy, parse_ts, ts, utcnow


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state" / "cs.db")  # the parent folder is created
    yield s
    s.close()


def names(store: Store) -> list[str]:
    return [r["name"] for r in store.query("SELECT name FROM warehouses ORDER BY name")]


def add(store: Store, code: str) -> None:
    store.execute("INSERT INTO warehouses (code, name) VALUES (?, ?)", (code, code))


class Boom(Exception):
    pass


def test_connection_pragmas(store):
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA busy_timeout") == 5_000  # one wait slice; Store.write keeps waiting after it


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.execute("INSERT INTO skus (code, product_code, base_price, updated_at) VALUES ('S', 'NOPE', 1, 'x')")


def test_a_write_commits(store, tmp_path):
    with store.write() as db:
        add(store, "a")
        assert store.conn.in_transaction
        assert db is store.db
    assert not store.conn.in_transaction
    other = Store(store.path)  # another connection sees it: committed, not just visible to this one
    assert names(other) == ["a"]
    other.close()


def test_an_exception_rolls_the_write_back(store):
    with pytest.raises(Boom), store.write():
        add(store, "a")
        raise Boom
    assert names(store) == []
    assert not store.conn.in_transaction
    with store.write():  # and the store is usable again
        add(store, "b")
    assert names(store) == ["b"]


def test_a_base_exception_rolls_back_too(store):
    with pytest.raises(KeyboardInterrupt), store.write():
        add(store, "a")
        raise KeyboardInterrupt
    assert names(store) == []
    assert not store.conn.in_transaction


def test_a_failed_statement_inside_rolls_back_the_earlier_ones(store):
    with pytest.raises(sqlite3.IntegrityError), store.write():
        add(store, "a")
        add(store, "a")  # duplicate primary key
    assert names(store) == []


def test_nested_write_joins_the_outer_transaction(store):
    with store.write():
        add(store, "outer")
        with store.write() as inner_db:
            assert inner_db is store.db
            add(store, "inner")
        assert store.conn.in_transaction  # the inner block did not commit
    assert names(store) == ["inner", "outer"]


def test_an_error_in_the_outer_block_rolls_back_the_inner_writes(store):
    with pytest.raises(Boom), store.write():
        add(store, "outer")
        with store.write():
            add(store, "inner")
        raise Boom
    assert names(store) == []


def test_an_error_escaping_both_blocks_rolls_back_all(store):
    with pytest.raises(Boom), store.write():
        add(store, "outer")
        with store.write():
            add(store, "inner")
            raise Boom
    assert names(store) == []


def test_an_inner_error_caught_by_the_outer_block_undoes_only_the_inner_writes(store):
    # A nested block is a savepoint: what it wrote before failing is undone, the outer unit goes on.
    with store.write():
        add(store, "outer")
        try:
            with store.write():
                add(store, "inner")
                raise Boom
        except Boom:
            pass
        assert store.conn.in_transaction
        add(store, "after")
    assert names(store) == ["after", "outer"]


def test_a_second_connection_cannot_write_while_a_write_is_open(store):
    other = sqlite3.connect(store.path, timeout=0.1, isolation_level=None)
    try:
        with store.write():
            add(store, "a")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # WAL: readers still read, and see the last committed state
            assert other.execute("SELECT COUNT(*) FROM warehouses").fetchone()[0] == 0
        other.execute("BEGIN IMMEDIATE")  # free again once committed
        other.execute("ROLLBACK")
        assert other.execute("SELECT COUNT(*) FROM warehouses").fetchone()[0] == 1
    finally:
        other.close()


def test_write_takes_the_lock_up_front(store):
    other = sqlite3.connect(store.path, timeout=0.1, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        # BEGIN IMMEDIATE: refused when entering, before any statement of the block runs
        entered = []
        store.execute("PRAGMA busy_timeout = 100")
        store.lock_timeout = 0.2
        with pytest.raises(StoreBusy, match="locked by another process"):
            with store.write():
                entered.append(True)
        assert entered == []
        assert not store.conn.in_transaction
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_helpers(store):
    assert store.one("SELECT code FROM warehouses") is None
    assert store.scalar("SELECT code FROM warehouses") is None
    add(store, "a")  # outside write(): autocommit, one statement
    assert store.one("SELECT code, name FROM warehouses WHERE code = ?", ("a",)) == {"code": "a", "name": "a"}
    assert store.query("SELECT code FROM warehouses") == [{"code": "a"}]
    assert store.scalar("SELECT COUNT(*) FROM warehouses") == 1


def test_in_memory_store():
    s = Store(":memory:")
    assert "outbox" in s.db.table_names()
    s.close()


# --- times --------------------------------------------------------------------------------

CST = timezone(timedelta(hours=8))


def test_ts_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        ts(datetime(2026, 6, 1, 12, 0))


def test_ts_is_utc_with_microseconds():
    assert ts(datetime(2026, 6, 1, 8, 0, tzinfo=CST)) == "2026-06-01T00:00:00.000000+00:00"
    assert ts(datetime(2026, 6, 1, 0, 0, 0, 1, tzinfo=timezone.utc)) == "2026-06-01T00:00:00.000001+00:00"
    assert ts(None) is None


def test_text_order_is_time_order():
    base = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    times = [base, base + timedelta(microseconds=1), base + timedelta(seconds=1),
             (base + timedelta(microseconds=500)).astimezone(CST),  # later, but "20:00" local
             (base - timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5))),
             base + timedelta(days=400)]
    assert sorted(times, key=ts) == sorted(times)


def test_parse_ts_round_trips():
    for dt in (datetime(2026, 6, 1, 8, 30, 1, 123456, tzinfo=CST), utcnow()):
        back = parse_ts(ts(dt))
        assert back == dt and back.tzinfo is not None
        assert back.utcoffset() == timedelta(0)
    assert parse_ts(None) is None


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.utcoffset() == timedelta(0)
