"""Durability as docs/durability.md states it: the SQLite settings, and a power loss that
rolls back a suffix of commits is repaired by the re-poll window and the start-up resync."""

import shutil

from channelsync.engine import inventory
from channelsync.store import Store
from channelsync.store.db import SYNCHRONOUS
from channelsync.testing.harness import Shop

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_every_connection_commits_durably(tmp_path):
    assert SYNCHRONOUS == "FULL"
    for _ in range(2):  # a new database, then an existing one
        store = Store(tmp_path / "cs.db")
        try:
            assert store.scalar("PRAGMA synchronous") == FULL, "every COMMIT is fsynced"
            assert store.scalar("PRAGMA journal_mode") == "wal"
            assert store.scalar("PRAGMA busy_timeout") > 0
        finally:
            store.close()


def snapshot(shop: Shop, to) -> None:
    shop.close()  # a clean close checkpoints the WAL into the file
    shutil.copy(shop.config.db_path, to)
    shop.open()


def test_a_lost_suffix_of_commits_is_re_polled_and_repaired(tmp_path):
    """As if a lying disk lost every commit after the snapshot: orders ingested and pushes
    settled since are gone from the database, not from the platforms."""
    shop = Shop(tmp_path, {"a": {"initial_lookback": 3600}, "b": {"initial_lookback": 3600},
                           "w": {"initial_lookback": 3600, "stock_mode": "absolute"}})
    for name in ("a", "b", "w"):
        shop.platform(name).seed("A", 0, 1000)
        shop.platform(name).seed("B", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,20\nP,B,10.00,9\n")
    shop.resync_all()
    shop.settle()
    snapshot(shop, tmp_path / "before.db")
    placed = [shop.platform("a").place_order([("A", 2)]), shop.platform("b").place_order([("A", 1), ("B", 3)]),
              shop.platform("w").place_order([("B", 1)])]
    shop.platform("a").cancel(placed[0].order_id)
    shop.settle()
    assert shop.store.scalar("SELECT COUNT(*) FROM orders") == 3
    # the power loss: the commits since the snapshot are lost
    shop.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"shop.db{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "before.db", shop.config.db_path)
    shop.open()
    assert shop.store.scalar("SELECT COUNT(*) FROM orders") == 0, "the rollback really lost the orders"
    shop.resync_all()  # what every daemon start does first
    shop.settle()
    rows = shop.store.query("SELECT channel, external_id, status FROM orders ORDER BY id")
    assert sorted((r["channel"], r["external_id"]) for r in rows) == sorted(
        [("a", placed[0].order_id), ("b", placed[1].order_id), ("w", placed[2].order_id)]), "each order once"
    assert {(r["channel"], r["external_id"]): r["status"] for r in rows}[("a", placed[0].order_id)] == "cancelled"
    for name in ("a", "b", "w"):
        cfg = shop.config.channels[name]
        for sku in ("A", "B"):
            assert shop.platform(name).stock(sku) == inventory.channel_target(shop.store, cfg, sku), (name, sku)
