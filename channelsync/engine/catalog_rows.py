"""Checking a catalog CSV: its header, each row, and the bundle graph it makes.

Every check returns problems as "header: ..." or "row N, column X: ..." lines;
nothing here writes. Numbers are held to ``engine.bounds``.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Mapping

from channelsync.config.settings import Config
from channelsync.engine import bounds

REQUIRED = ("product_code", "sku_code", "price")
KNOWN = REQUIRED + ("product_title", "description", "sku_title", "barcode", "cost", "attributes", "status", "bundle",
                    "reorder_point")
STATUSES = ("active", "discontinued")


class Header:
    """Where each known column is (by normalized name) and which columns set stock where."""

    def __init__(self, columns: list[str], config: Config) -> None:
        self.width = len(columns)
        self.index: dict[str, int] = {}
        self.stock: dict[int, str] = {}
        self.nameless: list[int] = []
        self.problems = [f"header: missing column {c!r}" for c in REQUIRED if c not in columns]
        by_lower = {w.lower(): w for w in config.warehouses}
        for i, col in enumerate(columns):
            if not col:
                self.nameless.append(i)
            elif col.startswith("stock:"):
                wh = by_lower.get(col.split(":", 1)[1].lower())
                if wh is None:
                    self.problems.append(f"header: column {col!r} names unknown warehouse {col.split(':', 1)[1]!r} "
                                         f"(known: {', '.join(sorted(config.warehouses))})")
                else:
                    self.stock[i] = wh
            elif col in KNOWN:
                self.index.setdefault(col, i)
            else:
                near = difflib.get_close_matches(col, KNOWN + ("stock:" + next(iter(config.warehouses), ""),), 1)
                self.problems.append(f"header: unknown column {col!r}" + (f" (did you mean {near[0]!r}?)" if near else
                                     f" (known: {', '.join(KNOWN)}, stock:WAREHOUSE)"))


def parse_row(n: int, fields: list[str], header: Header) -> tuple[dict, list[str]]:
    """One data row -> (the row to write, its problems)."""
    problems: list[str] = []

    def bad(col: str, msg: str) -> None:
        problems.append(f"row {n}, column {col}: {msg}")

    if len(fields) > header.width:
        bad("(extra)", f"{len(fields) - header.width} more field(s) than the header has")
    r = {c: fields[i].strip() if i < len(fields) else "" for c, i in header.index.items()}
    for i in header.nameless:
        if i < len(fields) and fields[i].strip():
            bad(str(i + 1), "holds a value but the column has no name in the header")
    for col, what in (("product_code", "product code"), ("sku_code", "SKU code")):
        try:
            bounds.code(r.get(col, ""), what)
        except ValueError as exc:
            bad(col, str(exc))
    row = {"sku_code": r.get("sku_code", ""), "product_code": r.get("product_code", ""),
           "product_title": r.get("product_title") or r.get("product_code", ""),
           "description": r.get("description", ""), "sku_title": r.get("sku_title", ""),
           "barcode": r.get("barcode") or None, "status": (r.get("status") or "active").lower(), "stock": {},
           "bundle": None, "attributes": {}, "base_price": None, "cost": None}
    for col, key in (("price", "base_price"), ("cost", "cost")):
        if r.get(col):
            try:
                row[key] = bounds.price(r[col])
            except ValueError as exc:
                bad(col, str(exc))
    if not r.get("price"):
        bad("price", "is empty (expected yuan like 129.90)")
    if row["status"] not in STATUSES:
        bad("status", f"{r.get('status')!r} is not one of {', '.join(STATUSES)}")
    for part in filter(None, r.get("attributes", "").split(";")):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            bad("attributes", f"{part!r} is not key=value")
        else:
            row["attributes"][key.strip()] = value.strip()
    if r.get("bundle"):
        row["bundle"] = _bundle(r["bundle"], row["sku_code"], bad)
    if "reorder_point" in header.index:  # absent column: leave each SKU's point as it is
        row["reorder_point"] = None
        if r["reorder_point"]:
            try:
                row["reorder_point"] = bounds.units(r["reorder_point"], what="a reorder point")
            except ValueError as exc:
                bad("reorder_point", str(exc))
    for i, wh in header.stock.items():
        value = fields[i].strip() if i < len(fields) else ""
        if value == "":
            continue
        try:
            qty = bounds.units(value)
        except ValueError as exc:
            bad(f"stock:{wh}", str(exc))
            continue
        if row["bundle"]:
            bad(f"stock:{wh}", "a bundle has no stock of its own (its components do)")
        else:
            row["stock"][wh] = qty
    return row, problems


def _bundle(text: str, own: str, bad) -> list[tuple[str, int]]:
    parts: dict[str, int] = {}
    for part in (p.strip() for p in text.split("+")):
        comp, star, qty = part.partition("*")
        comp = comp.strip()
        if not star:
            qty = "1"  # "CUP-01" alone is one of it
        if not comp or not qty.strip().isdigit():
            bad("bundle", f"{part!r} is not CODE*QTY (e.g. TEA-01*2+CUP-01*1)")
        elif not 1 <= int(qty) <= bounds.MAX_BUNDLE_QTY:
            bad("bundle", f"{part!r}: a quantity is 1 to {bounds.MAX_BUNDLE_QTY:,}")
        elif comp == own:
            bad("bundle", "a bundle cannot contain itself")
        elif comp in parts:
            bad("bundle", f"{comp!r} is named twice (write it once with the total quantity)")
        else:
            parts[comp] = int(qty)
    return list(parts.items())


def find_cycles(edges: Mapping[str, Iterable[str]], limit: int = 10) -> list[list[str]]:
    """Cycles in the bundle graph (bundle -> its components), each as [A, B, ..., A]."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for root in edges:
        if state.get(root) or len(cycles) >= limit:
            continue
        path, stack = [root], [iter(edges.get(root, ()))]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                cycles.append(path[path.index(child):] + [child])
                if len(cycles) >= limit:
                    return cycles
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append(iter(edges.get(child, ())))
    return cycles
