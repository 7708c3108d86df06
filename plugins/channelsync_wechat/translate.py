"""WeChat payloads -> channelsync models (products to listings, orders to orders).

Money is already integer fen on this platform; times are epoch seconds. A payload
missing a field raises here as it is; the core reports it as an unexpected payload.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus
from channelsync_wechat import api

STATUSES = {
    api.UNPAID: OrderStatus.NEW,
    api.PAID: OrderStatus.PAID,
    api.PARTLY_SHIPPED: OrderStatus.SHIPPED,  # goods left the warehouse; the core books the whole order
    api.SHIPPED: OrderStatus.SHIPPED,
    api.COMPLETED: OrderStatus.COMPLETED,
    api.AFTERSALE_CLOSED: OrderStatus.REFUNDED,
    api.CANCELLED: OrderStatus.CANCELLED,  # REFUNDED when an after-sale returned the money
}


def epoch(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), timezone.utc)


def listings_of(product: dict[str, Any]) -> list[Listing]:
    """One listing per SKU of a ``product/get`` product."""
    product_id = str(product["product_id"])
    on_shelf = int(product.get("status") or 0) == api.ON_SALE
    title = product.get("title")
    return [Listing(external_id=str(sku["sku_id"]), sku_code=str(sku.get("out_sku_id") or "") or None,
                    item_id=product_id, quantity=int(sku.get("stock_num") or 0),
                    price=int(sku.get("sale_price") or 0), on_shelf=on_shelf, title=title)
            for sku in product.get("skus") or []]


def refunded(order: dict[str, Any]) -> bool:
    """True when an after-sale of the order returned the buyer's money."""
    detail = order.get("aftersale_detail") or {}
    return any(str(a.get("status")) in api.REFUND_DONE for a in detail.get("aftersale_order_list") or [])


def order_of(order: dict[str, Any]) -> Order:
    """An ``order/get`` order in the core's terms; lines carry the merchant SKU code."""
    code = int(order["status"])
    # An unknown status reserves nothing (new) rather than stalling the order window;
    # WeChat's number stays in ``platform_status``.
    status = STATUSES.get(code, OrderStatus.NEW)
    if code == api.CANCELLED and refunded(order):
        status = OrderStatus.REFUNDED
    detail = order.get("order_detail") or {}
    lines = [OrderLine(sku_code=str(p.get("out_sku_id") or "") or None, quantity=int(p["sku_cnt"]),
                       external_sku_id=str(p["sku_id"]), price=int(p.get("sale_price") or 0))
             for p in detail.get("product_infos") or []]
    price_info = detail.get("price_info") or {}
    total = price_info.get("order_price")
    delivered = bool((detail.get("delivery_info") or {}).get("delivery_product_info"))
    return Order(external_id=str(order["order_id"]), status=status, created_at=epoch(order["create_time"]),
                 modified_at=epoch(order.get("update_time") or order["create_time"]), lines=lines,
                 total=int(total) if total is not None else None, platform_status=str(code),
                 shipped=delivered or code in (api.PARTLY_SHIPPED, api.SHIPPED, api.COMPLETED))


def delivery_products(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line of an order as ``delivery/send`` lists the goods in a parcel."""
    return [{"product_id": str(p["product_id"]), "sku_id": str(p["sku_id"]), "product_cnt": int(p["sku_cnt"])}
            for p in (order.get("order_detail") or {}).get("product_infos") or []]
