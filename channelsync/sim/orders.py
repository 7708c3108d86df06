"""Buyer orders on a simulated platform: placing, paying, cancelling, refunding line
by line, after-sale returns and exchanges, and parcels that ship part of an order.

``BuyerOrders`` is mixed into ``Simulator``, which provides ``lock``, ``skus``,
``orders``, ``now()``, ``new_id()`` and ``find()``. What the real platforms do, the
simulators do: a paid order takes its units off sale at once; units refunded or
cancelled before they ship go back on sale; shipped units never do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


class OutOfStock(Exception):
    """A buyer order the platform refuses: the listed quantity is short."""


@dataclass
class SimLine:
    external_id: str
    item_id: str
    sku_code: str | None
    quantity: int
    price: int
    shipped: int = 0   # units in parcels
    released: int = 0  # units put back on sale before shipment (cancel, refund)
    refunded: int = 0  # units whose money went back
    returned: int = 0  # units in after-sale returns and exchanges

    @property
    def open(self) -> int:
        """Units still to ship."""
        return self.quantity - self.shipped - self.released


@dataclass
class SimParcel:
    carrier: str
    tracking_no: str
    lines: dict[str, int]  # external SKU id -> units
    at: datetime


@dataclass
class SimAfterSale:
    """One after-sale case: ``refund`` (money only), ``return`` (goods back, money back)
    or ``exchange`` (goods back, a replacement goes out)."""

    aftersale_id: str
    order_id: str
    external_id: str  # the line's SKU id
    quantity: int
    kind: str
    created_at: datetime
    shipped_before: bool  # the units had left the warehouse when it was opened


@dataclass
class SimOrder:
    order_id: str
    lines: list[SimLine]
    status: str  # new | paid | shipped | completed | cancelled | refunded
    created_at: datetime
    modified_at: datetime
    paid: bool = False
    carrier: str | None = None
    tracking_no: str | None = None
    refunded_at: datetime | None = None
    notes: list[str] = field(default_factory=list)
    parcels: list[SimParcel] = field(default_factory=list)
    aftersales: list[SimAfterSale] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.price * line.quantity for line in self.lines)

    def line(self, ref: str) -> SimLine:
        """A line by SKU code or external SKU id."""
        for line in self.lines:
            if ref in (line.sku_code, line.external_id):
                return line
        raise KeyError(f"order {self.order_id} has no line {ref}")


class BuyerOrders:
    """The order half of ``Simulator``."""

    def place_order(self, lines: Iterable[tuple[str, int]], *, pay: bool = True) -> SimOrder:
        """A buyer orders ``(sku ref, quantity)`` lines; refused when stock is short."""
        with self.lock:
            now = self.now()
            sim_lines = []
            for ref, qty in lines:
                sku = self.find(ref)
                if not sku.on_shelf:
                    raise OutOfStock(f"{ref} is off the shelf")
                sim_lines.append(SimLine(sku.external_id, sku.item_id, sku.sku_code, qty, sku.price))
            order = SimOrder(self.new_id(), sim_lines, "new", now, now)
            self.orders[order.order_id] = order
            if pay:
                try:
                    self.pay(order.order_id)
                except OutOfStock:
                    del self.orders[order.order_id]
                    raise
            else:
                self._emit("created", order)  # the platform's message, when it sends them (notify.py)
            return order

    def pay(self, order_id: str) -> SimOrder:
        with self.lock:
            order = self.orders[order_id]
            if order.status != "new":
                return order
            for line in order.lines:
                if self.skus[line.external_id].quantity < line.quantity:
                    raise OutOfStock(f"{line.sku_code or line.external_id}: only "
                                     f"{self.skus[line.external_id].quantity} left")
            for line in order.lines:
                self.skus[line.external_id].quantity -= line.quantity
            order.status, order.paid = "paid", True
            order.modified_at = self.now()
            self._emit("paid", order)
            return order

    def cancel(self, order_id: str) -> SimOrder:
        """Cancel before shipment: a paid order's units go back on sale."""
        with self.lock:
            order = self.orders[order_id]
            if order.status in ("new", "paid") and not order.parcels:
                if order.paid:  # a paid order is cancelled by refunding it: the money goes back
                    for line in order.lines:
                        if line.quantity > line.refunded:
                            self._refund(order, line, line.quantity - line.refunded)
                order.status = "cancelled"
                order.modified_at = self.now()
                self._emit("cancelled", order)
            return order

    def refund(self, order_id: str) -> SimOrder:
        """Refund every unit not refunded yet: before shipment the units go back on
        sale; after, the buyer keeps them (a refund without return)."""
        with self.lock:
            order = self.orders[order_id]
            if order.status in ("paid", "shipped", "completed"):
                for line in order.lines:
                    if line.quantity > line.refunded:
                        self._refund(order, line, line.quantity - line.refunded)
                order.status = "refunded"
                order.refunded_at = order.modified_at = self.now()
                self._emit("refunded", order)
            return order

    def refund_line(self, order_id: str, ref: str, quantity: int) -> SimOrder:
        """Money back for ``quantity`` units of one line: units not shipped go back on
        sale first; the rest were shipped and stay with the buyer."""
        with self.lock:
            order = self.orders[order_id]
            line = order.line(ref)
            left = line.quantity - line.refunded
            if order.status not in ("paid", "shipped", "completed") or not 0 < quantity <= left:
                raise ValueError(f"cannot refund {quantity} of {ref} on order {order_id} ({order.status}, "
                                 f"{line.refunded} of {line.quantity} refunded)")
            self._refund(order, line, quantity)
            self._settle(order)
            self._emit("refunded", order)
            return order

    def return_line(self, order_id: str, ref: str, quantity: int, *, exchange: bool = False) -> SimOrder:
        """An after-sale return (or exchange) of shipped units of one line: the buyer
        sends them back; a return gives the money back, an exchange a replacement."""
        with self.lock:
            order = self.orders[order_id]
            line = order.line(ref)
            if not 0 < quantity <= line.shipped - line.returned:
                raise ValueError(f"cannot return {quantity} of {ref} on order {order_id}: "
                                 f"{line.shipped} shipped, {line.returned} already returned")
            line.returned += quantity
            if not exchange:
                line.refunded += quantity
            order.aftersales.append(SimAfterSale(self.new_id(), order_id, line.external_id, quantity,
                                                 "exchange" if exchange else "return", self.now(), True))
            self._settle(order)
            self._emit("refunded", order)
            return order

    def ship(self, order_id: str, carrier: str = "SIM", tracking_no: str = "0",
             lines: dict[str, int] | None = None) -> SimOrder:
        """One parcel: ``lines`` (SKU code or id -> units), or every unit left to ship."""
        with self.lock:
            order = self.orders[order_id]
            if order.status != "paid":
                return order
            picked = {order.line(ref).external_id: int(n) for ref, n in lines.items()} if lines else {
                line.external_id: line.open for line in order.lines if line.open > 0}
            for ext, n in picked.items():
                line = order.line(ext)
                if not 0 < n <= line.open:
                    raise ValueError(f"cannot ship {n} of {ext} on order {order_id}: {line.open} left to ship")
            for ext, n in picked.items():
                order.line(ext).shipped += n
            order.parcels.append(SimParcel(carrier, tracking_no, picked, self.now()))
            order.carrier, order.tracking_no = carrier, tracking_no
            if not any(line.open for line in order.lines):
                order.status = "shipped"
            order.modified_at = self.now()
            self._emit("shipped", order)
            return order

    def complete(self, order_id: str) -> SimOrder:
        with self.lock:
            order = self.orders[order_id]
            if order.status == "shipped":
                order.status = "completed"
                order.modified_at = self.now()
                self._emit("completed", order)
            return order

    def _refund(self, order: SimOrder, line: SimLine, quantity: int) -> None:
        before = min(quantity, line.open)  # not shipped yet: back on sale
        if before and order.paid:
            line.released += before
            if line.external_id in self.skus:
                self.skus[line.external_id].quantity += before
        line.refunded += quantity
        order.aftersales.append(SimAfterSale(self.new_id(), order.order_id, line.external_id, quantity, "refund",
                                             self.now(), before < quantity))
        order.refunded_at = order.modified_at = self.now()

    def _settle(self, order: SimOrder) -> None:
        """After a line changed: every unit refunded closes the order; nothing left to
        ship on a paid order that shipped some makes it shipped."""
        order.modified_at = self.now()
        if all(line.refunded >= line.quantity for line in order.lines):
            order.status = "refunded"
        elif order.status == "paid" and order.parcels and not any(line.open for line in order.lines):
            order.status = "shipped"
