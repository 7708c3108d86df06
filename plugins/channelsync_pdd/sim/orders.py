"""The order APIs of the PDD simulator: increment list, detail, shipment, refunds.

PDD lists an order only once it is paid (a buyer's unpaid order is not the
seller's yet); order APIs count money in yuan; both increment APIs take epoch
seconds and refuse windows over 30 minutes. A cancel after payment is a
refund on PDD: ``refund_status`` 4 and a refund row.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from channelsync.sdk.times import BEIJING, format_time
from channelsync.sim.simulator import Response, SimOrder
from channelsync_pdd import api


ORDER_STATUS = {"paid": api.TO_SHIP, "shipped": api.SHIPPED, "completed": api.RECEIVED}


class OrdersApi:
    """Mixed into ``PddSimulator``: the order handlers."""

    def order_handlers(self) -> dict[str, Callable[[dict[str, str]], Response]]:
        return {api.ORDER_INCREMENT: self.order_increment, api.ORDER_INFORMATION: self.order_information,
                api.ONLINE_SEND: self.online_send, api.REFUND_INCREMENT: self.refund_increment}

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        refunded = all(ln.refunded >= ln.quantity for ln in order.lines)
        info: dict[str, Any] = {
            "order_sn": order.order_id, "confirm_status": 1,
            "order_status": ORDER_STATUS.get(order.status, api.SHIPPED if order.carrier else api.TO_SHIP),
            "refund_status": api.REFUNDED if refunded else api.NO_REFUND,
            "created_time": format_time(order.created_at, BEIJING),
            "updated_at": format_time(order.modified_at, BEIJING),
            "pay_amount": order.total / 100,
            "item_list": [{"goods_id": int(ln.item_id), "sku_id": int(ln.external_id), "outer_id": ln.sku_code or "",
                           "goods_count": ln.quantity, "goods_price": ln.price / 100} for ln in order.lines]}
        if order.carrier:
            info.update(logistics_id=int(self.shipments.get(order.order_id, 0)), tracking_number=order.tracking_no,
                        shipping_time=format_time(order.modified_at, BEIJING))
        return info

    def window(self, params: dict[str, str]) -> tuple[datetime, datetime] | Response:
        refused = self.required(params, "start_updated_at", "end_updated_at")
        if refused:
            return refused
        start, end = self.number(params, "start_updated_at"), self.number(params, "end_updated_at")
        if isinstance(start, Response) or isinstance(end, Response):
            return start if isinstance(start, Response) else end
        if end < start:
            return self.fail("10000", "end_updated_at is before start_updated_at")
        if end - start > api.ORDER_WINDOW.total_seconds():
            return self.fail("10000", "start_updated_at..end_updated_at spans more than 30 minutes")
        return datetime.fromtimestamp(start, timezone.utc), datetime.fromtimestamp(end, timezone.utc)

    def _listed(self, rows: list, params: dict[str, str], method: str, key: str, most: int) -> Response:
        paging = self.page(params, most)
        if isinstance(paging, Response):
            return paging
        page, size = paging
        chunk = rows[(page - 1) * size:page * size]
        return self.ok(method, {key: chunk, "total_count": len(rows), "has_next": page * size < len(rows)})

    def order_increment(self, params: dict[str, str]) -> Response:
        window = self.window(params)
        if isinstance(window, Response):
            return window
        start, end = window
        refused = self.required(params, "order_status")
        if refused:
            return refused
        status = self.number(params, "order_status")
        if isinstance(status, Response):
            return status
        # Seconds are whole on PDD: an order is in the window by its updated_at second.
        orders = sorted((o for o in self.orders.values() if o.paid and
                         int(start.timestamp()) <= int(o.modified_at.timestamp()) <= int(end.timestamp())),
                        key=lambda o: (o.modified_at, o.order_id))
        rows = [self.order_json(o) for o in orders]
        rows = [r for r in rows if status == api.ALL_ORDERS or r["order_status"] == status]
        return self._listed(rows, params, api.ORDER_INCREMENT, "order_sn_list", api.PAGE_MAX)

    def _order(self, params: dict[str, str]) -> SimOrder | Response:
        refused = self.required(params, "order_sn")
        if refused:
            return refused
        order = self.orders.get(params["order_sn"])
        if order is None or not order.paid:  # PDD shows the seller paid orders only
            return self.fail("20003", f"order {params['order_sn']} does not exist")
        return order

    def order_information(self, params: dict[str, str]) -> Response:
        order = self._order(params)
        if isinstance(order, Response):
            return order
        return self.ok(api.ORDER_INFORMATION, {"order_info": self.order_json(order)})

    def online_send(self, params: dict[str, str]) -> Response:
        order = self._order(params)
        if isinstance(order, Response):
            return order
        refused = self.required(params, "logistics_id", "tracking_number")
        if refused:
            return refused
        if not str(params["logistics_id"]).isdigit():
            return self.fail("10000", "logistics_id must be PDD's numeric carrier id")
        if order.status != "paid":
            return self.fail("20004", f"order {order.order_id} is {order.status}, not waiting for shipment")
        self.shipments[order.order_id] = str(params["logistics_id"])
        self.ship(order.order_id, str(params["logistics_id"]), str(params["tracking_number"]))
        return self.ok(api.ONLINE_SEND, {"is_success": True})

    def refund_increment(self, params: dict[str, str]) -> Response:
        window = self.window(params)
        if isinstance(window, Response):
            return window
        start, end = window
        refused = self.required(params, "after_sales_status", "after_sales_type")
        if refused:
            return refused
        wanted = self.number(params, "after_sales_status")
        if isinstance(wanted, Response):
            return wanted
        kinds = {"refund": 2, "return": 3, "exchange": 4}  # after_sales_type
        rows = [{"id": int(a.aftersale_id), "order_sn": o.order_id, "sku_id": int(a.external_id),
                 "goods_number": a.quantity, "after_sales_status": 10, "after_sales_type": kinds[a.kind],
                 "updated_time": int(a.created_at.timestamp())}
                for o in self.orders.values() if o.paid for a in o.aftersales
                if int(start.timestamp()) <= int(a.created_at.timestamp()) <= int(end.timestamp())]
        rows = [r for r in rows if wanted in (1, r["after_sales_status"])]  # 1: all
        rows.sort(key=lambda r: (r["updated_time"], r["order_sn"]))
        return self._listed(rows, params, api.REFUND_INCREMENT, "refund_list", api.PAGE_MAX)
