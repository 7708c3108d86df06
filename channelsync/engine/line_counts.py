"""What an order line's counts become from what the platform reports (pure: no reads, no writes).

``engine/orders.py`` applies the result (reservations, ledger, after-sales, the
stored line); keeping the arithmetic apart lets it know a new order's final status
and flags before it stores the order, so the order is written once. The counts
(held, released, shipped, refunded, coming_back) are explained in ``orders.py``.
"""

from __future__ import annotations

from channelsync.sdk.models import Order, OrderLine, OrderStatus

S = OrderStatus


def counts(line: dict, said: OrderLine, order: Order, whole_refund: bool) -> tuple[dict, int]:
    """``(new counts, units the line should hold reserved)``: every count only grows."""
    qty, status = line["quantity"], order.status
    gone = status in (S.SHIPPED, S.COMPLETED) or bool(order.shipped)
    # units shipped: the line's own count where the platform gives one; else the order's
    # status ships every unit not released (when in doubt, shipped: that under-shows)
    if said.shipped is not None:
        ship_to = max(line["shipped"], min(said.shipped, qty - line["released"]))
    elif gone:
        ship_to = qty - line["released"]
    else:
        ship_to = line["shipped"]
    refunded_to = max(line["refunded"], min(qty, qty if whole_refund else said.refunded))
    if status in (S.CANCELLED, S.REFUNDED):
        release_to = qty - ship_to  # closed: whatever did not leave is released
    elif status == S.NEW:
        release_to = line["released"]
    else:  # refunded units that have not left are released (only the line's)
        release_to = max(line["released"], min(refunded_to, qty - ship_to))
    returning_to = max(line["coming_back"], min(ship_to, ship_to if whole_refund else said.returning))
    if status in (S.PAID, S.SHIPPED, S.COMPLETED):
        held_to = qty - release_to
    elif status in (S.CANCELLED, S.REFUNDED) and line["held"]:
        held_to = qty - release_to  # shipped units stay taken: the platform does not put them back
    else:
        held_to = 0
    reserve_to = qty - release_to - ship_to if status in (S.PAID, S.SHIPPED, S.COMPLETED) else 0
    return ({"held": held_to, "released": release_to, "shipped": ship_to, "refunded": refunded_to,
             "coming_back": returning_to}, reserve_to)


def summary(order: Order, lines: list[dict]) -> tuple[OrderStatus, int, int]:
    """The order's stored ``(status, held, shipped)`` from its lines' counts."""
    held = int(any(line["held"] for line in lines))
    shipped = int(any(line["shipped"] for line in lines))
    # one meaning on every channel: closed with nothing shipped is cancelled, whatever the
    # platform calls it (a Taobao trade closed after payment, a WooCommerce "refunded")
    return (S.CANCELLED if order.status == S.REFUNDED and not shipped else order.status), held, shipped
