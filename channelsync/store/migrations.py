"""The schema, as numbered migrations (sqlite-utils runs each once, in its own transaction)."""

from __future__ import annotations

import re

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
def m110_store_keys(db: sqlite_utils.Database) -> None:
    # Random keys made for this database (never derived from a configured secret): the
    # credentials' fingerprint key. Renewed tokens fingerprinted with the old unsalted
    # SHA-256 are dropped: they could confirm a guessed secret; the configured values apply.
    # Each channel's poll and push outcomes are kept apart, so a failing order poll is never
    # overwritten by a push round's "ok" (``health`` stays the combined word).
    db.executescript(
        """
        CREATE TABLE store_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        DELETE FROM credentials WHERE replaces NOT LIKE 'hmac-sha256:%';
        ALTER TABLE channels ADD COLUMN poll_health TEXT NOT NULL DEFAULT 'unknown';
        ALTER TABLE channels ADD COLUMN poll_error TEXT;
        ALTER TABLE channels ADD COLUMN push_health TEXT NOT NULL DEFAULT 'unknown';
        ALTER TABLE channels ADD COLUMN push_error TEXT;
        ALTER TABLE channels ADD COLUMN worker_error TEXT;
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


def _widen_check(db: sqlite_utils.Database, table: str, column: str, values: tuple[str, ...]) -> None:
    """Add ``values`` to the ``column IN (...)`` CHECK of ``table`` by rebuilding it.

    SQLite cannot alter a CHECK. The new table is made from the table's *current*
    SQL with the list extended, so a CHECK another migration widened keeps its values.
    Triggers and indexes are read before and re-created after.
    """
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
    match = re.search(rf"({column}\s+IN\s*\()([^)]*)\)", sql)
    have = re.findall(r"'([^']*)'", match.group(2))
    wanted = have + [v for v in values if v not in have]
    if wanted == have:
        return
    listed = ", ".join(f"'{v}'" for v in wanted)
    rebuilt = sql[:match.start(2)] + listed + sql[match.end(2):]
    extras = [r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,)).fetchall()]
    temp = f"{table}_rebuild"
    columns = ", ".join(c.name for c in db[table].columns)
    db.execute(re.sub(rf"^CREATE TABLE\s+\"?{table}\"?", f"CREATE TABLE {temp}", rebuilt))
    db.execute(f"INSERT INTO {temp} ({columns}) SELECT {columns} FROM {table}")
    for name, in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = ? AND type = 'trigger'",
                            (table,)).fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {temp} RENAME TO {table}")
    for extra in extras:
        db.execute(extra)


@migrations()
def m130_stock_reads(db: sqlite_utils.Database) -> None:
    # A read of a listing's quantity is kept until the order poll covers it (read_to):
    # only then can the sales it reflects be told from drift. ``read_expected`` is what
    # the listing should have shown at the read; ``check_wanted_at`` asks for a read
    # (an absolute set to verify; with ``check_holds`` pushes wait for it: a push that
    # may have applied, a refused subtract, a compare-and-set conflict).
    db.executescript(
        """
        ALTER TABLE listings ADD COLUMN read_qty INTEGER;
        ALTER TABLE listings ADD COLUMN read_expected INTEGER;
        ALTER TABLE listings ADD COLUMN read_from TEXT;
        ALTER TABLE listings ADD COLUMN read_to TEXT;
        ALTER TABLE listings ADD COLUMN check_wanted_at TEXT;
        ALTER TABLE listings ADD COLUMN check_holds INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE listings ADD COLUMN checked_at TEXT;
        CREATE TABLE drift (
            id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, sku_code TEXT NOT NULL,
            seen INTEGER NOT NULL, expected INTEGER, found_at TEXT NOT NULL, source TEXT NOT NULL);
        CREATE INDEX drift_channel ON drift(channel, found_at);
        """
    )


@migrations()
def m150_intake(db: sqlite_utils.Database) -> None:
    # Per channel: what its platform messages did, for `status` (the daemon keeps the
    # counts in memory and adds them here every few seconds). ``rejected`` is a JSON
    # object, reason -> count; ``channel`` '*' holds messages for no known channel.
    db.executescript(
        """
        CREATE TABLE intake (
            channel TEXT PRIMARY KEY, accepted INTEGER NOT NULL DEFAULT 0, rejected TEXT NOT NULL DEFAULT '{}',
            last_verified_at TEXT, last_rejected_at TEXT, last_rejection TEXT, connected INTEGER,
            updated_at TEXT NOT NULL);
        """
    )


@migrations()
def m160_after_sales(db: sqlite_utils.Database) -> None:
    # Line-level order state. Each order line counts its own units: ``held`` (taken off the
    # platform's number: expected was lowered by them), ``released`` (put back before
    # shipment: cancel or refund), ``shipped`` (the ledger has them out), ``refunded`` (money
    # back), ``coming_back`` (the platform reports them returning). What the warehouse
    # received back is in after_sales. The order's held/shipped flags stay as summaries.
    db.executescript(
        """
        ALTER TABLE order_lines ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN shipped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN coming_back INTEGER NOT NULL DEFAULT 0;
        UPDATE order_lines SET
            held = quantity * (SELECT held FROM orders WHERE orders.id = order_lines.order_id),
            shipped = quantity * (SELECT shipped FROM orders WHERE orders.id = order_lines.order_id),
            released = CASE WHEN (SELECT status FROM orders WHERE orders.id = order_lines.order_id)
                                 IN ('cancelled', 'refunded')
                             AND (SELECT shipped FROM orders WHERE orders.id = order_lines.order_id) = 0
                            THEN quantity ELSE 0 END;
        -- reservations by warehouse: a paid line's open units, per component SKU (bundles
        -- reserve their parts) and warehouse. warehouse NULL: reserved before warehouses were
        -- tracked, so it counts against every warehouse (never oversells).
        CREATE TABLE reservations (
            order_id INTEGER NOT NULL REFERENCES orders(id), line_no INTEGER NOT NULL,
            sku_code TEXT NOT NULL, warehouse TEXT, priority INTEGER NOT NULL DEFAULT 0,
            quantity INTEGER NOT NULL CHECK (quantity > 0));
        CREATE UNIQUE INDEX reservations_key ON reservations(order_id, line_no, sku_code, COALESCE(warehouse, ''));
        CREATE INDEX reservations_sku ON reservations(sku_code, warehouse);
        INSERT INTO reservations (order_id, line_no, sku_code, warehouse, quantity)
            SELECT l.order_id, l.line_no, COALESCE(b.component_code, l.sku_code), NULL, l.quantity * COALESCE(b.qty, 1)
            FROM order_lines l LEFT JOIN bundle_components b ON b.bundle_code = l.sku_code
            WHERE l.reserved = 1 AND l.sku_code IS NOT NULL;
        DROP INDEX order_lines_reserved;
        ALTER TABLE order_lines DROP COLUMN reserved;
        -- parcels: several per order, by `channelsync ship` or seen on the platform
        CREATE TABLE shipments (
            id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL REFERENCES orders(id),
            kind TEXT NOT NULL DEFAULT 'order' CHECK (kind IN ('order', 'exchange')),
            source TEXT NOT NULL CHECK (source IN ('channelsync', 'platform')),
            carrier TEXT, tracking_no TEXT, at TEXT NOT NULL);
        CREATE INDEX shipments_order ON shipments(order_id);
        CREATE TABLE shipment_lines (
            shipment_id INTEGER NOT NULL REFERENCES shipments(id), line_no INTEGER NOT NULL,
            sku_code TEXT, quantity INTEGER NOT NULL CHECK (quantity > 0), PRIMARY KEY (shipment_id, line_no));
        -- the after-sales history of each line: refunds, returns reported, units received
        CREATE TABLE after_sales (
            id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL REFERENCES orders(id),
            line_no INTEGER NOT NULL, at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('refund', 'return', 'received', 'exchange')),
            quantity INTEGER NOT NULL CHECK (quantity > 0), damaged INTEGER NOT NULL DEFAULT 0,
            warehouse TEXT, source TEXT NOT NULL, note TEXT);
        CREATE INDEX after_sales_order ON after_sales(order_id, line_no);
        """
    )
    # a damaged unit received back is booked in and written off: 'damaged' never restocks
    _widen_check(db, "stock_movements", "reason", ("damaged",))


@migrations()
def m170_low_stock(db: sqlite_utils.Database) -> None:
    # reorder_point: at or below this many available units a SKU is low (补货提醒); NULL: the
    # config's default. low_stock: the SKUs announced low, so each crossing is announced once.
    db.executescript(
        """
        ALTER TABLE skus ADD COLUMN reorder_point INTEGER CHECK (reorder_point >= 0);
        CREATE TABLE low_stock (
            sku_code TEXT PRIMARY KEY, available INTEGER NOT NULL, reorder_point INTEGER NOT NULL,
            since TEXT NOT NULL);
        -- the sales report reads orders by the day they were created
        CREATE INDEX orders_created ON orders(created_at);
        """
    )


@migrations()
def m171_resync_cursor(db: sqlite_utils.Database) -> None:
    # where an interrupted resync stopped (JSON: next page token, start time, arguments, counts so far),
    # saved with each page's changes, so the next resync resumes there instead of at page 1
    db.executescript("ALTER TABLE channels ADD COLUMN resync_cursor TEXT;")


@migrations()
def m180_learnt_rate(db: sqlite_utils.Database) -> None:
    # The rate a channel's platform turned out to allow (issue 18a): kept so a restarted
    # daemon does not meet the limit again at the declared rate (WeChat then pauses a minute).
    db.executescript(
        """
        ALTER TABLE channels ADD COLUMN learnt_rate REAL;
        ALTER TABLE channels ADD COLUMN learnt_ceiling REAL;
        ALTER TABLE channels ADD COLUMN learnt_refused_at TEXT;
        """
    )


@migrations()
def m190_listings_wanted(db: sqlite_utils.Database) -> None:
    # Issue 14: the push threads ask every tick whether a read is wanted (listings.wanted,
    # to_check); without an index that was a scan of the channel's listings, 8 times a second
    # per channel: most of an idle daemon's CPU at 10k SKUs. The index holds only the few
    # listings waiting for a read.
    db.executescript("CREATE INDEX listings_wanted ON listings(channel, check_wanted_at) "
                     "WHERE check_wanted_at IS NOT NULL;")


@migrations()
def m200_order_indexes(db: sqlite_utils.Database) -> None:
    # Issue 14 (ingest with 1,000,000 orders of history). order_lines_sku put every new line
    # at a random place of an index as long as the history (lines of ~1,000 SKUs): with 1M
    # lines, 118 of the ~270 pages an ingest page of 100 orders wrote to the WAL were its
    # leaves, and ingest fell from ~9,500 to ~6,600 orders per CPU-second. One query used it,
    # listings.to_check's "sold since", which now starts from the channel's orders updated
    # since then (orders_updated: new orders append at its end, one page a commit); it was
    # also a walk of every line ever sold of each listing's SKU. orders_status served no
    # query (`orders list --status` cannot use it: its filter is optional).
    db.executescript(
        """
        DROP INDEX order_lines_sku;
        DROP INDEX orders_status;
        CREATE INDEX orders_updated ON orders(channel, updated_at);
        """
    )


@migrations()
def m230_listings_reading(db: sqlite_utils.Database) -> None:
    # Issue 14: every poll asks whether a read it now covers is pending (listings.reads_due)
    # and health counts the pending ones; without an index both walked all the channel's
    # listings: 15.7 ms a poll per channel at 100k SKUs, 0.01 ms with it. It holds only the
    # few listings with a read pending.
    db.executescript("CREATE INDEX listings_reading ON listings(channel, read_to) WHERE read_qty IS NOT NULL;")


@migrations()
def m240_read_doubt(db: sqlite_utils.Database) -> None:
    # A pending read judged against an order within the clock margin of it (which side of
    # the read the order fell on is a guess) is doubtful: once settled, another read is
    # asked for at once. Without it a put-back an absolute set had erased raised expected
    # and no read ever saw the units missing until the periodic check (60 s by default).
    db.executescript("ALTER TABLE listings ADD COLUMN read_doubt INTEGER NOT NULL DEFAULT 0;")
