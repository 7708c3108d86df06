"""Sales figures per channel and in total, by day or week, against the previous period.

Read-only: it writes no table. Days are calendar days in the report's time zone
(a merchant in China closes the day at midnight Beijing time, not UTC); an
order counts on the day it was *created*, so re-reading it later never moves it.

Definitions (each figure is in integer fen or a count; rates are 0..1):

* ``orders``       every order created in the bucket, whatever its state;
* ``valid``        paid and not fully refunded (paid, shipped, completed);
* ``sales``        what the valid orders took (order total; the lines' sum where a
                   platform gave no total);
* ``cost``         units on valid lines x the SKU's cost (a bundle: its
                   components' costs); lines whose SKU has no cost are counted in
                   ``lines_without_cost`` and add nothing, so the margin is an
                   upper bound until every cost is known;
* ``profit`` = sales - cost, ``margin`` = profit / sales, ``aov`` = sales / valid;
* ``refund_rate``  refunded orders / orders ever paid;
* ``return_rate``  orders refunded after they shipped (the goods came back) /
                   orders ever paid.

Refunds and returns are read by ``refund_state`` alone, from the order's state;
when order lines carry refunded and returned quantities, that one function is
where the rates switch to units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from channelsync.config.settings import Config
from channelsync.store import Store, ts
from channelsync.store.sqlin import marks

VALID = ("paid", "shipped", "completed")
EVER_PAID = VALID + ("refunded", "returned")  # "returned": a state after-sales work may add


@dataclass
class Figures:
    orders: int = 0
    valid: int = 0
    paid: int = 0
    refunded: int = 0
    returned: int = 0
    sales: int = 0
    cost: int = 0
    lines_without_cost: int = 0

    def add(self, other: Figures) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def profit(self) -> int:
        return self.sales - self.cost

    def as_dict(self) -> dict[str, Any]:
        return {"orders": self.orders, "valid_orders": self.valid, "valid_rate": _rate(self.valid, self.orders),
                "sales": self.sales, "aov": _div(self.sales, self.valid), "cost": self.cost,
                "gross_profit": self.profit, "margin": _rate(self.profit, self.sales),
                "refunded_orders": self.refunded, "refund_rate": _rate(self.refunded, self.paid),
                "returned_orders": self.returned, "return_rate": _rate(self.returned, self.paid),
                "lines_without_cost": self.lines_without_cost}


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def _div(fen: int, count: int) -> int | None:
    """Integer fen, rounded half up (a mean of money stays money)."""
    return None if not count else (2 * fen + count) // (2 * count)


@dataclass(frozen=True)
class Period:
    """Whole days ``start``..``end`` (inclusive) in ``tz``, cut into day or week buckets."""

    start: date
    end: date
    by: str  # "day" | "week"
    tz: ZoneInfo

    def previous(self) -> Period:
        days = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=days), self.start - timedelta(days=1), self.by, self.tz)

    def buckets(self) -> list[date]:
        step = 7 if self.by == "week" else 1
        out, day = [], self.start
        while day <= self.end:
            out.append(day)
            day += timedelta(days=step)
        return out

    def bucket_of(self, day: date) -> date:
        return self.start + timedelta(days=((day - self.start).days // 7) * 7) if self.by == "week" else day

    def utc_bounds(self) -> tuple[str, str]:
        begin = datetime.combine(self.start, time(), self.tz)
        end = datetime.combine(self.end + timedelta(days=1), time(), self.tz)
        return ts(begin), ts(end)


def make_period(by: str, tz: ZoneInfo, today: date, start: date | None = None, end: date | None = None,
                count: int | None = None) -> Period:
    """The report's period: ``start``..``end`` as given, else the last ``count`` days or
    weeks up to ``end`` (default today). Weeks run Monday to Sunday."""
    end = end or today
    if by == "week":
        end = end + timedelta(days=6 - end.weekday())
        if start is None:
            start = end - timedelta(days=7 * (count or 4) - 1)
        start = start - timedelta(days=start.weekday())
    elif start is None:
        start = end - timedelta(days=(count or 7) - 1)
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    return Period(start, end, by, tz)


def refund_state(order: dict, lines: list[dict]) -> tuple[bool, bool, bool]:
    """(fully refunded, refunded at all, returned) for one order.

    Today orders carry one state: "refunded" refunds the whole order, and a refund
    after shipment is a return. ``lines`` carry every column of ``order_lines``, so
    line-level refunded and returned quantities, once stored, are read here alone:
    "fully refunded" becomes every unit refunded, and the rates count units.
    """
    # issue 16: lines count their refunded units and the units coming back; an order closed
    # with its money back before shipment is "cancelled" but its lines still say refunded
    if any(ln.get("refunded") for ln in lines):
        full = all(ln["refunded"] >= ln["quantity"] for ln in lines)
        return full, True, any(ln.get("coming_back") for ln in lines)
    refunded = order["status"] in ("refunded", "returned")
    return refunded, refunded, order["status"] == "returned" or (refunded and bool(order["shipped"]))


def unit_costs(store: Store) -> dict[str, int | None]:
    """Each SKU's cost in fen; a bundle without its own cost costs its components (None: unknown)."""
    costs = {r["code"]: r["cost"] for r in store.query("SELECT code, cost FROM skus")}
    parts: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in store.query("SELECT bundle_code, component_code, qty FROM bundle_components"):
        parts[r["bundle_code"]].append((r["component_code"], r["qty"]))
    for bundle, comps in parts.items():
        if costs.get(bundle) is None:
            each = [costs.get(c) for c, _ in comps]
            costs[bundle] = None if any(c is None for c in each) else sum(c * q for c, (_, q) in zip(each, comps))
    return costs


@dataclass
class _Acc:
    buckets: dict[date, Figures] = field(default_factory=lambda: defaultdict(Figures))
    total: Figures = field(default_factory=Figures)
    previous: Figures = field(default_factory=Figures)


def build(store: Store, config: Config, period: Period, channels: Iterable[str] | None = None,
          top: int = 10) -> dict[str, Any]:
    """The report as plain data: money in fen, rates 0..1 (None where undefined). Without
    ``channels``: every configured channel, and any other that has orders in the period."""
    prev = period.previous()
    begin, _ = prev.utc_bounds()
    _, finish = period.utc_bounds()
    names = list(channels) if channels else list(config.channels) + [  # a shop closed since still counts
        r["channel"] for r in store.query("SELECT DISTINCT channel FROM orders WHERE created_at >= ? AND "
                                          "created_at < ? ORDER BY channel", (begin, finish))
        if r["channel"] not in config.channels]
    costs = unit_costs(store)
    ins = marks(names)
    orders = store.query(f"SELECT id, channel, status, shipped, created_at, total FROM orders WHERE channel IN "
                         f"({ins}) AND created_at >= ? AND created_at < ? ORDER BY id",
                         (*names, begin, finish)) if names else []
    lines: dict[int, list[dict]] = defaultdict(list)
    if orders:
        for ln in store.query(
                f"SELECT l.* FROM order_lines l JOIN orders o ON "  # every column: refund_state may read more
                f"o.id = l.order_id WHERE o.channel IN ({ins}) AND o.created_at >= ? AND o.created_at < ?",
                (*names, begin, finish)):
            lines[ln["order_id"]].append(ln)
    per = {n: _Acc() for n in names}
    # (channel, sku) -> [units, sales, previous units]; the total's ranking sums the channels'
    units: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    first = period.start
    for o in orders:
        day = datetime.fromisoformat(o["created_at"]).astimezone(period.tz).date()
        current = day >= first
        f = _figures(o, lines[o["id"]], costs)
        acc = per[o["channel"]]
        if current:
            acc.buckets[period.bucket_of(day)].add(f)
            acc.total.add(f)
        else:
            acc.previous.add(f)
        if f.valid:
            for ln in lines[o["id"]]:
                if ln["sku_code"]:
                    u = units[o["channel"], ln["sku_code"]]
                    if current:
                        u[0] += ln["quantity"]
                        u[1] += ln["quantity"] * (ln["price"] or 0)
                    else:
                        u[2] += ln["quantity"]
    everything = _Acc()
    for acc in per.values():
        for b, f in acc.buckets.items():
            everything.buckets[b].add(f)
        everything.total.add(acc.total)
        everything.previous.add(acc.previous)
    titles = {r["code"]: r["title"] or r["product_title"] for r in store.query(
        "SELECT s.code, s.title, p.title AS product_title FROM skus s JOIN products p ON p.code = s.product_code")}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (_, sku), u in units.items():
        totals[sku] = [a + b for a, b in zip(totals[sku], u)]
    per_channel = {n: _top({sku: u for (ch, sku), u in units.items() if ch == n}, titles, top) for n in names}
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "by": period.by,
                   "timezone": str(period.tz), "buckets": [b.isoformat() for b in period.buckets()]},
        "previous_period": {"from": prev.start.isoformat(), "to": prev.end.isoformat()},
        "channels": [{**_section(n, config.channels[n].display_name or n if n in config.channels else n,
                                 per[n], period), "top_skus": per_channel[n]} for n in names],
        "total": _section(None, "total", everything, period),
        "top_skus": _top(totals, titles, top),
    }


def _top(units: dict[str, list[int]], titles: dict[str, str], top: int) -> list[dict[str, Any]]:
    """The ``top`` SKUs by units sold in the period (then by sales, then by code, so ties are stable)."""
    ranked = sorted(((sku, u) for sku, u in units.items() if u[0]), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [{"sku": sku, "title": titles.get(sku, ""), "units": u[0], "sales": u[1], "previous_units": u[2]}
            for sku, u in ranked[:top]]


def _figures(order: dict, lines: list[dict], costs: dict[str, int | None]) -> Figures:
    full, refunded, returned = refund_state(order, lines)
    # money back means it was paid (a paid order closed before shipment is stored "cancelled")
    paid = order["status"] in EVER_PAID or refunded
    valid = paid and not full
    f = Figures(orders=1, valid=int(valid), paid=int(paid), refunded=int(paid and refunded),
                returned=int(paid and returned))
    if valid:
        line_sum = sum(ln["quantity"] * (ln["price"] or 0) for ln in lines)
        f.sales = order["total"] if order["total"] is not None else line_sum
        for ln in lines:
            cost = costs.get(ln["sku_code"]) if ln["sku_code"] else None
            if cost is None:
                f.lines_without_cost += 1
            else:
                f.cost += cost * ln["quantity"]
    return f


def _section(channel: str | None, name: str, acc: _Acc, period: Period) -> dict[str, Any]:
    return {"channel": channel, "name": name,
            "buckets": [{"start": b.isoformat(), **acc.buckets.get(b, Figures()).as_dict()}
                        for b in period.buckets()],
            "total": acc.total.as_dict(), "previous": acc.previous.as_dict()}
