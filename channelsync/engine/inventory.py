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
from channelsync.store.sqlin import chunks, marks

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
    return store.scalar(
        f"SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE sku_code = ? AND warehouse IN ({marks(whs)})",
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

    def preload(self, codes: Iterable[str], warehouse_sets: Iterable[tuple[str, ...]]) -> None:
        """Fill the memo for ``codes`` with one query per table instead of one per SKU and
        channel (an ingest page touches ~100 SKUs, wanted by every channel): the same
        numbers ``get`` would read, so a SKU left out (a bundle's other components) is
        simply read on demand."""
        sets = set(warehouse_sets)
        codes = sorted({c for c in codes if (_status, c) not in self._memo  # read already (a resync page's)
                        or any((on_hand, c, whs) not in self._memo for whs in sets)})
        for chunk in chunks(codes):
            ins = marks(chunk)
            made: dict[str, list] = {c: [] for c in chunk}
            for b, c, q in self.store.execute(f"SELECT bundle_code, component_code, qty FROM bundle_components "
                                              f"WHERE bundle_code IN ({ins}) ORDER BY component_code", chunk):
                made[b].append((c, q))
            status = dict.fromkeys(chunk)
            status.update(self.store.execute(f"SELECT code, status FROM skus WHERE code IN ({ins})", chunk))
            stock: dict[str, dict] = {c: {} for c in chunk}
            for code, wh, n in self.store.execute(f"SELECT sku_code, warehouse, SUM(on_hand) FROM stock "
                                                  f"WHERE sku_code IN ({ins}) GROUP BY 1, 2", chunk):
                stock[code][wh] = n
            held: dict[str, dict] = {c: {} for c in chunk}
            for code, wh, n in self.store.execute(f"SELECT sku_code, warehouse, SUM(quantity) FROM reservations "
                                                  f"WHERE sku_code IN ({ins}) GROUP BY 1, 2", chunk):
                held[code][wh] = n
            for code in chunk:
                self._memo[(components, code)] = made[code]
                self._memo[(_status, code)] = status[code]
                for whs in sets:  # as on_hand / reserved count: no warehouses named is all of them
                    self._memo[(on_hand, code, whs)] = sum(
                        stock[code].values() if not whs else (n for wh, n in stock[code].items() if wh in whs))
                    self._memo[(reserved, code, whs)] = sum(
                        held[code].values() if not whs else
                        (n for wh, n in held[code].items() if wh is None or wh in whs))


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
    for sql in ("SELECT DISTINCT component_code FROM bundle_components WHERE bundle_code IN ({})",
                "SELECT DISTINCT bundle_code FROM bundle_components WHERE component_code IN ({})"):
        codes = sorted(result)
        for chunk in chunks(codes):
            result.update(r[0] for r in store.execute(sql.format(marks(chunk)), chunk))
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
    # With each listing, its stock row in the outbox (status, idle: no call in flight), so a
    # row still pending is touched rather than upserted and an agreeing one dropped without a
    # read of its own (about 1 us a row more on a resync page, whose rows are mostly not queued)
    rows: list = []
    for chunk in chunks(codes):  # one statement for a page; a config reload passes every listed SKU
        sql = (f"SELECT l.channel, l.sku_code, l.expected, o.status, o.inflight_key IS NULL FROM listings l "
               f"LEFT JOIN outbox o ON o.channel = l.channel AND o.sku_code = l.sku_code AND o.kind = 'stock' "
               f"WHERE l.sku_code IN ({marks(chunk)})")
        params = tuple(chunk)
        if channel is not None:
            sql, params = sql + " AND l.channel = ?", (*params, channel)
        rows += store.execute(sql, params).fetchall()
    reads = reads or Reads(store)
    reads.preload(codes, {tuple(c.warehouses) for c in config.channels.values()})
    debug = log.bind().debug  # bound once: a logger bound per row was a tenth of an ingest
    push, pending, agree = [], [], []
    avail: dict[tuple, int | None] = {}  # (SKU, warehouses) -> available (None: not on sale), once for all channels
    for name, sku, expected, status, idle in rows:
        cfg = config.channels.get(name)
        if cfg is None or not cfg.enabled:
            continue
        key = (sku, tuple(cfg.warehouses))
        if key not in avail:  # as channel_target works it out
            avail[key] = available(store, sku, key[1], reads) if reads.get(_status, sku) == "active" else None
        wanted = 0 if avail[key] is None else target(avail[key], rules_for(cfg, sku))
        if targets is not None:
            targets[(name, sku)] = wanted
        if expected is None or wanted != expected:
            (pending if status == "pending" else push).append((name, sku))
            queued += 1
            debug("stock_push_queued", channel=name, sku=sku, target=wanted, expected=expected)
        elif status == "pending" and idle:  # only rows that are there to drop: most agreeing listings have none
            agree.append((name, sku))
    outbox.queue_many(store, push, "stock", now)
    outbox.queue_pending(store, pending, "stock", now)
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
