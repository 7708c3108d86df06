"""Order ingestion and the order state machine, line by line.

Orders are upserted by (channel, external id). The order's status moves only
*forward* (a stale read is ignored), and each line's counts only grow, so
re-reading an order (overlapping polls, a retried page, a restart) changes
nothing. Each line counts its own units, so every effect happens exactly once:

* ``held``     — units the channel's own number has taken off (``expected`` was
                 lowered by them): the line's units once paid, less those released;
* ``released`` — units put back before shipment (a cancel, a refund of the line);
                 the platform puts them back on sale and the reservation goes;
* ``shipped``  — units that left: the ledger has them out, taken from where the
                 line reserved (engine/reservations.py);
* ``refunded`` — units whose money went back; ``coming_back`` — units the platform
                 says come back (expected back until received, engine/returns.py).

"Reserved" is the reservations table: a paid line's units neither shipped nor released.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import (
    channels,
    inventory,
    line_counts,
    listings,
    order_page,
    reservations,
    returns,
    shipments,
)
from channelsync.sdk.errors import UserError
from channelsync.sdk.models import Order, OrderLine, OrderStatus
from channelsync.store import Store, ts, utcnow
from channelsync.store.sqlin import chunks, marks

S = OrderStatus
# which states may follow which: anything else is a stale read and ignored
FORWARD = {
    None: set(S),
    S.NEW: {S.PAID, S.SHIPPED, S.COMPLETED, S.CANCELLED, S.REFUNDED},
    S.PAID: {S.SHIPPED, S.COMPLETED, S.CANCELLED, S.REFUNDED},
    S.SHIPPED: {S.COMPLETED, S.REFUNDED},
    S.COMPLETED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}


@dataclass
class IngestResult:
    changed: list[tuple[Order, str | None]] = field(default_factory=list)  # (order, previous status)
    skus: set[str] = field(default_factory=set)
    unmatched_lines: int = 0
    pushes_queued: int = 0
    #: (when, SKU, units) the platform took off by itself (negative: put back), in arrival order
    taken: list[tuple[datetime, str, int]] = field(default_factory=list)


def ingest(store: Store, config: Config, cfg: ChannelConfig, orders: Sequence[Order],
           cursor: datetime | None = None, now: datetime | None = None, absolute: bool = False) -> IngestResult:
    """Apply ``orders`` and (if given) move the channel's cursor, in one transaction,
    then queue the stock pushes the changes call for.

    ``absolute``: the channel only takes absolute quantities and cannot be read (a
    blind channel, see ``stock_policy.Policy``). A sale that landed just before our last
    absolute set was erased by it, so its own orders cannot tell what the platform
    shows now: the listing is marked unknown and the target is set again right after
    this ingest. Every other channel's ``expected`` follows the platform's arithmetic:
    the ingest's sales and put-backs are applied in the platform's time order, each
    floored at 0, whatever order the orders arrived in.
    """
    now = now or utcnow()
    result = IngestResult()
    with store.write():
        page = order_page.Page(store, cfg, orders, ts(now))  # the page's stored rows, lines and SKUs, read at once
        for order in orders:
            _apply(store, config, cfg, order, now, result, page)
        _move_expected(store, cfg, result, absolute)
        if cursor is not None:
            channels.move_cursor(store, cfg.name, cursor)
        if result.skus:
            result.pushes_queued = inventory.queue_stock(store, config, result.skus, now)
    return result


def _move_expected(store: Store, cfg: ChannelConfig, result: IngestResult, absolute: bool) -> None:
    """Apply the platform's own takes and put-backs to ``expected`` in the platform's time
    order (a stable sort: one order's sale stays before its put-back), each floored at 0
    as the platform floors a decrement that raced a sale."""
    listings.lower_expected_many(store, cfg.name, sorted(result.taken, key=lambda t: t[0]), absolute)


def unchanged(store: Store, channel: str, orders: Sequence[Order]) -> set[str]:
    """External ids of ``orders`` that ``_apply`` would skip as re-reads (stored in the same
    status and platform status, with no line or parcel news): a re-read overlap is sifted
    here, before the caller takes any lock."""
    same: set[str] = set()
    by_id = {o.external_id: o for o in orders if not _line_news(o)}
    ids = list(by_id)
    for chunk in chunks(ids, 500):
        rows = store.execute(f"SELECT external_id, status, platform_status FROM orders WHERE channel = ? "
                             f"AND external_id IN ({marks(chunk)})", (channel, *chunk))
        same.update(ext for ext, status, platform_status in rows
                    if by_id[ext].status.value == status and by_id[ext].platform_status == platform_status)
    return same


def _apply(store: Store, config: Config, cfg: ChannelConfig, order: Order, now: datetime, result: IngestResult,
           page: order_page.Page) -> None:
    row = page.rows.get(order.external_id)
    before = S(row["status"]) if row else None
    # the same status again may carry line news (a refund of one line, a parcel)
    if order.status not in FORWARD[before] and order.status != before:
        return
    if order.status == before and row["platform_status"] == order.platform_status and not _line_news(order):
        return  # a re-read (overlapping polls): counts only grow, and this one says none
    lines = page.new_lines(order) if row is None else page.lines(row["id"])
    ref = f"{cfg.name}:{order.external_id}"
    if row is None and order.status in (S.CANCELLED, S.REFUNDED):
        # Seen only once it was closed: replay it through "paid". If it was paid, the
        # platform's sale may have been absorbed by a decrement it floored at 0, and
        # the put-back is then real; replaying makes that exact. If it never was, the
        # clamp below can only overstate expected, which under-shows, never oversells.
        for line in lines:
            if line["sku_code"]:
                result.taken.append((order.created_at, line["sku_code"], line["quantity"]))
            line["held"] = line["quantity"]
    reported = list(order.lines) + [OrderLine(None, 0)] * max(0, len(lines) - len(order.lines))
    whole_refund = order.status == S.REFUNDED and not any(ln.refunded or ln.returning for ln in order.lines)
    if row is None:  # stored once, with the status and flags its lines' counts come to
        # each line's counts, worked out once: _apply_line applies these very ones (nothing
        # it does to one line changes another's)
        made = [line_counts.counts(ln, said, order, whole_refund) for ln, said in zip(lines, reported)]
        order_id = _insert(store, cfg, order, now, page, lines, line_counts.summary(order, [m[0] for m in made]))
        result.unmatched_lines += sum(1 for ln in lines if ln["sku_code"] is None)
    else:
        made = [None] * len(lines)
        order_id = row["id"]
    changed = before != order.status or (row is not None and row["platform_status"] != order.platform_status)
    for line, said, counted in zip(lines, reported, made):
        changed |= _apply_line(store, config, cfg, order, order_id, line, said, whole_refund, ref, now, result,
                               before, page, counted)
    if row is None:  # a first sighting is worth a look at every channel's target
        result.skus.update(ln["sku_code"] for ln in lines if ln["sku_code"])
    by_id = {k: ln["line_no"] for ln in lines for k in (ln["external_sku_id"], ln["sku_code"]) if k}
    changed |= shipments.record_seen(store, order_id, order.parcels, by_id, now) > 0
    if row is None:  # a new order's lines, with the counts just worked out
        store.conn.executemany(
            "INSERT INTO order_lines (order_id, line_no, sku_code, external_sku_id, quantity, price, held, released, "
            "shipped, refunded, coming_back) VALUES (:order_id, :line_no, :sku_code, :external_sku_id, :quantity, "
            ":price, :held, :released, :shipped, :refunded, :coming_back)", lines)
    if not changed:
        return
    if row is not None:  # a new order was stored with these already (and ``page`` has it so)
        status, held, shipped = line_counts.summary(order, lines)
        store.execute(
            "UPDATE orders SET status = ?, platform_status = ?, modified_at = ?, updated_at = ?, held = ?, "
            "shipped = ? WHERE id = ?",
            (status.value, order.platform_status, ts(order.modified_at), ts(now), held, shipped, order_id))
        page.rows[order.external_id].update(status=status.value, platform_status=order.platform_status)  # as stored
    result.changed.append((order, before.value if before else None))


def _apply_line(store: Store, config: Config, cfg: ChannelConfig, order: Order, order_id: int, line: dict,
                said: OrderLine, whole_refund: bool, ref: str, now: datetime, result: IngestResult,
                before: OrderStatus | None, page: order_page.Page, counted: tuple[dict, int] | None = None) -> bool:
    """Bring one stored line to what the platform reports; True when anything changed.
    ``counted``: ``line_counts.counts`` for it, when the caller has worked them out."""
    status, first = order.status, before is None
    new, reserve_to = counted or line_counts.counts(line, said, order, whole_refund)
    held_to, ship_to = new["held"], new["shipped"]
    stored = {k: line[k] for k in new}
    if new == stored and not first and status == before:
        return False  # re-read: the line and its reservation are as they were
    sku = line["sku_code"]
    if sku:
        if held_to != line["held"]:  # the platform took these units off (or put them back) on its own
            # a sale is dated by its creation (it was paid no earlier), a put-back by the
            # latest change (it happened no later): a pending read is then only ever
            # judged to show more than it does, which under-shows, never oversells
            result.taken.append((order.created_at if held_to > line["held"] else order.modified_at, sku,
                                 held_to - line["held"]))
        if ship_to > line["shipped"]:
            shipments.book(store, order_id, line["line_no"], sku, ship_to - line["shipped"], page.warehouses, ref)
        moved = _reserve(store, page, order_id, line["line_no"], sku, reserve_to, 0 if first else None)
        if moved or held_to != line["held"] or ship_to != line["shipped"]:
            result.skus.add(sku)
    _after_sales(store, config, cfg, order_id, line, new, ref, now, result)
    if new == stored:
        return False
    line.update(new)  # the caller sums the order's flags from its lines
    if first:
        return True  # a new order's line: stored by ``_apply`` with these counts
    store.execute("UPDATE order_lines SET held = ?, released = ?, shipped = ?, refunded = ?, coming_back = ? "
                  "WHERE order_id = ? AND line_no = ?",
                  (held_to, new["released"], ship_to, new["refunded"], new["coming_back"], order_id, line["line_no"]))
    return True


def _line_news(order: Order) -> bool:
    """Whether the platform says anything per line or per parcel that could move a count."""
    return bool(order.parcels) or bool(order.shipped) or any(
        ln.refunded or ln.returning or ln.shipped for ln in order.lines)


def _reserve(store: Store, page: order_page.Page, order_id: int, line_no: int, sku: str, units: int,
             have: int | None = None) -> bool:
    """Make the line hold ``units`` in reservations (``have``: what it holds, when known: a
    line seen for the first time holds none); True when that moved any."""
    made = page.parts(sku)
    fresh = have == 0
    have = reservations.line_units(store, order_id, line_no, sku, made) if have is None else have
    if units > have:
        reservations.reserve(store, order_id, line_no, sku, units - have, page.warehouses, made, fresh)
    elif units < have:
        reservations.release(store, order_id, line_no, sku, have - units, made)
    return units != have


def _after_sales(store: Store, config: Config, cfg: ChannelConfig, order_id: int, line: dict, new: dict, ref: str,
                 now: datetime, result: IngestResult) -> None:
    """The line's history: a refund, a return announced (restocked at once if the channel says so)."""
    refunded = new["refunded"] - line["refunded"]
    if refunded > 0:
        released = new["released"] - line["released"]
        text = f"{released} released before shipment" if released > 0 else "after shipment"
        returns.note(store, order_id, line["line_no"], "refund", refunded, source=cfg.name, at=now, text=text)
    coming = new["coming_back"] - line["coming_back"]
    if coming > 0:
        returns.note(store, order_id, line["line_no"], "return", coming, source=cfg.name, at=now)
        if cfg.restock_on_refund and line["sku_code"]:
            wh = shipments.origin(store, ref, reservations.parts(store, line["sku_code"])[0][0])
            order = store.one("SELECT * FROM orders WHERE id = ?", (order_id,))
            returns.receive(store, config, order, {**line, **new}, coming,
                            wh or reservations.priority(store, cfg.warehouses)[0], source="restock_on_refund",
                            now=now)
            result.skus.add(line["sku_code"])


def _insert(store: Store, cfg: ChannelConfig, order: Order, now: datetime, page: order_page.Page, lines: list[dict],
            summary: tuple[OrderStatus, int, int]) -> int:
    """Store a new order with its final status and flags (``summary``); its lines are stored
    by ``_apply`` once their effects are made (one INSERT each, no UPDATE after)."""
    status, held, shipped = summary
    cur = store.execute(
        "INSERT INTO orders (channel, external_id, status, platform_status, created_at, modified_at, first_seen_at, "
        "updated_at, total, unmatched_lines, held, shipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cfg.name, order.external_id, status.value, order.platform_status, ts(order.created_at),
         ts(order.modified_at), page.now_s, page.now_s, order.total,
         sum(1 for ln in lines if ln["sku_code"] is None), held, shipped))
    for line in lines:
        line["order_id"] = cur.lastrowid
    page.inserted({"id": cur.lastrowid, "external_id": order.external_id, "status": status.value,
                   "platform_status": order.platform_status}, lines)
    return cur.lastrowid


def open_lines(store: Store, order_id: int) -> list[dict]:
    """The order's lines with ``open``: units neither shipped nor released."""
    rows = store.query("SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no", (order_id,))
    for row in rows:
        row["open"] = row["quantity"] - row["released"] - row["shipped"]
    return rows


def parcel_lines(store: Store, order_row: dict, specs: Sequence[tuple[str, int]]) -> dict[int, int]:
    """``--line SKU:QTY`` choices -> line number -> units; none given: every open unit.
    A SKU on several lines fills them in order; asking more than is open is refused."""
    where = f"{order_row['channel']}:{order_row['external_id']}"
    rows = [r for r in open_lines(store, order_row["id"]) if r["open"] > 0]
    if not rows:
        raise UserError(f"order {where} is {order_row['status']}: nothing left to ship")
    if not specs:
        return {r["line_no"]: r["open"] for r in rows}
    chosen: dict[int, int] = {}
    for sku, units in specs:
        if units <= 0:
            raise UserError(f"--line {sku}:{units}: the quantity must be at least 1")
        mine = [r for r in rows if sku in (r["sku_code"], r["external_sku_id"])]
        if not mine:
            left = ", ".join(f"{r['sku_code'] or r['external_sku_id']} x{r['open']}" for r in rows)
            raise UserError(f"order {where} has no open line {sku!r} (left to ship: {left})")
        for r in mine:
            n = min(units, r["open"] - chosen.get(r["line_no"], 0))
            if n > 0:
                chosen[r["line_no"]] = chosen.get(r["line_no"], 0) + n
                units -= n
        if units:
            raise UserError(f"order {where}: {sku} has only {sum(r['open'] for r in mine)} unit(s) left to ship")
    return chosen


def mark_shipped(store: Store, config: Config, cfg: ChannelConfig, order_row: dict, carrier: str,
                 tracking_no: str, lines: dict[int, int] | None = None, now: datetime | None = None) -> IngestResult:
    """After the channel accepted a parcel: its units leave from where they were reserved,
    the parcel is kept, and the order is shipped once no unit is left open."""
    now = now or utcnow()
    result = IngestResult()
    ref = f"{order_row['channel']}:{order_row['external_id']}"
    with store.write():
        rows = open_lines(store, order_row["id"])
        chosen = lines if lines is not None else {r["line_no"]: r["open"] for r in rows if r["open"] > 0}
        contents: dict[int, tuple[str | None, int]] = {}
        for row in rows:
            units = min(chosen.get(row["line_no"], 0), row["open"])
            if units <= 0:
                continue
            if row["sku_code"]:
                shipments.book(store, order_row["id"], row["line_no"], row["sku_code"], units, cfg.warehouses, ref)
                result.skus.add(row["sku_code"])
            store.execute("UPDATE order_lines SET shipped = shipped + ? WHERE order_id = ? AND line_no = ?",
                          (units, order_row["id"], row["line_no"]))
            contents[row["line_no"]] = (row["sku_code"], units)
        shipments.record(store, order_row["id"], source="channelsync", carrier=carrier, tracking_no=tracking_no,
                         lines=contents, at=now)
        left = sum(r["open"] for r in rows) - sum(units for _, units in contents.values())  # none read again
        status = S.SHIPPED.value if left == 0 and order_row["status"] == S.PAID.value else order_row["status"]
        store.execute("UPDATE orders SET status = ?, shipped = 1, carrier = ?, tracking_no = ?, updated_at = ? "
                      "WHERE id = ?", (status, carrier, tracking_no, ts(now), order_row["id"]))
        if result.skus:
            result.pushes_queued = inventory.queue_stock(store, config, result.skus, now)
    return result


def detail(store: Store, order_row: dict) -> dict:
    """``orders show``: the order, each line's counts and reservations, its parcels and
    its after-sales history."""
    lines = store.query("SELECT line_no, sku_code, external_sku_id, quantity, price, held, released, shipped, "
                        "refunded, coming_back FROM order_lines WHERE order_id = ? ORDER BY line_no",
                        (order_row["id"],))
    for line in lines:
        line.update(returns.counts(store, order_row["id"], line["line_no"]))
        line["open"] = line["quantity"] - line["released"] - line["shipped"]
        line["reserved"] = store.query(
            "SELECT sku_code, warehouse, quantity FROM reservations WHERE order_id = ? AND line_no = ? "
            "ORDER BY priority, warehouse", (order_row["id"], line["line_no"]))
    return {**order_row, "lines": lines, "parcels": shipments.parcels(store, order_row["id"]),
            "after_sales": returns.history(store, order_row["id"])}


def line_of(store: Store, order_row: dict, sku: str) -> dict:
    """The order's line selling ``sku`` (merchant code or the platform's SKU id)."""
    rows = store.query("SELECT * FROM order_lines WHERE order_id = ? AND (sku_code = ? OR external_sku_id = ?) "
                       "ORDER BY line_no", (order_row["id"], sku, sku))
    if not rows:
        have = store.query("SELECT sku_code, external_sku_id FROM order_lines WHERE order_id = ? ORDER BY line_no",
                           (order_row["id"],))
        raise UserError(f"order {order_row['channel']}:{order_row['external_id']} has no line {sku!r} (its lines: "
                        f"{', '.join(r['sku_code'] or str(r['external_sku_id']) for r in have)})")
    if rows[0]["sku_code"] is None:
        raise UserError(f"line {sku!r} of {order_row['channel']}:{order_row['external_id']} matches no master SKU; "
                        "link the listing first (see `channelsync resync`)")
    return rows[0]


def find_order(store: Store, ref: str) -> dict:
    """An order by internal id, ``channel:external_id`` or an external id unique across channels."""
    if ref.isdigit():
        row = store.one("SELECT * FROM orders WHERE id = ?", (int(ref),))
        if row:
            return row
    if ":" in ref:
        channel, _, external = ref.partition(":")
        row = store.one("SELECT * FROM orders WHERE channel = ? AND external_id = ?", (channel, external))
        if row:
            return row
    rows = store.query("SELECT * FROM orders WHERE external_id = ?", (ref,))
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise UserError(f"order {ref!r} exists on several channels ({', '.join(r['channel'] for r in rows)}); "
                        f"say CHANNEL:{ref}")
    raise UserError(f"no order {ref!r} (see `channelsync orders list`)")


def orders_modified(store: Store, channel: str):
    """``external_id -> stored modified time`` for one channel (a read per call, no cache):
    the poll skips a detail call for an order the platform lists as unchanged."""
    def stored(external_id: str) -> datetime | None:
        value = store.scalar("SELECT modified_at FROM orders WHERE channel = ? AND external_id = ?",
                             (channel, external_id))
        return datetime.fromisoformat(value) if value else None
    return stored
