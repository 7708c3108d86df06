"""PDD payloads -> channelsync models. Goods APIs count money in fen, order APIs in yuan;
times are ``yyyy-MM-dd HH:mm:ss`` Beijing time (the channel's declared time zone)."""

from typing import Any

from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus
from channelsync.sdk.money import yuan_to_fen
from channelsync.sdk.times import BEIJING, parse_time
from channelsync_pdd import api

STATUSES = {api.TO_SHIP: OrderStatus.PAID, api.SHIPPED: OrderStatus.SHIPPED, api.RECEIVED: OrderStatus.COMPLETED}


def listings_of(goods: dict[str, Any]) -> list[Listing]:
    """A goods detail: one listing per SKU at PDD's group-buy price (``multi_price``, what most buyers pay)."""
    on_shelf = int(goods.get("is_onsale", 1)) == 1
    return [Listing(str(sku["sku_id"]), sku.get("outer_id") or None, str(goods["goods_id"]),
                    int(sku["quantity"]), int(sku["multi_price"]), on_shelf and int(sku.get("is_onsale", 1)) == 1,
                    goods.get("goods_name"))
            for sku in goods.get("sku_list") or []]


def order_of(info: dict[str, Any]) -> Order:
    """An increment-list row or ``order_info`` (docs/order-statuses.md). A refund (refund_status 4)
    refunds every line: CANCELLED before shipment, REFUNDED after; a failed group is CANCELLED."""
    status, shipped = int(info["order_status"]), bool(info.get("shipping_time") or info.get("tracking_number"))
    refunded = int(info.get("refund_status") or api.NO_REFUND) == api.REFUNDED
    if refunded or int(info.get("confirm_status") or 1) == api.GROUP_FAILED:
        mapped = OrderStatus.REFUNDED if refunded and (shipped or status != api.TO_SHIP) else OrderStatus.CANCELLED
    else:
        mapped = STATUSES.get(status, OrderStatus.NEW)
    lines = [OrderLine(item.get("outer_id") or None, int(item["goods_count"]), str(item["sku_id"]),
                       _yuan(item.get("goods_price")), refunded=int(item["goods_count"]) if refunded else 0)
             for item in info.get("item_list") or []]
    return Order(str(info["order_sn"]), mapped, parse_time(info["created_time"], BEIJING),
                 parse_time(info.get("updated_at") or info["created_time"], BEIJING), lines,
                 _yuan(info.get("pay_amount")), f"order_status={status}", shipped=shipped)


def _yuan(value: Any) -> int | None:  # order amounts are yuan (goods amounts fen)
    return None if value in (None, "") else yuan_to_fen(str(value))
