"""The master catalog: CSV import/export and stock operations.

An import is all-or-nothing: every row is checked first and every problem is
reported with its row and column; only a clean file is written, in one
transaction that also queues the pushes it causes.

CSV columns (header names; order free):
  product_code*, product_title, description, sku_code*, sku_title, barcode,
  price* (yuan, e.g. 129.90), cost (yuan), attributes (k=v;k=v), status
  (active|discontinued), bundle (components, e.g. "TEA-01*2+CUP-01*1"),
  stock:<warehouse> (on-hand to set, one column per warehouse), reorder_point
  (available units at or below which the SKU is low; empty: the config's default)
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import IO, Callable, Iterable

from channelsync.config.settings import Config
from channelsync.engine import bounds, catalog_rows, inventory, listings, outbox, reservations
from channelsync.engine.csvfile import CsvFile
from channelsync.sdk.errors import UserError
from channelsync.sdk.money import fen_to_yuan
from channelsync.store import Store, ts, utcnow
from channelsync.store.sqlin import marks

BATCH = 2000  # rows staged, written or queued per statement batch: memory stays flat for any file size
SHOWN = 50     # problems shown (all are counted)
Progress = Callable[[str, int, "int | None"], None]


class CatalogImportError(UserError):
    """A CSV import refused; ``problems`` are "row N, column X: ..." lines."""

    def __init__(self, source: str, problems: list[str], total: int | None = None) -> None:
        self.problems = problems
        self.source = source
        total = len(problems) if total is None else total
        shown = problems[:SHOWN] + ([f"... and {total - SHOWN} more"] if total > SHOWN else [])
        super().__init__(f"{source}: {total} problem(s), nothing was imported:\n  " + "\n  ".join(shown))


@dataclass
class ImportReport:
    products: int = 0
    skus_new: int = 0
    skus_changed: int = 0
    stock_set: int = 0
    rows: int = 0
    encoding: str = ""
    #: pushes queued, by kind (stock, price, shelf, listing, publish)
    queued: dict[str, int] = field(default_factory=dict)

    @property
    def pushes_queued(self) -> int:
        """Every push the import queued, of every kind."""
        return sum(self.queued.values())

    def queue(self, store: Store, channel: str, sku_code: str, kind: str) -> None:
        """Queue one push and count it once, however many rows ask for it (counted in a
        temporary table of the import, not in memory)."""
        outbox.queue(store, channel, sku_code, kind)
        if store.execute("INSERT INTO temp.import_queued (channel, sku_code, kind) VALUES (?, ?, ?) "
                         "ON CONFLICT DO NOTHING", (channel, sku_code, kind)).rowcount:
            self.queued[kind] = self.queued.get(kind, 0) + 1


def sync_warehouses(store: Store, config: Config) -> None:
    """Make the warehouses table match the config (codes and names; none is deleted)."""
    with store.write():
        for code, name in config.warehouses.items():
            store.execute("INSERT INTO warehouses (code, name) VALUES (?, ?) ON CONFLICT (code) DO UPDATE "
                          "SET name = excluded.name", (code, name))


def import_csv(store: Store, config: Config, stream: IO[str] | IO[bytes] | CsvFile, source: str = "<csv>",
               publish_channels: Iterable[str] = (), progress: Progress | None = None
               ) -> ImportReport:
    """Import a catalog CSV, all or nothing: every problem is reported with its row and
    column before anything is written; a clean file is written in one transaction that
    also queues the pushes it causes (and publishing on ``publish_channels``).

    Rows are staged in temporary tables, never held in memory, so the size of the file
    does not matter; ``progress(stage, done, total)`` is called every few thousand rows:
    ("reading", bytes read, file size or None), then ("writing", rows written, rows)."""
    csvf = stream if isinstance(stream, CsvFile) else CsvFile(stream, source)
    report = ImportReport(encoding=csvf.describe())
    _staging(store, create=True)
    try:
        problems, total = _stage(store, config, csvf, progress, report)
        if not total:
            with store.write():
                problems, total = _check_graph(store)
                if not total:
                    _write_all(store, config, report, list(publish_channels), progress)
        if total:
            raise CatalogImportError(csvf.source, problems, total)
    finally:
        _staging(store, create=False)
    return report


def _staging(store: Store, create: bool) -> None:
    """The temporary tables an import stages its rows in (this connection only; never in the database file)."""
    for table, columns in (("import_rows", "n INTEGER NOT NULL, sku_code TEXT PRIMARY KEY, data TEXT NOT NULL"),
                           ("import_edges", "bundle TEXT NOT NULL, component TEXT NOT NULL, qty INTEGER, n INTEGER"),
                           ("import_changed", "sku_code TEXT PRIMARY KEY"),
                           ("import_queued", "channel TEXT, sku_code TEXT, kind TEXT, PRIMARY KEY (channel, sku_code, kind)"),
                           ("import_products", "code TEXT PRIMARY KEY, title TEXT, description TEXT")):
        store.execute(f"DROP TABLE IF EXISTS temp.{table}")
        if create:
            store.execute(f"CREATE TEMP TABLE {table} ({columns})")


def _stage(store: Store, config: Config, csvf: CsvFile, progress, report: ImportReport) -> tuple[list[str], int]:
    problems: list[str] = []
    total = 0

    def add(found: list[str]) -> None:
        nonlocal total
        total += len(found)
        problems.extend(found[:max(0, SHOWN * 2 - len(problems))])

    header = catalog_rows.Header(csvf.columns, config)
    add(csvf.duplicates() + header.problems)
    if total:
        return problems, total
    pending = 0
    store.execute("BEGIN")
    try:
        for n, fields in csvf.rows():
            row, found = catalog_rows.parse_row(n, fields, header)
            add(found)
            report.rows += 1
            if not store.execute("INSERT INTO temp.import_rows (n, sku_code, data) VALUES (?, ?, ?) "
                                 "ON CONFLICT (sku_code) DO NOTHING",
                                 (n, row["sku_code"], json.dumps(row, ensure_ascii=False))).rowcount:
                first = store.scalar("SELECT n FROM temp.import_rows WHERE sku_code = ?", (row["sku_code"],))
                add([f"row {n}, column sku_code: {row['sku_code']!r} already appears on row {first}"])
            for comp, qty in row["bundle"] or ():
                store.execute("INSERT INTO temp.import_edges (bundle, component, qty, n) VALUES (?,?,?,?)",
                              (row["sku_code"], comp, qty, n))
            pending += 1
            if pending >= BATCH:
                store.execute("COMMIT")
                store.execute("BEGIN")
                pending = 0
                if progress is not None:
                    progress("reading", csvf.position, csvf.size)
    finally:
        store.execute("COMMIT")
    if progress is not None:
        progress("reading", csvf.position, csvf.size)
    return problems, total


def _check_graph(store: Store) -> tuple[list[str], int]:
    """Bundle components that exist, and no cycle in the bundle graph the import would
    leave (the file's bundles replacing the database's): run inside the write."""
    problems = [f"row {r['n']}, column bundle: unknown component SKU {r['component']!r}" for r in store.query(
        "SELECT e.n, e.component FROM temp.import_edges e WHERE e.component NOT IN (SELECT sku_code FROM "
        "temp.import_rows) AND e.component NOT IN (SELECT code FROM skus) ORDER BY e.n LIMIT ?", (SHOWN,))]
    edges: dict[str, list[str]] = {}
    for bundle, comp in store.execute(
            "SELECT bundle_code, component_code FROM bundle_components WHERE bundle_code NOT IN "
            "(SELECT bundle FROM temp.import_edges) UNION ALL SELECT bundle, component FROM temp.import_edges"):
        edges.setdefault(bundle, []).append(comp)
    for cycle in catalog_rows.find_cycles(edges):
        rows = {r["sku_code"]: r["n"] for r in store.query(
            f"SELECT sku_code, n FROM temp.import_rows WHERE sku_code IN ({marks(cycle)})", cycle)}
        start = next((i for i, c in enumerate(cycle[:-1]) if c in rows), None)
        if start is not None:  # spelled from the file's own row, where the operator fixes it
            cycle = cycle[start:-1] + cycle[:start] + [cycle[start]]
        where = f"row {rows[cycle[0]]}" if start is not None else "the database"
        problems.append(f"{where}, column bundle: bundle cycle {' -> '.join(cycle)} (a bundle cannot contain "
                        "itself, directly or through another bundle)")
    return problems, len(problems)


def _write_all(store: Store, config: Config, report: ImportReport, publish_channels: list[str],
               progress: Progress | None) -> None:
    now = ts(utcnow())
    written = 0
    # the products as they were before this file: a later row of the same product must still
    # see the change, so rows compare with these, not with what an earlier row wrote
    store.execute("INSERT INTO temp.import_products (code, title, description) SELECT code, title, description "
                  "FROM products WHERE code IN (SELECT DISTINCT json_extract(data, '$.product_code') "
                  "FROM temp.import_rows)")
    for batch in _batches(store, "SELECT n, data FROM temp.import_rows WHERE n > ? ORDER BY n LIMIT ?"):
        for r in batch:
            row = json.loads(r["data"])
            _write_row(store, row, now, report, store.one("SELECT * FROM temp.import_products WHERE code = ?",
                                                          (row["product_code"],)))
        written += len(batch)
        if progress is not None:
            progress("writing", written, report.rows)
    _queue_product_content(store, report)
    bundles = [r["bundle"] for r in store.query("SELECT DISTINCT bundle FROM temp.import_edges")]
    for code in bundles:  # bundles after every SKU exists
        store.execute("DELETE FROM bundle_components WHERE bundle_code = ?", (code,))
        store.execute("INSERT INTO bundle_components (bundle_code, component_code, qty) SELECT bundle, component, "
                      "qty FROM temp.import_edges WHERE bundle = ?", (code,))
    last = 0
    while True:  # 500 at a time: SQLite's variable limit, and sets that stay small
        page = store.execute("SELECT rowid, sku_code FROM temp.import_changed WHERE rowid > ? ORDER BY rowid "
                             "LIMIT 500", (last,)).fetchall()
        if not page:
            break
        last = page[-1][0]
        stock = inventory.queue_stock(store, config, [r[1] for r in page])
        if stock:
            report.queued["stock"] = report.queued.get("stock", 0) + stock
    publishing = [c for c in publish_channels if c in config.channels and config.channels[c].publish_new]
    if publishing:
        for batch in _batches(store, "SELECT n, sku_code FROM temp.import_rows WHERE n > ? AND "
                                     "json_extract(data, '$.status') = 'active' ORDER BY n LIMIT ?"):
            for r in batch:
                for ch in publishing:
                    if not store.scalar("SELECT 1 FROM listings WHERE channel = ? AND sku_code = ?",
                                        (ch, r["sku_code"])):
                        report.queue(store, ch, r["sku_code"], "publish")


def _queue_product_content(store: Store, report: ImportReport) -> None:
    """A product's title or description changed: every listing of every SKU of that
    product is told (the SKUs this file names and those it does not)."""
    for code, in store.execute("SELECT b.code FROM temp.import_products b JOIN products p ON p.code = b.code "
                               "WHERE b.title IS NOT p.title OR b.description IS NOT p.description").fetchall():
        for ls in store.query("SELECT l.channel, l.sku_code FROM listings l JOIN skus s ON s.code = l.sku_code "
                              "WHERE s.product_code = ? ORDER BY l.channel, l.sku_code", (code,)):
            report.queue(store, ls["channel"], ls["sku_code"], "listing")


def _batches(store: Store, sql: str) -> Iterable[list[dict]]:
    """Pages of ``sql`` (which takes the last ``n`` seen and a limit), so no page holds the whole file."""
    last = 0
    while True:
        rows = store.query(sql, (last, BATCH))
        if not rows:
            return
        yield rows
        last = rows[-1]["n"]


def _write_row(store: Store, r: dict, now: str, report: ImportReport, product: dict | None) -> None:
    new_product = store.scalar("SELECT 1 FROM products WHERE code = ?", (r["product_code"],)) is None
    store.execute(
        "INSERT INTO products (code, title, description, status, updated_at) VALUES (?,?,?,'active',?) "
        "ON CONFLICT (code) DO UPDATE SET title = excluded.title, description = excluded.description, "
        "updated_at = excluded.updated_at", (r["product_code"], r["product_title"], r["description"], now))
    report.products += new_product
    old = store.one("SELECT * FROM skus WHERE code = ?", (r["sku_code"],))
    store.execute(
        "INSERT INTO skus (code, product_code, title, barcode, attributes, base_price, cost, status, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (code) DO UPDATE SET product_code = excluded.product_code, "
        "title = excluded.title, barcode = excluded.barcode, attributes = excluded.attributes, "
        "base_price = excluded.base_price, cost = excluded.cost, status = excluded.status, "
        "updated_at = excluded.updated_at",
        (r["sku_code"], r["product_code"], r["sku_title"], r["barcode"], json.dumps(r["attributes"], sort_keys=True),
         r["base_price"], r["cost"], r["status"], now))
    if "reorder_point" in r:
        store.execute("UPDATE skus SET reorder_point = ? WHERE code = ?", (r["reorder_point"], r["sku_code"]))
    if old is None:
        report.skus_new += 1
    else:
        changed = False
        content_changed = old["title"] != r["sku_title"] or old["product_code"] != r["product_code"] or (
            product is not None and (product["title"], product["description"]) != (r["product_title"], r["description"]))
        for kind, differs in (("price", old["base_price"] != r["base_price"] or old["cost"] != r["cost"]),
                              ("shelf", old["status"] != r["status"]), ("listing", content_changed)):
            if differs:
                changed = True
                for ch in store.query("SELECT channel FROM listings WHERE sku_code = ?", (r["sku_code"],)):
                    report.queue(store, ch["channel"], r["sku_code"], kind)
        report.skus_changed += changed
    changed = old is None or old["status"] != r["status"]  # discontinued: targets drop to 0
    for wh, qty in r["stock"].items():
        if inventory.set_on_hand(store, r["sku_code"], wh, qty, reason="import", actor="catalog import"):
            report.stock_set += 1
            changed = True
    if changed:
        store.execute("INSERT INTO temp.import_changed (sku_code) VALUES (?) ON CONFLICT DO NOTHING", (r["sku_code"],))


def export_csv(store: Store, config: Config) -> str:
    """The catalog as CSV, in the columns ``import_csv`` reads (a round trip changes nothing)."""
    whs = sorted(config.warehouses)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["product_code", "product_title", "description", "sku_code", "sku_title", "barcode", "price",
                     "cost", "attributes", "status", "bundle", "reorder_point"] + [f"stock:{w}" for w in whs])
    for s in store.query("SELECT s.*, p.title AS product_title, p.description FROM skus s "
                         "JOIN products p ON p.code = s.product_code ORDER BY s.product_code, s.code"):
        parts = inventory.components(store, s["code"])
        attrs = ";".join(f"{k}={v}" for k, v in json.loads(s["attributes"]).items())
        stock = ["" if parts else inventory.on_hand(store, s["code"], (w,)) for w in whs]
        writer.writerow([s["product_code"], s["product_title"], s["description"], s["code"], s["title"],
                         s["barcode"] or "", fen_to_yuan(s["base_price"]), fen_to_yuan(s["cost"]), attrs, s["status"],
                         "+".join(f"{c}*{q}" for c, q in parts), s["reorder_point"] if s["reorder_point"] is not None
                         else ""] + stock)
    return out.getvalue()


def require_sku(store: Store, code: str, stockable: bool = False) -> dict:
    """The SKU row, or a UserError naming it; ``stockable`` also refuses a bundle."""
    row = store.one("SELECT * FROM skus WHERE code = ?", (code,))
    if row is None:
        raise UserError(f"unknown SKU {code!r} (see `channelsync catalog export` for the catalog)")
    if stockable and inventory.components(store, code):
        raise UserError(f"{code!r} is a bundle: it has no stock of its own; change its components")
    return row


def change_stock(store: Store, config: Config, code: str, warehouse: str, *, set_to: int | None = None,
                 delta: int | None = None, reason: str = "set", actor: str | None = None) -> dict:
    """``stock set`` / ``stock adjust``: one ledger row and the pushes it causes, in one transaction."""
    if warehouse not in config.warehouses:
        raise UserError(f"unknown warehouse {warehouse!r} (configured: {', '.join(sorted(config.warehouses))})")
    try:  # the documented bounds (engine/bounds.py), before anything is opened for writing
        if set_to is not None:
            bounds.units(set_to, what="QUANTITY")
        if delta is not None:
            bounds.units(delta, signed=True, what="DELTA")
    except ValueError as exc:
        raise UserError(f"stock {'set' if set_to is not None else 'adjust'} {code}: {exc}") from None
    with store.write():
        require_sku(store, code, stockable=True)
        before = inventory.on_hand(store, code, (warehouse,))
        if set_to is not None:
            inventory.set_on_hand(store, code, warehouse, set_to, reason=reason, actor=actor)
        elif delta:
            if before + delta < 0:
                raise UserError(f"{code} in {warehouse}: on-hand {before} {delta:+d} would go below 0")
            if before + delta > bounds.MAX_UNITS:
                raise UserError(f"{code} in {warehouse}: on-hand {before} {delta:+d} would exceed "
                                f"{bounds.MAX_UNITS:,} units")
            inventory.move(store, code, warehouse, delta, reason, actor=actor)
        queued = inventory.queue_stock(store, config, [code])
        after = inventory.on_hand(store, code, (warehouse,))
    return {"sku": code, "warehouse": warehouse, "before": before, "after": after, "pushes_queued": queued}


def stock_report(store: Store, config: Config, code: str) -> dict:
    """``stock show``: on hand and reserved per warehouse, and per channel the warehouses
    it sells from (in priority order), what is available, the target and what it should show."""
    require_sku(store, code)
    channels = []
    for name, cfg in config.channels.items():
        listing = listings.get(store, name, code)
        channels.append({"channel": name, "warehouses": list(cfg.warehouses),
                         "available": inventory.available(store, code, cfg.warehouses),
                         "target": inventory.channel_target(store, cfg, code),
                         "expected": listing["expected"] if listing else None, "listed": listing is not None})
    on_hand = {w: inventory.on_hand(store, code, (w,)) for w in sorted(config.warehouses)}
    held = reservations.by_warehouse(store, code)
    return {
        "sku": code,
        "bundle": [{"component": c, "qty": q} for c, q in inventory.components(store, code)],
        "on_hand": on_hand,
        "warehouses": [{"warehouse": w, "on_hand": n, "reserved": held.get(w, 0), "free": n - held.get(w, 0)}
                       for w, n in on_hand.items()],
        "reserved_anywhere": held.get(None, 0),
        "reserved": inventory.reserved(store, code),
        "channels": channels,
    }
