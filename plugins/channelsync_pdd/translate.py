"""PDD payloads -> channelsync models. Goods APIs count money in fen, order APIs in yuan;
times are ``yyyy-MM-dd HH:mm:ss`` Beijing time (the channel's declared time zone)."""

from datetime import datetime, timedelta, timezone
from typing import Any

from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus
from channelsync.sdk.money import yuan_to_fen
from channelsync_pdd import api

BEIJING = timezone(timedelta(hours=8), "GMT+8")
STATUSES = {api.TO_SHIP: OrderStatus.PAID, api.SHIPPED: OrderStatus.SHIPPED, api.RECEIVED: OrderStatus.COMPLETED}


def listings_of(goods: dict[str, Any]) -> list[Listing]:
    """A goods list row (no prices) or a goods detail: one listing per SKU, priced at PDD's
    group-buy price (``multi_price``, what most buyers pay)."""
    on_shelf = int(goods.get("is_onsale", 1)) == 1
    return [Listing(str(sku["sku_id"]), sku.get("outer_id") or None, str(goods["goods_id"]),
                    _int(sku.get("sku_quantity", sku.get("quantity"))), _int(sku.get("multi_price")),
                    on_shelf and int(sku.get("is_sku_onsale", sku.get("is_onsale", 1))) == 1, goods.get("goods_name"))
            for sku in goods.get("sku_list") or []]


def order_of(info: dict[str, Any]) -> Order:
    """An increment-list row or ``order_info``. A refund (refund_status 4) or a failed group
    outranks the shipping state; an unknown state counts as NEW (reserves nothing)."""
    status = int(info["order_status"])
    if int(info.get("refund_status") or api.NO_REFUND) == api.REFUNDED:
        mapped = OrderStatus.REFUNDED
    elif int(info.get("confirm_status") or 1) == api.GROUP_FAILED:
        mapped = OrderStatus.CANCELLED
    else:
        mapped = STATUSES.get(status, OrderStatus.NEW)
    lines = [OrderLine(item.get("outer_id") or None, int(item["goods_count"]), str(item["sku_id"]),
                       _yuan(item.get("goods_price"))) for item in info.get("item_list") or []]
    return Order(str(info["order_sn"]), mapped, _time(info["created_time"]),
                 _time(info.get("updated_at") or info["created_time"]), lines, _yuan(info.get("pay_amount")),
                 f"order_status={status}", shipped=bool(info.get("shipping_time") or info.get("tracking_number")))


def _time(text: str) -> datetime:
    return datetime.strptime(str(text).strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _yuan(value: Any) -> int | None:
    return None if value in (None, "") else yuan_to_fen(str(value))
