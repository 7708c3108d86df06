"""The simulator's trade methods: incremental trade lists, fullinfo, shipment, refunds.

The base simulator's order states map onto TOP trade statuses. A paid order
the buyer cancels is, on Taobao, a refund before shipment: TRADE_CLOSED with
a successful refund, like a refunded one. An order closed before payment is
TRADE_CLOSED_BY_TAOBAO.

Each line is a sub-order (``oid`` = tid * 100 + n) with its own ``status``,
``refund_status`` and ``refund_id``, and once in a parcel its ``consign_time``,
``logistics_company`` and ``invoice_no``. Every after-sale case is a refund
(``taobao.refund.get``) with its ``num`` and ``has_good_return``; the simulator
settles each at once (SUCCESS). ``logistics.offline.send`` with ``is_split=1``
ships the sub-orders named in ``sub_tid``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from channelsync.sdk.money import fen_to_yuan
from channelsync.sim.simulator import Response, SimAfterSale, SimLine, SimOrder
from channelsync_taobao import api
from channelsync_taobao.signing import format_time, parse_time

#: TOP's company codes the simulator knows (a real shop has the full list)
CARRIERS = {"SF", "ZTO", "YTO", "STO", "YUNDA", "EMS", "POST", "POSTB", "JD", "DBKD", "BESTQJT", "HTKY", "JTSD"}


class OrdersApi:
    """Mixin for ``TaobaoSimulator``: the trade, logistics and refund methods."""

    def order_handlers(self) -> dict[str, Callable[[dict[str, str]], Response]]:
        return {api.TRADES_INCREMENT: self._increment, api.TRADE_FULLINFO: self._fullinfo,
                api.OFFLINE_SEND: self._offline_send, api.REFUNDS_RECEIVE: self._refunds,
                api.REFUND_GET: self._refund_get}

    # --- views --------------------------------------------------------------------------
    @staticmethod
    def trade_status(order: SimOrder) -> str:
        if order.status == "cancelled":
            return api.TRADE_CLOSED if order.paid else api.TRADE_CLOSED_BY_TAOBAO
        if order.status == "paid" and order.parcels:
            return api.SELLER_CONSIGNED_PART
        return {"new": api.WAIT_BUYER_PAY, "paid": api.WAIT_SELLER_SEND_GOODS,
                "shipped": api.WAIT_BUYER_CONFIRM_GOODS, "completed": api.TRADE_FINISHED,
                "refunded": api.TRADE_CLOSED}[order.status]

    def refunded(self, order: SimOrder) -> bool:
        return bool(order.aftersales) or (order.status == "cancelled" and order.paid)

    @staticmethod
    def oid(order: SimOrder, n: int) -> int:
        return int(order.order_id) * 100 + n

    def sub_order(self, order: SimOrder, n: int, line: SimLine, trade_status: str) -> dict[str, Any]:
        cases = [a for a in order.aftersales if a.external_id == line.external_id and a.kind != "exchange"]
        status = trade_status
        if line.released >= line.quantity or (order.status == "cancelled" and order.paid):
            status = api.TRADE_CLOSED  # refunded before it shipped: the sub-order is closed
        elif line.shipped >= line.quantity - line.released and line.shipped and order.status == "paid":
            status = api.WAIT_BUYER_CONFIRM_GOODS
        sub: dict[str, Any] = {
            "oid": self.oid(order, n), "num_iid": int(line.item_id), "sku_id": int(line.external_id),
            "num": line.quantity, "price": fen_to_yuan(line.price), "status": status,
            "refund_status": api.REFUND_SUCCESS if cases or status == api.TRADE_CLOSED else api.NO_REFUND,
            **({"outer_sku_id": line.sku_code} if line.sku_code else {})}
        if cases:
            sub["refund_id"] = int(cases[-1].aftersale_id)
        parcels = [p for p in order.parcels if line.external_id in p.lines]
        if parcels:
            sub.update(consign_time=format_time(parcels[0].at), logistics_company=parcels[-1].carrier,
                       invoice_no=parcels[-1].tracking_no)
        return sub

    def trade_json(self, order: SimOrder) -> dict[str, Any]:
        status = self.trade_status(order)
        trade: dict[str, Any] = {
            "tid": int(order.order_id), "status": status, "created": format_time(order.created_at),
            "modified": format_time(order.modified_at), "payment": fen_to_yuan(order.total),
            "orders": {"order": [self.sub_order(order, n, line, status) for n, line in enumerate(order.lines)]}}
        if order.paid:
            trade["pay_time"] = format_time(order.created_at)
        if order.parcels:
            trade["consign_time"] = format_time(order.parcels[0].at)
        return trade

    def refund_json(self, order: SimOrder, case: SimAfterSale) -> dict[str, Any]:
        n = next(i for i, line in enumerate(order.lines) if line.external_id == case.external_id)
        price = order.lines[n].price
        return {"refund_id": int(case.aftersale_id), "tid": int(order.order_id), "oid": self.oid(order, n),
                "status": api.REFUND_SUCCESS, "modified": format_time(case.created_at),
                "refund_fee": fen_to_yuan(price * case.quantity), "num": case.quantity,
                "has_good_return": case.kind == "return", "good_status": "BUYER_RETURNED_GOODS"
                if case.kind == "return" else ("BUYER_RECEIVED" if case.shipped_before else "BUYER_NOT_RECEIVED")}

    def _window(self, params: dict[str, str], required: bool) -> tuple[datetime, datetime] | None | Response:
        if not required and not params.get("start_modified") and not params.get("end_modified"):
            return None
        refused = self.required(params, "start_modified", "end_modified")
        if refused:
            return refused
        try:
            start, end = parse_time(params["start_modified"]), parse_time(params["end_modified"])
        except ValueError:
            return self.invalid("start_modified", "times must be yyyy-MM-dd HH:mm:ss")
        if end < start:
            return self.invalid("end_modified", "end_modified must not be before start_modified")
        return start, end

    @staticmethod
    def in_window(moment: datetime, window: tuple[datetime, datetime] | None) -> bool:
        """TOP compares whole seconds, both ends inclusive."""
        return window is None or window[0] <= moment.replace(microsecond=0) <= window[1]

    def paged(self, method: str, key: str, rows: list[dict], params: dict[str, str], most: int) -> Response:
        paging = self.page(params, 40, most)
        if isinstance(paging, Response):
            return paging
        page_no, size = paging
        body: dict[str, Any] = {key + "s": {key: rows[(page_no - 1) * size:page_no * size]}}
        if (params.get("use_has_next") or "").lower() == "true":
            body["has_next"] = page_no * size < len(rows)
        else:
            body["total_results"] = len(rows)
        return self.ok(method, body)

    # --- methods --------------------------------------------------------------------------
    def _increment(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "fields")
        if refused:
            return refused
        window = self._window(params, required=True)
        if isinstance(window, Response):
            return window
        if window[1] - window[0] > self.max_order_window:
            minutes = int(self.max_order_window.total_seconds() // 60)
            return self.refused("isv.invalid-parameter:start_modified-end_modified",
                                f"end_modified - start_modified must not exceed {minutes} minutes")
        orders = [o for o in self.orders.values() if self.in_window(o.modified_at, window)
                  and (not params.get("status") or self.trade_status(o) == params["status"])]
        # newest-modified first, as TOP lists them
        orders.sort(key=lambda o: (o.modified_at.replace(microsecond=0), int(o.order_id)), reverse=True)
        return self.paged(api.TRADES_INCREMENT, "trade", [self.trade_json(o) for o in orders], params,
                          api.TRADE_PAGE_MAX)

    def _fullinfo(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "tid", "fields")
        if refused:
            return refused
        order = self.orders.get(params["tid"])
        if order is None:
            return self.refused("isv.trade-not-exist", f"trade {params['tid']} does not exist")
        return self.ok(api.TRADE_FULLINFO, {"trade": self.trade_json(order)})

    def _offline_send(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "tid", "out_sid", "company_code")
        if refused:
            return refused
        order = self.orders.get(params["tid"])
        if order is None:
            return self.refused("isv.trade-not-exist", f"trade {params['tid']} does not exist")
        if params["company_code"] not in CARRIERS:
            return self.refused("isv.logistics-offline-service-error:company_code",
                                f"unknown company_code {params['company_code']}")
        if order.status != "paid":
            return self.refused("isv.logistics-offline-service-error:trade-status",
                                f"trade status {self.trade_status(order)} does not allow shipping")
        lines = None
        if params.get("is_split") == "1":
            oids = {s.strip() for s in params.get("sub_tid", "").split(",") if s.strip()}
            lines = {line.external_id: line.open for n, line in enumerate(order.lines)
                     if str(self.oid(order, n)) in oids and line.open > 0}
            if not lines or len(lines) != len(oids):
                return self.invalid("sub_tid", "sub_tid must name sub-orders of this trade still to ship")
        self.ship(order.order_id, params["company_code"], params["out_sid"], lines)
        return self.ok(api.OFFLINE_SEND, {"shipping": {"is_success": True}})

    def _refunds(self, params: dict[str, str]) -> Response:
        window = self._window(params, required=False)
        if isinstance(window, Response):
            return window
        rows = []
        for order in self.orders.values():
            for case in order.aftersales:
                if case.kind == "exchange" or not self.in_window(case.created_at, window):
                    continue
                if params.get("status") and params["status"] != api.REFUND_SUCCESS:
                    continue
                rows.append((case.created_at, self.refund_json(order, case)))
        rows.sort(key=lambda r: (r[0], r[1]["refund_id"]), reverse=True)
        return self.paged(api.REFUNDS_RECEIVE, "refund", [r for _, r in rows], params, api.REFUND_PAGE_MAX)

    def _refund_get(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "refund_id", "fields")
        if refused:
            return refused
        for order in self.orders.values():
            for case in order.aftersales:
                if case.aftersale_id == params["refund_id"] and case.kind != "exchange":
                    return self.ok(api.REFUND_GET, {"refund": self.refund_json(order, case)})
        return self.refused("isv.refund-not-exist", f"refund {params['refund_id']} does not exist")
