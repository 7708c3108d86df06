"""The schema, as numbered migrations (sqlite-utils runs each once, in its own transaction)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("channelsync")


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


@migrations()
def m120_request_owner(db: sqlite_utils.Database) -> None:
    # Who is running a request (the daemon's or a CLI's pid) and how many times it was
    # started: a request whose runner died is resumed, at most a few times, then failed
    # with a message, never left ``running`` (daemon/handoff.py).
    db.executescript(
        """
        ALTER TABLE requests ADD COLUMN owner_pid INTEGER;
        ALTER TABLE requests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        """
    )
