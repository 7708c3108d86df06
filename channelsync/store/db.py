"""SQLite via sqlite-utils: connection set-up, write transactions, migrations.

Every state change is one ``with store.write():`` block (``BEGIN IMMEDIATE``),
so ``kill -9`` at any instant leaves either all of it or none. Each thread
opens its own ``Store``; WAL lets readers run beside the one writer.
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils
from sqlite_utils import Migrations

BUSY_TIMEOUT_MS = 30_000

migrations = Migrations("channelsync")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def ts(dt: datetime | None) -> str | None:
    """Stored form of a time: UTC ISO-8601 with microseconds, so text order is time order."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: channelsync stores only timezone-aware times")
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class Store:
    """One connection to the channelsync database."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit BEGINs; transactions are explicit below
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(self.db)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work; takes the write lock up front (no upgrade deadlocks)."""
        if self.conn.in_transaction:  # nested: part of the outer unit
            yield self.db
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: Any = ()) -> list[dict]:
        return list(self.db.query(sql, params))

    def one(self, sql: str, params: Any = ()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE products (
            code TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'discontinued')),
            updated_at TEXT NOT NULL);
        CREATE TABLE skus (
            code TEXT PRIMARY KEY, product_code TEXT NOT NULL REFERENCES products(code),
            title TEXT NOT NULL DEFAULT '', barcode TEXT, attributes TEXT NOT NULL DEFAULT '{}',
            base_price INTEGER NOT NULL CHECK (base_price >= 0), cost INTEGER CHECK (cost >= 0),
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'discontinued')),
            updated_at TEXT NOT NULL);
        CREATE INDEX skus_product ON skus(product_code);
        CREATE TABLE bundle_components (
            bundle_code TEXT NOT NULL REFERENCES skus(code), component_code TEXT NOT NULL REFERENCES skus(code),
            qty INTEGER NOT NULL CHECK (qty > 0), PRIMARY KEY (bundle_code, component_code));
        CREATE INDEX bundle_components_component ON bundle_components(component_code);
        CREATE TABLE warehouses (code TEXT PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE stock (
            sku_code TEXT NOT NULL REFERENCES skus(code), warehouse TEXT NOT NULL REFERENCES warehouses(code),
            on_hand INTEGER NOT NULL, PRIMARY KEY (sku_code, warehouse));
        CREATE TABLE stock_movements (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, sku_code TEXT NOT NULL,
            warehouse TEXT NOT NULL, delta INTEGER NOT NULL, reason TEXT NOT NULL
              CHECK (reason IN ('import', 'set', 'adjust', 'shipment', 'return', 'count')),
            reference TEXT, actor TEXT);
        CREATE INDEX stock_movements_sku ON stock_movements(sku_code, warehouse);
        -- the ledger is append-only: on-hand is provably its sum
        CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
            BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END;
        CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
            BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END;
        CREATE TABLE channels (
            name TEXT PRIMARY KEY, plugin TEXT NOT NULL, order_cursor TEXT,
            last_poll_at TEXT, last_poll_ok_at TEXT, last_push_at TEXT, last_resync_at TEXT,
            health TEXT NOT NULL DEFAULT 'unknown', last_error TEXT, token_expires_at TEXT);
        CREATE TABLE listings (
            channel TEXT NOT NULL, sku_code TEXT NOT NULL, external_id TEXT NOT NULL, item_id TEXT,
            expected INTEGER, pushed_qty INTEGER, pushed_at TEXT, pushed_price INTEGER,
            seen_qty INTEGER, seen_price INTEGER, seen_on_shelf INTEGER, seen_title TEXT, seen_at TEXT,
            linked_at TEXT NOT NULL,
            PRIMARY KEY (channel, sku_code), UNIQUE (channel, external_id));
        CREATE INDEX listings_sku ON listings(sku_code);
        CREATE TABLE unmatched_listings (
            channel TEXT NOT NULL, external_id TEXT NOT NULL, item_id TEXT, sku_code TEXT,
            title TEXT, reason TEXT NOT NULL, seen_at TEXT NOT NULL, PRIMARY KEY (channel, external_id));
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, external_id TEXT NOT NULL,
            status TEXT NOT NULL, platform_status TEXT, created_at TEXT NOT NULL, modified_at TEXT NOT NULL,
            first_seen_at TEXT NOT NULL, updated_at TEXT NOT NULL, total INTEGER,
            carrier TEXT, tracking_no TEXT, unmatched_lines INTEGER NOT NULL DEFAULT 0,
            -- held: the platform's own number has these units taken off (expected was lowered)
            -- shipped: the on-hand ledger has the shipment written
            held INTEGER NOT NULL DEFAULT 0, shipped INTEGER NOT NULL DEFAULT 0,
            UNIQUE (channel, external_id));
        CREATE INDEX orders_status ON orders(status);
        CREATE TABLE order_lines (
            order_id INTEGER NOT NULL REFERENCES orders(id), line_no INTEGER NOT NULL,
            sku_code TEXT, external_sku_id TEXT, quantity INTEGER NOT NULL CHECK (quantity > 0),
            price INTEGER,
            -- 1 while the order is paid and not shipped/closed; set with the order's status
            -- so that reserved(sku) reads only open lines through the partial index below
            reserved INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (order_id, line_no));
        CREATE INDEX order_lines_sku ON order_lines(sku_code);
        CREATE INDEX order_lines_reserved ON order_lines(sku_code) WHERE reserved = 1;
        CREATE TABLE outbox (
            channel TEXT NOT NULL, sku_code TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('stock', 'price', 'listing', 'shelf', 'publish')),
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0, next_at TEXT NOT NULL, queued_at TEXT NOT NULL,
            inflight_key TEXT, inflight_target INTEGER, inflight_delta INTEGER,
            last_error TEXT, updated_at TEXT NOT NULL,
            PRIMARY KEY (channel, sku_code, kind));
        CREATE INDEX outbox_due ON outbox(channel, status, next_at);
        CREATE TABLE requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, channel TEXT,
            args TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending', 'running', 'done', 'failed')),
            result TEXT, progress TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE daemon (
            id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, started_at TEXT, heartbeat_at TEXT);
        """
    )


@migrations()
def m002_credentials(db: sqlite_utils.Database) -> None:
    # Tokens a platform renewed (a refresh token is often retired on use). ``replaces`` is a
    # fingerprint of the configured value it supersedes: once the operator changes the
    # config, the stored one no longer applies.
    db.executescript(
        """
        CREATE TABLE credentials (
            channel TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, replaces TEXT NOT NULL,
            updated_at TEXT NOT NULL, PRIMARY KEY (channel, key));
        """
    )
