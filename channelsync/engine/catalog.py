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
from channelsync.engine import inventory, listings, outbox, reservations
from channelsync.sdk.errors import UserError
from channelsync.sdk.money import fen_to_yuan, yuan_to_fen
from channelsync.store import Store, ts, utcnow

REQUIRED = ("product_code", "sku_code", "price")
KNOWN = REQUIRED + ("product_title", "description", "sku_title", "barcode", "cost", "attributes", "status", "bundle",
                    "reorder_point")
STATUSES = ("active", "discontinued")


class CatalogImportError(UserError):
    """A CSV import refused; ``problems`` are "row N, column X: ..." lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
        super().__init__(f"{source}: {len(problems)} problem(s), nothing was imported:\n  " + "\n  ".join(shown))


@dataclass
class ImportReport:
    products: int = 0
    skus_new: int = 0
    skus_changed: int = 0
    stock_set: int = 0
    pushes_queued: int = 0
    changed_skus: set[str] = field(default_factory=set)


def sync_warehouses(store: Store, config: Config) -> None:
    """Make the warehouses table match the config (codes and names; none is deleted)."""
    with store.write():
        for code, name in config.warehouses.items():
            store.execute("INSERT INTO warehouses (code, name) VALUES (?, ?) ON CONFLICT (code) DO UPDATE "
                          "SET name = excluded.name", (code, name))


def import_csv(store: Store, config: Config, stream: IO[str], source: str = "<csv>",
               publish_channels: Iterable[str] = (), progress: Callable[[int], None] = lambda n: None) -> ImportReport:
    """Import a catalog CSV, all or nothing: every problem is reported with its row and
    column before anything is written; a clean file is written in one transaction that
    also queues the pushes it causes (and publishing on ``publish_channels``)."""
    rows, problems = _parse(store, config, stream)
    if problems:
        raise CatalogImportError(source, problems)
    report = ImportReport()
    now = ts(utcnow())
    with store.write():
        for r in rows:
            _write_row(store, r, now, report)
            progress(1)  # writing is most of the time of a large import
        for r in rows:  # bundles after every SKU exists
            if r["bundle"] is not None:
                store.execute("DELETE FROM bundle_components WHERE bundle_code = ?", (r["sku_code"],))
                for comp, qty in r["bundle"]:
                    store.execute("INSERT INTO bundle_components (bundle_code, component_code, qty) VALUES (?,?,?)",
                                  (r["sku_code"], comp, qty))
        report.pushes_queued = inventory.queue_stock(store, config, report.changed_skus)
        publishing = [c for c in publish_channels if c in config.channels and config.channels[c].publish_new]
        for r in rows:
            for ch in publishing:
                if r["status"] == "active" and not store.scalar(
                        "SELECT 1 FROM listings WHERE channel = ? AND sku_code = ?", (ch, r["sku_code"])):
                    outbox.queue(store, ch, r["sku_code"], "publish")
                    report.pushes_queued += 1
    return report


def _parse(store: Store, config: Config, stream: IO[str]) -> tuple[list[dict], list[str]]:
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    problems = [f"header: missing column {c!r}" for c in REQUIRED if c not in header]
    stock_cols = {}
    for col in header:
        if col.startswith("stock:"):
            wh = col.split(":", 1)[1]
            if wh not in config.warehouses:
                problems.append(f"header: column {col!r} names unknown warehouse {wh!r} "
                                f"(known: {', '.join(sorted(config.warehouses))})")
            stock_cols[col] = wh
        elif col not in KNOWN:
            problems.append(f"header: unknown column {col!r}")
    if problems:
        return [], problems
    rows, seen = [], {}
    for n, raw in enumerate(reader, start=2):  # row 1 is the header
        def bad(col: str, msg: str) -> None:
            problems.append(f"row {n}, column {col}: {msg}")
        if None in raw:
            bad("(extra)", f"{len(raw[None])} more field(s) than the header has")
        r = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        for col in ("product_code", "sku_code"):
            if not r.get(col):
                bad(col, "is empty")
        code = r.get("sku_code", "")
        if code in seen:
            bad("sku_code", f"{code!r} already appears on row {seen[code]}")
        seen[code] = n
        row = {"sku_code": code, "product_code": r.get("product_code", ""),
               "product_title": r.get("product_title") or r.get("product_code", ""),
               "description": r.get("description", ""), "sku_title": r.get("sku_title", ""),
               "barcode": r.get("barcode") or None, "status": r.get("status") or "active", "stock": {},
               "bundle": None, "attributes": {}}
        for col, key in (("price", "base_price"), ("cost", "cost")):
            try:
                row[key] = yuan_to_fen(r[col]) if r.get(col) else None
            except ValueError as exc:
                bad(col, str(exc))
        if not r.get("price"):
            bad("price", "is empty (expected yuan like 129.90)")
        if row["status"] not in STATUSES:
            bad("status", f"{row['status']!r} is not one of {', '.join(STATUSES)}")
        if r.get("attributes"):
            for part in r["attributes"].split(";"):
                key, eq, value = part.partition("=")
                if not eq or not key.strip():
                    bad("attributes", f"{part!r} is not key=value")
                else:
                    row["attributes"][key.strip()] = value.strip()
        if r.get("bundle"):
            row["bundle"] = []
            for part in r["bundle"].split("+"):
                comp, _, qty = part.strip().partition("*")
                if not qty.strip().isdigit() or int(qty) < 1 or not comp.strip():
                    bad("bundle", f"{part.strip()!r} is not CODE*QTY")
                else:
                    row["bundle"].append((comp.strip(), int(qty)))
        if "reorder_point" in header:  # absent column: leave each SKU's point as it is
            point = r.get("reorder_point", "")
            if point and not point.isdigit():
                bad("reorder_point", f"{point!r} is not a whole number of units >= 0")
            row["reorder_point"] = int(point) if point.isdigit() else None
        for col, wh in stock_cols.items():
            value = r.get(col, "")
            if value == "":
                continue
            if not value.lstrip("-").isdigit() or int(value) < 0:
                bad(col, f"{value!r} is not a whole number of units >= 0")
            elif row["bundle"]:
                bad(col, "a bundle has no stock of its own (its components do)")
            else:
                row["stock"][wh] = int(value)
        rows.append(row)
    codes = set(seen)
    for row, n in ((r, seen[r["sku_code"]]) for r in rows):
        for comp, _ in row["bundle"] or ():
            if comp == row["sku_code"]:
                problems.append(f"row {n}, column bundle: a bundle cannot contain itself")
            elif comp not in codes and not store.scalar("SELECT 1 FROM skus WHERE code = ?", (comp,)):
                problems.append(f"row {n}, column bundle: unknown component SKU {comp!r}")
    return rows, problems


def _write_row(store: Store, r: dict, now: str, report: ImportReport) -> None:
    product = store.one("SELECT * FROM products WHERE code = ?", (r["product_code"],))
    store.execute(
        "INSERT INTO products (code, title, description, status, updated_at) VALUES (?,?,?,'active',?) "
        "ON CONFLICT (code) DO UPDATE SET title = excluded.title, description = excluded.description, "
        "updated_at = excluded.updated_at", (r["product_code"], r["product_title"], r["description"], now))
    report.products += product is None
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
        content_changed = (old["title"] != r["sku_title"] or (product is not None and (
            product["title"] != r["product_title"] or product["description"] != r["description"])))
        for kind, differs in (("price", old["base_price"] != r["base_price"] or old["cost"] != r["cost"]),
                              ("shelf", old["status"] != r["status"]), ("listing", content_changed)):
            if differs:
                changed = True
                for ch in store.query("SELECT channel FROM listings WHERE sku_code = ?", (r["sku_code"],)):
                    outbox.queue(store, ch["channel"], r["sku_code"], kind)
                    report.pushes_queued += 1
        report.skus_changed += changed
    if old is None or old["status"] != r["status"]:
        report.changed_skus.add(r["sku_code"])  # discontinued: targets drop to 0
    for wh, qty in r["stock"].items():
        if inventory.set_on_hand(store, r["sku_code"], wh, qty, reason="import", actor="catalog import"):
            report.stock_set += 1
            report.changed_skus.add(r["sku_code"])


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
    with store.write():
        require_sku(store, code, stockable=True)
        before = inventory.on_hand(store, code, (warehouse,))
        if set_to is not None:
            if set_to < 0:
                raise UserError(f"stock cannot be set below 0 (got {set_to})")
            inventory.set_on_hand(store, code, warehouse, set_to, reason=reason, actor=actor)
        elif delta:
            if before + delta < 0:
                raise UserError(f"{code} in {warehouse}: on-hand {before} {delta:+d} would go below 0")
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
