"""WeChat payloads -> channelsync models (products to listings, orders to orders).

Money is already integer fen on this platform; times are epoch seconds. A payload
missing a field raises here as it is; the core reports it as an unexpected payload.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus, Parcel
from channelsync_wechat import api

#: WeChat order status -> core state (docs/order-statuses.md). 21 (partly shipped) stays
#: PAID: each line's delivered count says what left. 250 closes an order: CANCELLED, or
#: REFUNDED when goods had left; 200 (every line through after-sales) likewise.
STATUSES = {
    api.UNPAID: OrderStatus.NEW,
    api.PAID: OrderStatus.PAID,
    api.PARTLY_SHIPPED: OrderStatus.PAID,
    api.SHIPPED: OrderStatus.SHIPPED,
    api.COMPLETED: OrderStatus.COMPLETED,
    api.AFTERSALE_CLOSED: OrderStatus.REFUNDED,
    api.CANCELLED: OrderStatus.CANCELLED,
}
#: after-sale statuses after which the money went back / the goods came back or go out
DONE = set(api.REFUND_DONE) | {api.EXCHANGE_DONE}


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


def order_of(order: dict[str, Any], aftersales: list[dict[str, Any]] | None = None) -> Order:
    """An ``order/get`` order in the core's terms; lines carry the merchant SKU code, the
    units delivered (from the parcels) and, from its after-sale orders, the units refunded
    (REFUND, RETURN) and coming back (RETURN, EXCHANGE)."""
    code = int(order["status"])
    # An unknown status reserves nothing (new) rather than stalling the order window;
    # WeChat's number stays in ``platform_status``.
    status = STATUSES.get(code, OrderStatus.NEW)
    detail = order.get("order_detail") or {}
    parcels = (detail.get("delivery_info") or {}).get("delivery_product_info") or []
    sent: dict[str, int] = {}
    for parcel in parcels:
        for p in parcel.get("product_infos") or []:
            sent[str(p["sku_id"])] = sent.get(str(p["sku_id"]), 0) + int(p.get("product_cnt") or 0)
    back: dict[str, list[int]] = {}
    for case in aftersales or []:
        if str(case.get("status")) not in DONE:
            continue
        info = case.get("product_info") or {}
        c = back.setdefault(str(info["sku_id"]), [0, 0])
        kind = str(case.get("type"))
        c[0] += int(info.get("count") or 0) if kind in (api.AFTERSALE_REFUND, api.AFTERSALE_RETURN) else 0
        c[1] += int(info.get("count") or 0) if kind in (api.AFTERSALE_RETURN, api.AFTERSALE_EXCHANGE) else 0
    gone = bool(parcels) or code in (api.SHIPPED, api.COMPLETED)
    if code in (api.CANCELLED, api.AFTERSALE_CLOSED):
        status = OrderStatus.REFUNDED if gone else OrderStatus.CANCELLED
    lines = []
    for p in detail.get("product_infos") or []:
        sku, qty = str(p["sku_id"]), int(p["sku_cnt"])
        refunded, returning = back.get(sku, [0, 0])
        lines.append(OrderLine(sku_code=str(p.get("out_sku_id") or "") or None, quantity=qty, external_sku_id=sku,
                               price=int(p.get("sale_price") or 0), refunded=min(qty, refunded),
                               returning=min(qty, returning), shipped=min(qty, sent.get(sku, 0)) if parcels else None))
    price_info = detail.get("price_info") or {}
    total = price_info.get("order_price")
    return Order(external_id=str(order["order_id"]), status=status, created_at=epoch(order["create_time"]),
                 modified_at=epoch(order.get("update_time") or order["create_time"]), lines=lines,
                 total=int(total) if total is not None else None, platform_status=str(code), shipped=gone,
                 parcels=[Parcel(str(p.get("delivery_id") or "") or None, str(p.get("waybill_id") or "") or None,
                                 [OrderLine(None, int(i.get("product_cnt") or 0), str(i["sku_id"]))
                                  for i in p.get("product_infos") or []]) for p in parcels])


def aftersale_ids(order: dict[str, Any]) -> list[str]:
    """The after-sale orders an ``order/get`` order lists."""
    detail = order.get("aftersale_detail") or {}
    return [str(a["aftersale_order_id"]) for a in detail.get("aftersale_order_list") or []
            if a.get("aftersale_order_id")]


def delivery_products(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Every unit of an order not delivered yet, as ``delivery/send`` lists the goods in a parcel."""
    detail = order.get("order_detail") or {}
    sent: dict[str, int] = {}
    for parcel in (detail.get("delivery_info") or {}).get("delivery_product_info") or []:
        for p in parcel.get("product_infos") or []:
            sent[str(p["sku_id"])] = sent.get(str(p["sku_id"]), 0) + int(p.get("product_cnt") or 0)
    out = []
    for p in detail.get("product_infos") or []:
        left = int(p["sku_cnt"]) - sent.pop(str(p["sku_id"]), 0)
        if left > 0:
            out.append({"product_id": str(p["product_id"]), "sku_id": str(p["sku_id"]), "product_cnt": left})
    return out
