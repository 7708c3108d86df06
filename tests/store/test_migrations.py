"""Migrations: applied once, recorded, idempotent; the schema's own guards."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from channelsync.store import Store
from channelsync.store.migrations import migrations

TABLES = {"products", "skus", "bundle_components", "warehouses", "stock", "stock_movements", "channels",
          "listings", "unmatched_listings", "orders", "order_lines", "outbox", "requests", "daemon",
          "credentials", "store_keys", "low_stock", "intake"}
NOW = "2026-06-01T00:00:00.000000+00:00"
#: every migration, in order (other issues add theirs; the tests below need not name them)
ALL = [m.name for m in migrations._migrations]


def applied(db: sqlite_utils.Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]


def test_a_new_database_gets_the_whole_schema(store):
    assert TABLES <= set(store.db.table_names())
    assert applied(store.db) == ALL and ALL[:2] == ["m001_initial", "m002_credentials"]
    assert {"m150_intake", "m170_low_stock", "m171_resync_cursor", "m180_learnt_rate"} <= set(ALL)
    assert migrations.pending(store.db) == []


def test_migrations_record_themselves_in_their_table(store):
    rows = store.query("SELECT migration_set, name, applied_at FROM _sqlite_migrations ORDER BY id")
    assert [(r["migration_set"], r["name"]) for r in rows] == [("channelsync", name) for name in ALL]
    assert all(r["applied_at"] for r in rows)


def test_reopening_applies_nothing_again_and_keeps_the_data(tmp_path):
    path = tmp_path / "cs.db"
    first = Store(path)
    first.execute("INSERT INTO warehouses (code, name) VALUES ('main', 'Main')")
    first.close()
    second = Store(path)
    third = Store(path)  # a second connection opening while the first is open
    try:
        assert second.scalar("SELECT COUNT(*) FROM _sqlite_migrations") == len(ALL)
        assert second.scalar("SELECT name FROM warehouses") == "Main"
        assert applied(third.db) == ALL
    finally:
        second.close()
        third.close()


def test_an_old_database_is_brought_up_to_date(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m002_credentials")  # as a release before credentials left it
    db.execute("INSERT INTO warehouses (code, name) VALUES ('main', 'Main')")
    db.conn.commit()
    assert "credentials" not in db.table_names()
    db.close()

    store = Store(path)
    try:
        assert "credentials" in store.db.table_names()
        assert applied(store.db) == ALL
        assert store.scalar("SELECT name FROM warehouses") == "Main"
    finally:
        store.close()


def test_migration_names_are_numbered_in_order():
    names = [m.name for m in migrations._migrations]
    assert names == sorted(names)
    assert all(n[0] == "m" and n[1:4].isdigit() for n in names)


# --- the schema's guards ---------------------------------------------------------------------


def seed(store: Store) -> None:
    store.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', ?)", (NOW,))
    store.execute("INSERT INTO skus (code, product_code, base_price, updated_at) VALUES ('S', 'P', 100, ?)", (NOW,))
    store.execute("INSERT INTO stock_movements (at, sku_code, warehouse, delta, reason) "
                  "VALUES (?, 'S', 'main', 5, 'import')", (NOW,))


def test_the_ledger_is_append_only(store):
    seed(store)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("UPDATE stock_movements SET delta = 6")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("DELETE FROM stock_movements")
    assert store.scalar("SELECT SUM(delta) FROM stock_movements") == 5
    store.execute("INSERT INTO stock_movements (at, sku_code, warehouse, delta, reason) "
                  "VALUES (?, 'S', 'main', -2, 'shipment')", (NOW,))  # appending is fine
    assert store.scalar("SELECT SUM(delta) FROM stock_movements") == 3


@pytest.mark.parametrize("sql", [
    "INSERT INTO skus (code, product_code, base_price, updated_at) VALUES ('X', 'P', -1, 'now')",
    "INSERT INTO skus (code, product_code, base_price, cost, updated_at) VALUES ('X', 'P', 1, -1, 'now')",
    "INSERT INTO skus (code, product_code, base_price, status, updated_at) VALUES ('X', 'P', 1, 'gone', 'now')",
    "INSERT INTO products (code, title, status, updated_at) VALUES ('Q', 'Q', 'archived', 'now')",
    "INSERT INTO bundle_components (bundle_code, component_code, qty) VALUES ('S', 'S', 0)",
    "INSERT INTO stock_movements (at, sku_code, warehouse, delta, reason) VALUES ('now', 'S', 'main', 1, 'gift')",
    ("INSERT INTO outbox (channel, sku_code, kind, next_at, queued_at, updated_at) "
     "VALUES ('c', 'S', 'colour', 'now', 'now', 'now')"),
    ("INSERT INTO outbox (channel, sku_code, kind, status, next_at, queued_at, updated_at) "
     "VALUES ('c', 'S', 'stock', 'done', 'now', 'now', 'now')"),
    "INSERT INTO requests (kind, status, created_at, updated_at) VALUES ('resync', 'lost', 'now', 'now')",
    "INSERT INTO daemon (id) VALUES (2)",
    "INSERT INTO after_sales (order_id, line_no, at, kind, quantity, source) VALUES (1, 1, 'now', 'lost', 1, 'x')",
    "INSERT INTO shipments (order_id, source, at) VALUES (1, 'pigeon', 'now')",
])
def test_check_constraints_reject_bad_values(store, sql):
    seed(store)
    store.execute("INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, "
                  "updated_at) VALUES ('c', 'O1', 'paid', ?, ?, ?, ?)", (NOW,) * 4)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.execute(sql)


def test_order_lines_need_a_positive_quantity_and_an_order(store):
    store.execute("INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, "
                  "updated_at) VALUES ('c', 'O1', 'paid', ?, ?, ?, ?)", (NOW,) * 4)
    oid = store.scalar("SELECT id FROM orders")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.execute("INSERT INTO order_lines (order_id, line_no, sku_code, quantity) VALUES (?, 1, 'S', 0)", (oid,))
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        store.execute("INSERT INTO order_lines (order_id, line_no, sku_code, quantity) VALUES (999, 1, 'S', 1)")


@pytest.mark.parametrize("sql", [
    ("INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, updated_at) "
     "VALUES ('c', 'O1', 'paid', 'now', 'now', 'now', 'now')"),
    "INSERT INTO listings (channel, sku_code, external_id, linked_at) VALUES ('c', 'B', 'E1', 'now')",
    ("INSERT INTO outbox (channel, sku_code, kind, next_at, queued_at, updated_at) "
     "VALUES ('c', 'S', 'stock', 'now', 'now', 'now')"),
])
def test_uniqueness(store, sql):
    store.execute("INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, "
                  "updated_at) VALUES ('c', 'O1', 'new', 'now', 'now', 'now', 'now')")
    store.execute("INSERT INTO listings (channel, sku_code, external_id, linked_at) VALUES ('c', 'A', 'E1', 'now')")
    store.execute("INSERT INTO outbox (channel, sku_code, kind, next_at, queued_at, updated_at) "
                  "VALUES ('c', 'S', 'stock', 'now', 'now', 'now')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        store.execute(sql)


# --- m160: after-sales and reservations by warehouse -------------------------------------------

def test_an_open_order_from_before_warehouses_keeps_its_reservation_everywhere(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m160_after_sales")
    db.executescript(f"""
        INSERT INTO warehouses VALUES ('main', 'Main');
        INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', '{NOW}');
        INSERT INTO skus (code, product_code, base_price, updated_at) VALUES ('A', 'P', 1, '{NOW}'),
            ('B', 'P', 1, '{NOW}'), ('AB', 'P', 1, '{NOW}');
        INSERT INTO bundle_components VALUES ('AB', 'A', 1), ('AB', 'B', 2);
        INSERT INTO stock_movements (at, sku_code, warehouse, delta, reason) VALUES ('{NOW}', 'A', 'main', 9, 'import');
        INSERT INTO orders (id, channel, external_id, status, created_at, modified_at, first_seen_at, updated_at,
                            held, shipped) VALUES
            (1, 'tb', 'O1', 'paid', '{NOW}', '{NOW}', '{NOW}', '{NOW}', 1, 0),
            (2, 'tb', 'O2', 'shipped', '{NOW}', '{NOW}', '{NOW}', '{NOW}', 1, 1),
            (3, 'tb', 'O3', 'cancelled', '{NOW}', '{NOW}', '{NOW}', '{NOW}', 0, 0);
        INSERT INTO order_lines (order_id, line_no, sku_code, quantity, reserved) VALUES
            (1, 1, 'A', 2, 1), (1, 2, 'AB', 3, 1), (2, 1, 'A', 4, 0), (3, 1, 'A', 5, 0);
    """)
    db.conn.commit()
    db.close()
    store = Store(path)
    try:
        rows = store.query("SELECT order_id, line_no, sku_code, warehouse, quantity FROM reservations "
                           "ORDER BY order_id, line_no, sku_code")
        assert [tuple(r.values()) for r in rows] == [(1, 1, "A", None, 2), (1, 2, "A", None, 3),
                                                     (1, 2, "B", None, 6)]
        lines = store.query("SELECT order_id, held, released, shipped FROM order_lines ORDER BY order_id")
        assert [tuple(r.values()) for r in lines] == [(1, 2, 0, 0), (1, 3, 0, 0), (2, 4, 0, 4), (3, 0, 5, 0)]
        assert "reserved" not in {c.name for c in store.db["order_lines"].columns}
        # the rebuilt ledger keeps its rows, its guards and now takes 'damaged'
        assert store.scalar("SELECT SUM(delta) FROM stock_movements") == 9
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.execute("DELETE FROM stock_movements")
        store.execute("INSERT INTO stock_movements (at, sku_code, warehouse, delta, reason) "
                      "VALUES (?, 'A', 'main', -1, 'damaged')", (NOW,))
        assert {r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE tbl_name = 'stock_movements'")} \
            >= {"stock_movements", "stock_movements_sku", "stock_movements_no_update", "stock_movements_no_delete"}
    finally:
        store.close()
