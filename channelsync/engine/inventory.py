"""Stock: the ledger, reservations, availability per channel and targets.

reserved(sku, c)  = units on paid, not yet shipped/released order lines, reserved in
                    the warehouses c sells from (bundle lines reserve their components;
                    see engine/reservations.py for where an order reserves)
available(sku, c) = on-hand over the warehouses c sells from - reserved(sku, c)
                    (a bundle: min over components of floor(available / qty))
target(sku, c)    = 0 if available <= zero_below, else
                    min(max, floor(available * share) - buffer), never below 0

Everything here is derived from the ledger and the orders at the moment of
asking, so there is no second copy of "reserved" that could drift.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Iterable

import structlog

from channelsync.config.settings import ChannelConfig, Config, StockRules
from channelsync.engine import outbox, reservations
from channelsync.sdk.errors import UserError
from channelsync.store import Store, ts, utcnow

log = structlog.get_logger("channelsync.engine.inventory")


def rules_for(cfg: ChannelConfig, sku_code: str) -> StockRules:
    """The channel's rules with the SKU's overrides applied."""
    base = cfg.rules
    override = cfg.overrides.get(sku_code)
    if override is None:
        return base
    return StockRules(
        share=override.share if override.share is not None else base.share,
        buffer=override.buffer if override.buffer is not None else base.buffer,
        max=override.max if override.max is not None else base.max,
        zero_below=override.zero_below if override.zero_below is not None else base.zero_below,
    )


def target(available: int, rules: StockRules) -> int:
    """What a channel may offer of ``available`` units under ``rules`` (never below 0)."""
    if available <= rules.zero_below or available <= 0:
        return 0
    value = math.floor(available * rules.share) - rules.buffer
    if rules.max is not None:
        value = min(value, rules.max)
    return max(0, value)


def components(store: Store, sku_code: str) -> list[tuple[str, int]]:
    """A bundle's (component, quantity) pairs; empty for a SKU that is not a bundle."""
    rows = store.execute(
        "SELECT component_code, qty FROM bundle_components WHERE bundle_code = ? ORDER BY component_code",
        (sku_code,)).fetchall()
    return [(r[0], r[1]) for r in rows]


def reserved(store: Store, sku_code: str, warehouses: Iterable[str] | None = None) -> int:
    """Units of ``sku_code`` reserved in ``warehouses`` (all when none), bundles' included."""
    return reservations.reserved(store, sku_code, warehouses)


def on_hand(store: Store, sku_code: str, warehouses: Iterable[str] | None = None) -> int:
    """Units on hand over ``warehouses`` (all of them when none are named)."""
    whs = tuple(warehouses or ())
    if not whs:
        return store.scalar("SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE sku_code = ?", (sku_code,))
    marks = ",".join("?" * len(whs))
    return store.scalar(
        f"SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE sku_code = ? AND warehouse IN ({marks})",
        (sku_code, *whs))


class BundleCycle(UserError):
    """The bundle graph in the database loops (written behind the CLI's back): refused, never recursed."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(f"bundle cycle {' -> '.join(cycle)}: a bundle cannot contain itself; give one of them "
                         "other components with `channelsync catalog import`")


class Reads:
    """The reads behind targets, each made once per unit of work: one ingest's SKUs are
    wanted by every channel, and a SKU's reservations and stock are the same for all
    of them. Only valid while nothing is written in between (inside one ``queue_stock``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._memo: dict[tuple, object] = {}

    def get(self, fn, *args):
        key = (fn, *args)
        if key not in self._memo:
            self._memo[key] = fn(self.store, *args)
        return self._memo[key]


def preload(reads: Reads, codes: Iterable[str], warehouses: Iterable[str] | None = None) -> None:
    """Fill ``reads`` for ``codes`` (and their components) with one query per kind, not one
    per SKU: a resync page's targets. The same memo keys ``available`` asks for, so the
    rule itself stays in ``available``; what is not preloaded is still read on demand."""
    store, whs = reads.store, tuple(warehouses or ())
    codes = list(dict.fromkeys(codes))
    parts: dict[str, list[tuple[str, int]]] = {c: [] for c in codes}
    for r in _rows(store, "SELECT bundle_code, component_code, qty FROM bundle_components WHERE bundle_code IN "
                          "({}) ORDER BY bundle_code, component_code", codes):
        parts[r[0]].append((r[1], r[2]))
    for code, found in parts.items():
        reads._memo[(components, code)] = found
    codes += [c for found in parts.values() for c, _ in found if c not in parts]
    status = dict(_rows(store, "SELECT code, status FROM skus WHERE code IN ({})", codes))
    where = f" AND warehouse IN ({','.join('?' * len(whs))})" if whs else ""
    held = dict(_rows(store, "SELECT sku_code, SUM(on_hand) FROM stock WHERE sku_code IN ({})" + where +
                      " GROUP BY sku_code", codes, whs))
    where = f" AND (warehouse IS NULL OR warehouse IN ({','.join('?' * len(whs))}))" if whs else ""
    taken = dict(_rows(store, "SELECT sku_code, SUM(quantity) FROM reservations WHERE sku_code IN ({})" + where +
                       " GROUP BY sku_code", codes, whs))
    for code in codes:
        reads._memo[(_status, code)] = status.get(code)
        reads._memo[(on_hand, code, whs)] = held.get(code) or 0
        reads._memo[(reserved, code, whs)] = taken.get(code) or 0


def _rows(store: Store, sql: str, codes: list[str], extra: tuple = ()) -> list[tuple]:
    """``sql`` with its ``IN ({})`` filled by ``codes``, in chunks under SQLite's variable limit."""
    out: list[tuple] = []
    for at in range(0, len(codes), 30_000):
        chunk = codes[at:at + 30_000]
        out += store.execute(sql.format(",".join("?" * len(chunk))), (*chunk, *extra)).fetchall()
    return out


def _status(store: Store, sku_code: str) -> str | None:
    return store.scalar("SELECT status FROM skus WHERE code = ?", (sku_code,))


def available(store: Store, sku_code: str, warehouses: Iterable[str] | None = None,
              reads: Reads | None = None, _path: tuple = ()) -> int:
    """On hand over ``warehouses`` less reserved; a bundle: the fewest whole bundles its components make."""
    reads = reads or Reads(store)
    parts = reads.get(components, sku_code)
    whs = tuple(warehouses or ())
    if parts:
        if sku_code in _path:  # a guard: imports refuse cycles, but the database may have been edited by hand
            raise BundleCycle([*_path[_path.index(sku_code):], sku_code])
        return max(0, min(available(store, code, whs, reads, (*_path, sku_code)) // qty for code, qty in parts))
    return reads.get(on_hand, sku_code, whs) - reads.get(reserved, sku_code, whs)


def channel_target(store: Store, cfg: ChannelConfig, sku_code: str, reads: Reads | None = None) -> int:
    """What channel ``cfg`` should show for ``sku_code`` now (0 for an inactive or unknown SKU)."""
    reads = reads or Reads(store)
    if reads.get(_status, sku_code) != "active":
        return 0  # discontinued or unknown: nothing to sell
    return target(available(store, sku_code, cfg.warehouses, reads), rules_for(cfg, sku_code))


def affected(store: Store, skus: Iterable[str]) -> set[str]:
    """The SKUs whose availability may change with ``skus``: themselves, the
    components of bundles among them, and every bundle built from any of those."""
    result = set(skus)
    # the components of every bundle among them, one query (not one per SKU: a resync page's worth)
    result.update(r[0] for r in _rows(store, "SELECT component_code FROM bundle_components WHERE bundle_code IN "
                                              "({})", list(result)))
    if result:
        marks = ",".join("?" * len(result))
        rows = store.execute(
            f"SELECT DISTINCT bundle_code FROM bundle_components WHERE component_code IN ({marks})",
            tuple(result)).fetchall()
        result.update(r[0] for r in rows)
    return result


def queue_stock(store: Store, config: Config, skus: Iterable[str], now: datetime | None = None,
                reads: Reads | None = None, channel: str | None = None, targets: dict | None = None) -> int:
    """Queue a stock push for every (channel, SKU) whose target differs from what the
    channel should be showing; un-queue those that agree again. Returns rows queued.
    ``channel``: only that channel's listings (a resync of one channel changes no other's).
    ``targets``: filled with each (channel, SKU)'s target, for a caller that reports them."""
    now = now or utcnow()
    queued = 0
    codes = affected(store, skus)
    if not codes:
        return 0
    marks = ",".join("?" * len(codes))
    sql, params = f"SELECT channel, sku_code, expected FROM listings WHERE sku_code IN ({marks})", tuple(codes)
    if channel is not None:
        sql, params = sql + " AND channel = ?", (*params, channel)
    rows = store.query(sql, params)
    reads = reads or Reads(store)
    debug = log.bind()  # bound once: the lazy logger binds on every call, even when debug is off
    pushes, agree = [], []  # each (channel, SKU) once (the listings' key): one statement each
    for row in rows:
        cfg = config.channels.get(row["channel"])
        if cfg is None or not cfg.enabled:
            continue
        wanted = channel_target(store, cfg, row["sku_code"], reads)
        if targets is not None:
            targets[(row["channel"], row["sku_code"])] = wanted
        if row["expected"] is None or wanted != row["expected"]:
            pushes.append((row["channel"], row["sku_code"]))
            queued += 1
            debug.debug("stock_push_queued", channel=row["channel"], sku=row["sku_code"], target=wanted,
                        expected=row["expected"])
        else:
            agree.append((row["channel"], row["sku_code"]))
    outbox.queue_many(store, pushes, "stock", now)
    outbox.unqueue_many(store, agree, "stock")
    return queued


def move(store: Store, sku_code: str, warehouse: str, delta: int, reason: str,
         reference: str | None = None, actor: str | None = None, at: datetime | None = None) -> int:
    """Write one ledger row and apply it to on-hand; returns the new on-hand."""
    at_s = ts(at or utcnow())
    store.execute(
        "INSERT INTO stock_movements (at, sku_code, warehouse, delta, reason, reference, actor) VALUES (?,?,?,?,?,?,?)",
        (at_s, sku_code, warehouse, delta, reason, reference, actor))
    store.execute(
        "INSERT INTO stock (sku_code, warehouse, on_hand) VALUES (?, ?, ?) "
        "ON CONFLICT (sku_code, warehouse) DO UPDATE SET on_hand = on_hand + excluded.on_hand",
        (sku_code, warehouse, delta))
    return on_hand(store, sku_code, (warehouse,))


def set_on_hand(store: Store, sku_code: str, warehouse: str, quantity: int, reason: str = "set",
                reference: str | None = None, actor: str | None = None) -> int:
    """Make on-hand ``quantity`` through a ledger row of the difference (none when equal)."""
    delta = quantity - on_hand(store, sku_code, (warehouse,))
    if delta:
        move(store, sku_code, warehouse, delta, reason, reference, actor)
    return delta
