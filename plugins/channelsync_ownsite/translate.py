"""WooCommerce JSON <-> channelsync models: listings, orders, money and dates.

A payload that does not fit raises as it is (``KeyError``, ``ValueError``, ...):
the core reports it as an unexpected payload, once, for every plugin.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus
from channelsync.sdk.money import yuan_to_fen
from channelsync.sdk.times import parse_time
from channelsync_ownsite import api

#: WooCommerce order status -> core state.
#: ``on-hold`` is an order awaiting an offline payment (bank transfer, cheque):
#: WooCommerce has already reduced stock for it, but it is not paid, so it
#: reserves nothing in the master until it turns ``processing``.
#: ``completed`` is WooCommerce's only fulfilment status and what ``ship()`` sets:
#: it means the goods left, so it maps to SHIPPED (stock-wise the same as COMPLETED).
STATUSES = {
    api.PENDING: OrderStatus.NEW,
    api.CHECKOUT_DRAFT: OrderStatus.NEW,
    api.ON_HOLD: OrderStatus.NEW,
    api.PROCESSING: OrderStatus.PAID,
    api.COMPLETED: OrderStatus.SHIPPED,
    api.CANCELLED: OrderStatus.CANCELLED,
    api.FAILED: OrderStatus.CANCELLED,
    api.REFUNDED: OrderStatus.REFUNDED,
}


def price_fen(value: Any) -> int | None:
    """A WooCommerce price ("12.90", "12.9", "" for none) as fen; never through float."""
    if value is None or value == "":
        return None
    try:
        return yuan_to_fen(str(value))
    except ValueError:
        # more than 2 decimals (a shop set to 3-4 price decimals): round like the shop displays
        return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def gmt(value: Any) -> datetime | None:
    """A ``*_gmt`` field ("2024-05-01T08:00:00", no zone) as an aware UTC datetime."""
    return parse_time(str(value), timezone.utc).astimezone(timezone.utc) if value else None


def format_gmt(moment: datetime) -> str:
    """An aware datetime as WooCommerce's GMT query format (used with ``dates_are_gmt=true``)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()


def code(value: Any) -> str | None:
    """The merchant SKU code; WooCommerce sends "" for none."""
    if value is None:
        return None
    return str(value).strip() or None


def quantity(item: dict[str, Any]) -> int | None:
    """``stock_quantity`` when WooCommerce manages the stock of this record, else unknown."""
    if item.get("manage_stock") is True and isinstance(item.get("stock_quantity"), int):
        return item["stock_quantity"]
    return None


def product_listing(product: dict[str, Any]) -> Listing:
    """A simple product is its own SKU: external_id = item_id = product id."""
    pid = str(product["id"])
    return Listing(external_id=pid, sku_code=code(product.get("sku")), item_id=pid, quantity=quantity(product),
                   price=price_fen(product.get("regular_price")), on_shelf=product.get("status") == api.ON_SHELF,
                   title=product.get("name") or None)


def variation_listing(product: dict[str, Any], variation: dict[str, Any]) -> Listing:
    """A variation: on the shelf when both it and its parent product are published."""
    on = product.get("status") == api.ON_SHELF and variation.get("status", api.ON_SHELF) == api.ON_SHELF
    return Listing(external_id=str(variation["id"]), sku_code=code(variation.get("sku")), item_id=str(product["id"]),
                   quantity=quantity(variation), price=price_fen(variation.get("regular_price")), on_shelf=on,
                   title=product.get("name") or None)


def order(payload: dict[str, Any], refunds: list[dict[str, Any]] | None = None) -> Order:
    """A WooCommerce order as the core's Order, lines keyed by merchant SKU code.

    ``refunds`` (``orders/{id}/refunds``) give each line's refunded units: their line
    items carry negative quantities and the product or variation they refund.
    WooCommerce records no returns: units refunded after the order was completed are
    taken to come back (a web shop refunds delivered goods against their return);
    the operator books what arrives with ``channelsync returns receive``."""
    status = str(payload.get("status", ""))
    mapped = STATUSES.get(status)
    if mapped is None:
        # a status added by another plugin ("shipped", "awaiting-shipment", ...): judge by payment
        mapped = OrderStatus.PAID if payload.get("date_paid_gmt") else OrderStatus.NEW
    created = gmt(payload.get("date_created_gmt"))
    modified = gmt(payload.get("date_modified_gmt")) or created
    if created is None or modified is None:
        raise ValueError(f"order {payload.get('id')}: no dates")
    shipped = bool(payload.get("date_completed_gmt")) or status == api.COMPLETED
    back: dict[str, int] = {}
    for refund in refunds or []:
        for item in refund.get("line_items") or []:
            key = str(item.get("variation_id") or item.get("product_id") or "")
            back[key] = back.get(key, 0) + abs(int(item.get("quantity") or 0))
    lines = []
    for item in payload.get("line_items") or []:
        line = _line(item)
        refunded = min(line.quantity, back.pop(line.external_sku_id or "", 0))
        lines.append(replace(line, refunded=refunded, returning=refunded if shipped else 0))
    return Order(external_id=str(payload["id"]), status=mapped, created_at=created, modified_at=modified,
                 lines=lines, total=price_fen(payload.get("total")), platform_status=status, shipped=shipped)


def _line(item: dict[str, Any]) -> OrderLine:
    variation = item.get("variation_id") or 0
    external = str(variation or item.get("product_id") or "") or None
    qty = int(item.get("quantity") or 0)
    unit = None
    subtotal = price_fen(item.get("subtotal"))
    if subtotal is not None and qty:
        unit = int((Decimal(subtotal) / qty).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    elif item.get("price") is not None:
        unit = price_fen(str(item["price"]))  # a JSON number: via its decimal text, not float arithmetic
    return OrderLine(sku_code=code(item.get("sku")), quantity=qty, external_sku_id=external, price=unit)
