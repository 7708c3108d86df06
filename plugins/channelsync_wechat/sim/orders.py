"""The simulator's order methods: order ids by update time, order reads, delivery, after-sales.

The base simulator's order states map onto WeChat statuses: new 10, paid 20,
shipped 30, completed 100, cancelled 250. A refund is an after-sale that
returned the money: the order closes as 250 and lists the after-sale in
``aftersale_detail`` (type REFUND before shipment, RETURN after). The
simulator keeps one after-sale per refunded order covering the whole order
(the platform opens one per product line).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, Callable

from channelsync.sim.simulator import Response, SimOrder
from channelsync_wechat import api
from channelsync_wechat.sim.products import _int

#: delivery_id codes the simulator knows (the platform lists them in order/deliverycompanylist/get)
CARRIERS = {"SF", "ZTO", "YTO", "STO", "YUNDA", "YD", "EMS", "JD", "JTSD", "DBL", "HTKY", "ZJS", "SIM"}
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

    # --- buyer actions that leave platform records ------------------------------------------
    def ship(self, order_id: str, carrier: str = "SIM", tracking_no: str = "0") -> SimOrder:
        order = super().ship(order_id, carrier, tracking_no)
        with self.lock:
            if order.carrier is not None:
                self.delivered_at.setdefault(order_id, order.modified_at)
        return order

    def refund(self, order_id: str) -> SimOrder:
        order = super().refund(order_id)
        with self.lock:
            if order.status == "refunded" and order_id not in self.aftersales.values():
                self.aftersales[self.new_id()] = order_id
        return order

    # --- views ----------------------------------------------------------------------------------
    def aftersale_id_of(self, order_id: str) -> str | None:
        return next((a for a, o in self.aftersales.items() if o == order_id), None)

    def aftersale_json(self, aftersale_id: str) -> dict[str, Any]:
        order = self.orders[self.aftersales[aftersale_id]]
        returned = order.order_id in self.delivered_at
        when = self.epoch(order.refunded_at or order.modified_at)
        first = order.lines[0]
        return {"after_sale_order_id": aftersale_id, "order_id": order.order_id,
                "status": api.REFUND_DONE[1] if returned else api.REFUND_DONE[0],
                "type": api.AFTERSALE_RETURN if returned else api.AFTERSALE_REFUND,
                "product_info": {"product_id": first.item_id, "sku_id": first.external_id,
                                 "count": sum(line.quantity for line in order.lines)},
                "refund_info": {"amount": order.total}, "create_time": when, "update_time": when}

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        lines = [{"product_id": line.item_id, "sku_id": line.external_id, "sku_cnt": line.quantity,
                  "sale_price": line.price, "real_price": line.price * line.quantity,
                  "out_sku_id": line.sku_code or "", "title": self.line_sku(line).title
                  if line.external_id in self.skus else ""} for line in order.lines]
        detail: dict[str, Any] = {
            "product_infos": lines,
            "price_info": {"order_price": order.total, "product_price": order.total, "freight": 0},
        }
        if order.paid:
            detail["pay_info"] = {"pay_time": self.epoch(order.created_at)}
        if order.order_id in self.delivered_at:
            detail["delivery_info"] = {"delivery_product_info": [{
                "waybill_id": order.tracking_no, "delivery_id": order.carrier,
                "delivery_time": self.epoch(self.delivered_at[order.order_id]),
                "product_infos": [{"product_id": ln["product_id"], "sku_id": ln["sku_id"],
                                   "product_cnt": ln["sku_cnt"]} for ln in lines]}]}
        aftersale = self.aftersale_id_of(order.order_id)
        return {"order_id": order.order_id, "status": STATUSES[order.status],
                "create_time": self.epoch(order.created_at), "update_time": self.epoch(order.modified_at),
                "order_detail": detail,
                "aftersale_detail": {"on_aftersale_order_cnt": 0, "aftersale_order_list": [
                    {"aftersale_order_id": aftersale, "status": self.aftersale_json(aftersale)["status"]}]
                    if aftersale else []}}

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
        """One parcel holding every line of a paid order (partial delivery is not simulated)."""
        order = self.found_order(body)
        if isinstance(order, Response):
            return order
        parcels = body.get("delivery_list")
        if not isinstance(parcels, list) or len(parcels) != 1 or not isinstance(parcels[0], dict):
            return self.invalid("delivery_list must hold one parcel")
        parcel = parcels[0]
        if parcel.get("delivery_id") not in CARRIERS:
            return self.invalid(f"unknown delivery_id {parcel.get('delivery_id')!r}")
        if not parcel.get("waybill_id"):
            return self.invalid("waybill_id is required")
        if _int(parcel.get("deliver_type")) not in (1, 2):
            return self.invalid("deliver_type must be 1 (express) or 2 (no logistics)")
        try:
            sent = Counter({(str(p["product_id"]), str(p["sku_id"])): 0 for p in parcel.get("product_infos") or []})
            for p in parcel.get("product_infos") or []:
                sent[(str(p["product_id"]), str(p["sku_id"]))] += int(p["product_cnt"])
        except (KeyError, TypeError, ValueError):
            return self.invalid("product_infos need product_id, sku_id and product_cnt")
        wanted = Counter()
        for line in order.lines:
            wanted[(line.item_id, line.external_id)] += line.quantity
        if sent != wanted:
            return self.invalid("product_infos must list every line of the order")
        if order.status != "paid":
            return self.invalid(f"order status {STATUSES[order.status]} does not allow delivery")
        self.ship(order.order_id, str(parcel["delivery_id"]), str(parcel["waybill_id"]))
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
        rows = [self.aftersale_json(a) for a in self.aftersales]
        ids = [r["after_sale_order_id"] for r in sorted(rows, key=lambda r: (r[field], int(r["after_sale_order_id"])))
               if window[0] <= r[field] <= window[1]]
        chunk = ids[offset:offset + size]
        return self.ok(after_sale_order_id_list=chunk, next_key=self.next_key(offset + len(chunk)),
                       has_more=offset + len(chunk) < len(ids))

    def _aftersale_get(self, body: dict[str, Any]) -> Response:
        aftersale = str(body.get("after_sale_order_id") or "")
        if aftersale not in self.aftersales:
            return self.invalid(f"after_sale_order_id {aftersale!r} does not exist")
        return self.ok(after_sale_order=self.aftersale_json(aftersale))
