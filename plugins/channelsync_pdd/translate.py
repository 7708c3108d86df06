"""PDD payloads -> channelsync models (goods to listings, orders to orders).

Goods APIs count money in fen; order APIs in yuan (README.md, unconfirmed).
A payload missing what PDD always sends raises ``Transient`` ("unexpected
payload"), like a malformed body: the core retries and, if it persists, reports.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from channelsync.sdk.errors import Transient
from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus
from channelsync.sdk.money import yuan_to_fen
from channelsync_pdd import api
from channelsync_pdd.router import parse_time

T = TypeVar("T")

#: order_status -> core state; refund and group-failure states are checked first
STATUSES = {api.TO_SHIP: OrderStatus.PAID, api.SHIPPED: OrderStatus.SHIPPED, api.RECEIVED: OrderStatus.COMPLETED}


def payload(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise Transient(f"unexpected Pinduoduo payload: {type(exc).__name__}: {exc}", code="payload") from exc


def listings_of(goods: dict[str, Any]) -> list[Listing]:
    """One listing per SKU of a goods list row or a goods detail (which adds prices, in fen).

    PDD's group-buy price (``multi_price``) is the listing's price: it is what
    most buyers pay; the single-buy price follows it (see ``PddChannel.set_prices``).
    """
    goods_id = str(goods["goods_id"])
    on_shelf = int(goods.get("is_onsale", api.ONSALE)) == api.ONSALE
    title = goods.get("goods_name")
    return [Listing(external_id=str(sku["sku_id"]), sku_code=sku.get("outer_id") or None, item_id=goods_id,
                    quantity=_int(sku.get("sku_quantity", sku.get("quantity"))), price=_int(sku.get("multi_price")),
                    on_shelf=on_shelf and int(sku.get("is_sku_onsale", sku.get("is_onsale", 1))) == 1, title=title)
            for sku in goods.get("sku_list") or []]


def order_of(info: dict[str, Any]) -> Order:
    """An order row of the increment list or ``order_info`` of the detail API."""
    status = int(info["order_status"])
    if int(info.get("refund_status") or api.NO_REFUND) == api.REFUNDED:
        mapped = OrderStatus.REFUNDED  # before shipment this releases the units; after, a return
    elif int(info.get("confirm_status") or 1) == api.GROUP_FAILED:
        mapped = OrderStatus.CANCELLED  # the group never formed: PDD gives the money back, nothing ships
    else:
        mapped = STATUSES.get(status, OrderStatus.NEW)
    lines = [OrderLine(sku_code=item.get("outer_id") or None, quantity=int(item["goods_count"]),
                       external_sku_id=str(item["sku_id"]), price=_yuan(item.get("goods_price")))
             for item in info.get("item_list") or []]
    created = parse_time(info["created_time"])
    return Order(external_id=str(info["order_sn"]), status=mapped, created_at=created,
                 modified_at=parse_time(info.get("updated_at") or info["created_time"]), lines=lines,
                 total=_yuan(info.get("pay_amount")), platform_status=f"order_status={status}",
                 shipped=bool(info.get("shipping_time") or info.get("tracking_number")))


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _yuan(value: Any) -> int | None:
    return None if value in (None, "") else yuan_to_fen(str(value))
