"""TOP payloads -> channelsync models (items to listings, trades to orders).

A payload missing what TOP always sends raises KeyError/ValueError here; the core
turns that into one clear "unexpected payload" error (``UnexpectedPayload``).
"""

from __future__ import annotations

from typing import Any

from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus
from channelsync.sdk.money import yuan_to_fen
from channelsync_taobao import api
from channelsync_taobao.router import parse_time

#: TOP trade status -> core state. TRADE_CLOSED is a trade closed after payment
#: (the buyer was refunded): REFUNDED, which releases the units before shipment
#: and counts as a return after it. TRADE_CLOSED_BY_TAOBAO closes a trade before
#: payment: CANCELLED. Unknown statuses count as NEW (reserve nothing).
STATUSES = {
    api.WAIT_BUYER_PAY: OrderStatus.NEW,
    api.WAIT_SELLER_SEND_GOODS: OrderStatus.PAID,
    "SELLER_CONSIGNED_PART": OrderStatus.PAID,  # partly shipped: the rest is still reserved
    api.WAIT_BUYER_CONFIRM_GOODS: OrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": OrderStatus.SHIPPED,
    api.TRADE_FINISHED: OrderStatus.COMPLETED,
    api.TRADE_CLOSED: OrderStatus.REFUNDED,
    api.TRADE_CLOSED_BY_TAOBAO: OrderStatus.CANCELLED,
}


def fen(value: Any) -> int | None:
    """A yuan string ("12.90") as fen, exactly."""
    return None if value in (None, "") else yuan_to_fen(str(value))


def listings_of(item: dict[str, Any]) -> list[Listing]:
    """One listing per SKU; an item without SKUs is itself the sellable unit."""
    item_id = str(item["num_iid"])
    on_shelf = item.get("approve_status") == api.ONSALE
    title = item.get("title")
    skus = ((item.get("skus") or {}).get("sku")) or []
    if not skus:
        return [Listing(external_id=item_id, sku_code=item.get("outer_id") or None, item_id=item_id,
                        quantity=_int(item.get("num")), price=fen(item.get("price")), on_shelf=on_shelf,
                        title=title)]
    return [Listing(external_id=str(sku["sku_id"]), sku_code=sku.get("outer_id") or None, item_id=item_id,
                    quantity=_int(sku.get("quantity")), price=fen(sku.get("price")), on_shelf=on_shelf,
                    title=title) for sku in skus]


def order_of(trade: dict[str, Any]) -> Order:
    """A trade (list row or fullinfo): lines carry the merchant code (SKU's, else the item's)."""
    status = str(trade.get("status") or "")
    mapped = STATUSES.get(status, OrderStatus.NEW)
    if status == api.TRADE_CLOSED and not trade.get("pay_time"):
        mapped = OrderStatus.CANCELLED  # closed without ever being paid: nothing to refund
    lines = [OrderLine(sku_code=sub.get("outer_sku_id") or sub.get("outer_iid") or None, quantity=int(sub["num"]),
                       external_sku_id=_id(sub.get("sku_id") or sub.get("num_iid")), price=fen(sub.get("price")))
             for sub in ((trade.get("orders") or {}).get("order")) or []]
    created = parse_time(trade["created"])
    return Order(external_id=str(trade["tid"]), status=mapped, created_at=created,
                 modified_at=parse_time(trade.get("modified") or trade["created"]), lines=lines,
                 total=fen(trade.get("payment")), platform_status=status or None,
                 shipped=bool(trade.get("consign_time")))  # a consign time means the goods left


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _id(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
