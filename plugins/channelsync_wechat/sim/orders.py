"""The simulator's order methods: order ids by update time, order reads, delivery, after-sales.

The base simulator's order states map onto WeChat statuses: new 10, paid 20,
partly shipped 21, shipped 30, completed 100, cancelled 250. Every after-sale
case of the base (one per product line and request) is a WeChat after-sale
order: type REFUND (money only), RETURN (goods back, money back) or EXCHANGE,
with its ``product_info`` count, listed in the order's ``aftersale_detail``. An
order whose every unit was refunded closes as 250. Each parcel is one entry of
``delivery_info.delivery_product_info`` with the products it holds.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, Callable

from channelsync.sim.simulator import Response, SimAfterSale, SimOrder
from channelsync_wechat import api
from channelsync_wechat.sim.products import _int

#: delivery_id codes the simulator knows (the platform lists them in order/deliverycompanylist/get)
CARRIERS = {*api.DELIVERY_IDS, "SIM"}
#: after-sale ids a page; the platform publishes no figure
AFTERSALE_PAGE = 50
STATUSES = {"new": api.UNPAID, "paid": api.PAID, "shipped": api.SHIPPED, "completed": api.COMPLETED,
            "cancelled": api.CANCELLED, "refunded": api.CANCELLED}


class OrdersApi:
    """Mixin for ``WechatSimulator``: order, delivery and after-sale methods."""

    def order_handlers(self) -> dict[str, Callable[[dict[str, Any]], Response]]:
        return {api.ORDER_LIST: self._order_list, api.ORDER_GET: self._order_get,
                api.DELIVERY_SEND: self._delivery_send, api.AFTERSALE_LIST: self._aftersale_list,
                api.AFTERSALE_GET: self._aftersale_get}

    # --- views ----------------------------------------------------------------------------------
    def aftersale_cases(self) -> dict[str, tuple[SimOrder, SimAfterSale]]:
        return {a.aftersale_id: (o, a) for o in self.orders.values() for a in o.aftersales}

    def aftersale_json(self, order: SimOrder, case: SimAfterSale) -> dict[str, Any]:
        kind, status = {"refund": (api.AFTERSALE_REFUND, api.REFUND_DONE[0]),
                        "return": (api.AFTERSALE_RETURN, api.REFUND_DONE[1]),
                        "exchange": (api.AFTERSALE_EXCHANGE, api.EXCHANGE_DONE)}[case.kind]
        line = order.line(case.external_id)
        when = self.epoch(case.created_at)
        return {"after_sale_order_id": case.aftersale_id, "order_id": order.order_id, "status": status,
                "type": kind, "product_info": {"product_id": line.item_id, "sku_id": line.external_id,
                                               "count": case.quantity},
                "refund_info": {"amount": 0 if case.kind == "exchange" else line.price * case.quantity},
                "create_time": when, "update_time": when}

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        lines = [{"product_id": line.item_id, "sku_id": line.external_id, "sku_cnt": line.quantity,
                  "sale_price": line.price, "real_price": line.price * line.quantity,
                  "out_sku_id": line.sku_code or "", "title": self.skus[line.external_id].title
                  if line.external_id in self.skus else ""} for line in order.lines]
        detail: dict[str, Any] = {
            "product_infos": lines,
            "price_info": {"order_price": order.total, "product_price": order.total, "freight": 0},
        }
        if order.paid:
            detail["pay_info"] = {"pay_time": self.epoch(order.created_at)}
        if order.parcels:
            detail["delivery_info"] = {"delivery_product_info": [{
                "waybill_id": p.tracking_no, "delivery_id": p.carrier, "delivery_time": self.epoch(p.at),
                "product_infos": [{"product_id": order.line(ext).item_id, "sku_id": ext, "product_cnt": n}
                                  for ext, n in p.lines.items()]} for p in order.parcels]}
        status = STATUSES[order.status]
        if order.status == "paid" and order.parcels:
            status = api.PARTLY_SHIPPED
        return {"order_id": order.order_id, "status": status,
                "create_time": self.epoch(order.created_at), "update_time": self.epoch(order.modified_at),
                "order_detail": detail,
                "aftersale_detail": {"on_aftersale_order_cnt": 0, "aftersale_order_list": [
                    {"aftersale_order_id": a.aftersale_id, "status": self.aftersale_json(order, a)["status"]}
                    for a in order.aftersales]}}

    def window(self, start: Any, end: Any, longest: timedelta) -> tuple[int, int] | Response:
        """Epoch-second bounds, both ends inclusive, no longer than ``longest``."""
        start, end = _int(start), _int(end)
        if start is None or end is None:
            return self.invalid("start and end times are required epoch seconds")
        if end < start or timedelta(seconds=end - start) > longest:
            return self.error(10020004, f"the range must not be longer than {longest}")
        return start, end

    # --- methods ------------------------------------------------------------------------------
    def _order_list(self, body: dict[str, Any]) -> Response:
        span = body.get("update_time_range")
        if not isinstance(span, dict):
            return self.invalid("update_time_range is required")
        window = self.window(span.get("start_time"), span.get("end_time"), api.ORDER_WINDOW)
        if isinstance(window, Response):
            return window
        paging = self.page(body, api.ORDER_PAGE_MAX)
        if isinstance(paging, Response):
            return paging
        offset, size = paging
        status = _int(body.get("status")) if body.get("status") is not None else None
        orders = sorted((o for o in self.orders.values()
                         if window[0] <= self.epoch(o.modified_at) <= window[1]
                         and (status is None or STATUSES[o.status] == status)),
                        key=lambda o: (self.epoch(o.modified_at), int(o.order_id)))
        chunk = orders[offset:offset + size]
        return self.ok(order_id_list=[o.order_id for o in chunk], next_key=self.next_key(offset + len(chunk)),
                       has_more=offset + len(chunk) < len(orders))

    def found_order(self, body: dict[str, Any]) -> SimOrder | Response:
        order = self.orders.get(str(body.get("order_id") or ""))
        if order is None:
            return self.invalid(f"order_id {body.get('order_id')!r} does not exist")
        return order

    def _order_get(self, body: dict[str, Any]) -> Response:
        order = self.found_order(body)
        if isinstance(order, Response):
            return order
        return self.ok(order=self.order_json(order))

    def _delivery_send(self, body: dict[str, Any]) -> Response:
        """Parcels of a paid order: each lists the products (and counts) it holds; the order
        is partly shipped (21) until every unit has left."""
        order = self.found_order(body)
        if isinstance(order, Response):
            return order
        parcels = body.get("delivery_list")
        if not isinstance(parcels, list) or not parcels or not all(isinstance(p, dict) for p in parcels):
            return self.invalid("delivery_list must hold at least one parcel")
        if order.status != "paid":
            return self.invalid(f"order status {STATUSES[order.status]} does not allow delivery")
        plan = []
        left = Counter({line.external_id: line.open for line in order.lines})
        for parcel in parcels:
            if parcel.get("delivery_id") not in CARRIERS:
                return self.invalid(f"unknown delivery_id {parcel.get('delivery_id')!r}")
            if not parcel.get("waybill_id"):
                return self.invalid("waybill_id is required")
            if _int(parcel.get("deliver_type")) not in (1, 2):
                return self.invalid("deliver_type must be 1 (express) or 2 (no logistics)")
            try:
                sent = Counter()
                for p in parcel.get("product_infos") or []:
                    sent[str(p["sku_id"])] += int(p["product_cnt"])
            except (KeyError, TypeError, ValueError):
                return self.invalid("product_infos need product_id, sku_id and product_cnt")
            if not sent or any(n <= 0 or n > left[sku] for sku, n in sent.items()):
                return self.invalid("product_infos must list units of the order still to ship")
            left -= sent
            plan.append((str(parcel["delivery_id"]), str(parcel["waybill_id"]), dict(sent)))
        for carrier, waybill, sent in plan:
            self.ship(order.order_id, carrier, waybill, sent)
        return self.ok()

    def _aftersale_list(self, body: dict[str, Any]) -> Response:
        if body.get("begin_update_time") is not None or body.get("end_update_time") is not None:
            window = self.window(body.get("begin_update_time"), body.get("end_update_time"), api.AFTERSALE_WINDOW)
            field = "update_time"
        else:
            window = self.window(body.get("begin_create_time"), body.get("end_create_time"), api.AFTERSALE_WINDOW)
            field = "create_time"
        if isinstance(window, Response):
            return window
        paging = self.page({**body, "page_size": AFTERSALE_PAGE}, AFTERSALE_PAGE)
        if isinstance(paging, Response):
            return paging
        offset, size = paging
        rows = [self.aftersale_json(o, a) for o, a in self.aftersale_cases().values()]
        ids = [r["after_sale_order_id"] for r in sorted(rows, key=lambda r: (r[field], int(r["after_sale_order_id"])))
               if window[0] <= r[field] <= window[1]]
        chunk = ids[offset:offset + size]
        return self.ok(after_sale_order_id_list=chunk, next_key=self.next_key(offset + len(chunk)),
                       has_more=offset + len(chunk) < len(ids))

    def _aftersale_get(self, body: dict[str, Any]) -> Response:
        aftersale = str(body.get("after_sale_order_id") or "")
        cases = self.aftersale_cases()
        if aftersale not in cases:
            return self.invalid(f"after_sale_order_id {aftersale!r} does not exist")
        return self.ok(after_sale_order=self.aftersale_json(*cases[aftersale]))
