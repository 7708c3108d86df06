"""TOP payloads -> channelsync models (items to listings, trades to orders)."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from channelsync.sdk.errors import Transient
from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus, Parcel
from channelsync.sdk.money import yuan_to_fen
from channelsync_taobao import api
from channelsync_taobao.signing import parse_time

T = TypeVar("T")

#: TOP trade status -> core state (docs/order-statuses.md). TRADE_CLOSED closes a
#: paid trade: REFUNDED when goods had left, else CANCELLED (a cancel after payment is
#: a refund on Taobao, but nothing shipped: see ``order_of``). TRADE_CLOSED_BY_TAOBAO
#: closes a trade before payment: CANCELLED. SELLER_CONSIGNED_PART is partly shipped:
#: still PAID, and each sub-order says whether it left. Unknown statuses count as NEW.
STATUSES = {
    api.WAIT_BUYER_PAY: OrderStatus.NEW,
    api.WAIT_SELLER_SEND_GOODS: OrderStatus.PAID,
    api.SELLER_CONSIGNED_PART: OrderStatus.PAID,
    api.WAIT_BUYER_CONFIRM_GOODS: OrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": OrderStatus.SHIPPED,
    api.TRADE_FINISHED: OrderStatus.COMPLETED,
    api.TRADE_CLOSED: OrderStatus.REFUNDED,
    api.TRADE_CLOSED_BY_TAOBAO: OrderStatus.CANCELLED,
}
#: sub-order statuses that mean its goods left the warehouse
SUB_SHIPPED = {api.WAIT_BUYER_CONFIRM_GOODS, "TRADE_BUYER_SIGNED", api.TRADE_FINISHED}


def payload(parse: Callable[[], T]) -> T:
    """Run a parse; a payload missing what TOP always sends is garbled, like a malformed body."""
    try:
        return parse()
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise Transient(f"unexpected Taobao payload: {type(exc).__name__}: {exc}", code="payload") from exc


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


def order_of(trade: dict[str, Any], refunds: dict[str, dict[str, Any]] | None = None) -> Order:
    """A trade (list row or fullinfo) with its sub-orders as lines; ``refunds`` are the
    refund details (``taobao.refund.get``) by refund_id, which give the units refunded
    and whether the goods come back. Without a detail a sub-order refunded in full
    counts all its units (a closed sub-order), else none yet."""
    status = str(trade.get("status") or "")
    mapped = STATUSES.get(status, OrderStatus.NEW)
    if status == api.TRADE_CLOSED and not trade.get("consign_time"):
        mapped = OrderStatus.CANCELLED  # closed with nothing shipped: paid or not, a cancel
    subs = ((trade.get("orders") or {}).get("order")) or []
    lines = [_line(sub, (refunds or {}).get(str(sub.get("refund_id")))) for sub in subs]
    parcels: dict[tuple[str, str], list[OrderLine]] = {}
    for sub, line in zip(subs, lines):
        if sub.get("invoice_no"):
            parcels.setdefault((str(sub.get("logistics_company") or ""), str(sub["invoice_no"])), []).append(
                OrderLine(line.sku_code, line.quantity, line.external_sku_id))
    created = parse_time(trade["created"])
    return Order(external_id=str(trade["tid"]), status=mapped, created_at=created,
                 modified_at=parse_time(trade.get("modified") or trade["created"]), lines=lines,
                 total=fen(trade.get("payment")), platform_status=status or None,
                 shipped=bool(trade.get("consign_time")),  # a consign time means the goods left
                 parcels=[Parcel(carrier or None, no, contents) for (carrier, no), contents in parcels.items()])


def refund_ids(trade: dict[str, Any]) -> list[str]:
    """The refunds whose details ``order_of`` needs: sub-orders with a refund under way or done."""
    return [str(sub["refund_id"]) for sub in ((trade.get("orders") or {}).get("order")) or []
            if sub.get("refund_id") and sub.get("refund_status") not in (None, "", api.NO_REFUND, "CLOSED")]


def _line(sub: dict[str, Any], refund: dict[str, Any] | None) -> OrderLine:
    num = int(sub["num"])
    sub_status = str(sub.get("status") or "")
    refund_status = str(sub.get("refund_status") or "")
    if refund is not None and str(refund.get("status")) == api.REFUND_SUCCESS:
        refunded = min(num, int(refund.get("num") or num))
    else:
        refunded = num if refund_status == api.REFUND_SUCCESS and refund is None else 0
    goods_back = refund is not None and bool(refund.get("has_good_return")) and \
        str(refund.get("good_status") or "") == "BUYER_RETURNED_GOODS"
    returning = min(num, int(refund.get("num") or num)) if goods_back or (
        refund_status == api.WAIT_SELLER_CONFIRM_GOODS and refund is not None) else 0
    shipped = num if sub.get("consign_time") or sub_status in SUB_SHIPPED else 0
    return OrderLine(sku_code=sub.get("outer_sku_id") or sub.get("outer_iid") or None, quantity=num,
                     external_sku_id=_id(sub.get("sku_id") or sub.get("num_iid")), price=fen(sub.get("price")),
                     refunded=refunded, returning=returning, shipped=shipped)


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _id(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
