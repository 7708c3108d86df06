"""The order side of the JD simulator: order search and detail, shipment, refund applications.

A mixin for ``JdSimulator`` (which provides ``ok``, ``fail`` and the base
``Simulator`` state). Failures answer the way each JD API does: order
search/get inside ``apiResult``, shipment inside ``sopjosshipment_result``,
refund queries inside ``queryResult``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from channelsync.sdk.money import fen_to_yuan
from channelsync.sim.simulator import Response, SimOrder
from channelsync_jd import api
from channelsync_jd import router as codes
from channelsync.sdk.times import BEIJING, format_time
from channelsync_jd.router import parse_timestamp

#: simulator order state -> JD orderState; unpaid orders are not shown (the
#: POP order APIs list orders from payment on). A refund before shipment
#: cancels the JD order; after shipment the order keeps its state and the
#: refund lives in the after-sales system.
JD_STATE = {"paid": api.WAIT_SELLER_STOCK_OUT, "shipped": api.WAIT_GOODS_RECEIVE_CONFIRM,
            "completed": api.FINISHED_L, "cancelled": api.TRADE_CANCELED}


def jd_state(order: SimOrder) -> str | None:
    if order.status == "refunded":
        return api.WAIT_GOODS_RECEIVE_CONFIRM if order.parcels else api.TRADE_CANCELED
    return JD_STATE.get(order.status)


#: SimAfterSale kind -> asc customerExpect
EXPECT = {"return": api.ASC_RETURN, "exchange": api.ASC_EXCHANGE, "refund": api.ASC_REFUND_ONLY}


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


class OrderApi:
    """Handlers for ``jingdong.pop.order.*`` and the refund application query."""

    orders: dict[str, SimOrder]

    # --- order search and detail -------------------------------------------------
    def search_orders(self, method: str, p: dict) -> Response:
        def refuse(code: str, message: str) -> Response:
            return self.ok(method, {"searchorderinfo_result": {
                "apiResult": {"success": False, "numberCode": code, "englishErrCode": message,
                              "chineseErrCode": message}, "orderInfoList": [], "orderTotal": 0}})

        try:
            start, end = parse_timestamp(str(p["start_date"])), parse_timestamp(str(p["end_date"]))
        except (KeyError, ValueError):
            return refuse(codes.PARAM_ERROR, "start_date and end_date are required (yyyy-MM-dd HH:mm:ss)")
        if end < start:
            return refuse(codes.PARAM_ERROR, "end_date is before start_date")
        if end - start > timedelta(days=api.ORDER_MAX_SPAN_DAYS):
            return refuse(codes.PARAM_ERROR, "start_date..end_date spans more than one month")
        size, page_no = _int(p.get("page_size", 20)), _int(p.get("page", 1))
        if size is None or not 1 <= size <= api.ORDER_PAGE_SIZE:
            return refuse(codes.PARAM_ERROR, f"page_size must be 1..{api.ORDER_PAGE_SIZE}")
        if page_no is None or page_no < 1:
            return refuse(codes.PARAM_ERROR, "page must be >= 1")
        date_type = str(p.get("dateType", api.DATE_TYPE_MODIFIED))
        if date_type not in (api.DATE_TYPE_MODIFIED, api.DATE_TYPE_CREATED):
            return refuse(codes.PARAM_ERROR, f"unknown dateType {date_type}")
        states = set(str(p.get("order_state") or ",".join(api.ORDER_STATES)).split(","))
        unknown = states - set(api.ORDER_STATES)
        if unknown:
            return refuse(codes.PARAM_ERROR, f"unknown order_state {','.join(sorted(unknown))}")

        def stamp(o: SimOrder) -> datetime:
            return _seconds(o.modified_at if date_type == api.DATE_TYPE_MODIFIED else o.created_at)

        # JD compares whole seconds and includes both ends of the window.
        found = sorted((o for o in self.orders.values()
                        if jd_state(o) in states and _seconds(start) <= stamp(o) <= _seconds(end)),
                       key=lambda o: (stamp(o), o.order_id))
        chunk = found[(page_no - 1) * size: page_no * size]
        return self.ok(method, {"searchorderinfo_result": {
            "apiResult": {"success": True, "numberCode": "", "englishErrCode": "", "chineseErrCode": ""},
            "orderInfoList": [self.render_order(o) for o in chunk], "orderTotal": len(found)}})

    def get_order(self, method: str, p: dict) -> Response:
        order = self.orders.get(str(p.get("order_id")))
        if order is None or jd_state(order) is None:
            message = f"order {p.get('order_id')} does not exist"
            return self.ok(method, {"orderDetailInfo": {"apiResult": {
                "success": False, "numberCode": codes.ORDER_NOT_EXIST, "englishErrCode": message,
                "chineseErrCode": message}}})
        return self.ok(method, {"orderDetailInfo": {"apiResult": {"success": True},
                                                    "orderInfo": self.render_order(order)}})

    @staticmethod
    def render_order(o: SimOrder) -> dict[str, Any]:
        total = fen_to_yuan(o.total)
        return {"orderId": o.order_id, "orderState": jd_state(o), "orderStartTime": format_time(o.created_at, BEIJING),
                "modified": format_time(o.modified_at, BEIJING), "orderTotalPrice": total, "orderPayment": total,
                "waybill": o.tracking_no or "", "logisticsId": o.carrier or "",
                "itemInfoList": [{"skuId": line.external_id, "wareId": line.item_id, "outerSkuId": line.sku_code or "",
                                  "itemTotal": str(line.quantity), "jdPrice": fen_to_yuan(line.price)}
                                 for line in o.lines]}

    # --- shipment --------------------------------------------------------------------
    def shipment(self, method: str, p: dict) -> Response:
        def result(code: str = "", message: str = "") -> Response:
            return self.ok(method, {"sopjosshipment_result": {
                "success": not code, "error_code": code, "english_err_code": message, "chinese_err_code": message}})

        order_id, carrier, tracking = str(p.get("orderId")), str(p.get("logiCoprId") or ""), str(p.get("logiNo") or "")
        if not carrier.isdigit():
            return result(codes.PARAM_ERROR, "logiCoprId must be JD's numeric carrier id")
        if not tracking:
            return result(codes.PARAM_ERROR, "logiNo is required")
        order = self.orders.get(order_id)
        if order is None or jd_state(order) is None:
            return result(codes.ORDER_NOT_EXIST, f"order {order_id} does not exist")
        if order.status != "paid":
            return result(codes.ORDER_STATE_ERROR, f"order {order_id} is {jd_state(order)}, not WAIT_SELLER_STOCK_OUT")
        self.ship(order_id, carrier, tracking)
        return result()

    # --- refund applications -------------------------------------------------------------
    def query_refunds(self, method: str, p: dict) -> Response:
        def refuse(message: str) -> Response:
            return self.ok(method, {"queryResult": {"success": False, "errorCode": codes.PARAM_ERROR,
                                                    "errorMessage": message, "result": [], "totalCount": 0}})

        size, page_no = _int(p.get("pageSize", 10)), _int(p.get("pageIndex", 1))
        if size is None or not 1 <= size <= api.REFUND_PAGE_SIZE:
            return refuse(f"pageSize must be 1..{api.REFUND_PAGE_SIZE}")
        if page_no is None or page_no < 1:
            return refuse("pageIndex must be >= 1")
        try:
            start = parse_timestamp(str(p["applyTimeStart"])) if p.get("applyTimeStart") else None
            end = parse_timestamp(str(p["applyTimeEnd"])) if p.get("applyTimeEnd") else None
        except ValueError:
            return refuse("applyTimeStart/applyTimeEnd must be yyyy-MM-dd HH:mm:ss")
        found = sorted((o for o in self.orders.values() if o.refunded_at is not None
                        and (start is None or _seconds(o.refunded_at) >= _seconds(start))
                        and (end is None or _seconds(o.refunded_at) <= _seconds(end))
                        and (not p.get("orderId") or str(p["orderId"]) == o.order_id)),
                       key=lambda o: (o.refunded_at, o.order_id))
        chunk = found[(page_no - 1) * size: page_no * size]
        # The base refunds at once, so every application is already approved ("1").
        rows = [{"id": int(o.order_id) * 10 + 1 if o.order_id.isdigit() else o.order_id + "-1",
                 "orderId": o.order_id, "status": "1", "applyTime": format_time(o.refunded_at, BEIJING),
                 "checkTime": format_time(o.refunded_at, BEIJING)} for o in chunk]
        return self.ok(method, {"queryResult": {"success": True, "result": rows, "totalCount": len(found)}})


    # --- after-sales services ---------------------------------------------------------------
    def query_services(self, method: str, p: dict) -> Response:
        """``asc.query.list`` by ``orderId`` or an update-time window: one service per
        after-sale case, each naming its SKU, count and what the buyer expects."""
        def refuse(message: str) -> Response:
            return self.ok(method, {"result": {"success": False, "errorCode": codes.PARAM_ERROR,
                                               "errorMessage": message}})

        size, page_no = _int(p.get("pageSize", 10)), _int(p.get("pageNumber", 1))
        if size is None or not 1 <= size <= api.ASC_PAGE_SIZE:
            return refuse(f"pageSize must be 1..{api.ASC_PAGE_SIZE}")
        if page_no is None or page_no < 1:
            return refuse("pageNumber must be >= 1")
        try:
            start = parse_timestamp(str(p["updateTimeBegin"])) if p.get("updateTimeBegin") else None
            end = parse_timestamp(str(p["updateTimeEnd"])) if p.get("updateTimeEnd") else None
        except ValueError:
            return refuse("updateTimeBegin/updateTimeEnd must be yyyy-MM-dd HH:mm:ss")
        if start is None and not p.get("orderId"):
            return refuse("orderId or updateTimeBegin is required")
        rows = sorted(((o, a) for o in self.orders.values() for a in o.aftersales
                       if (not p.get("orderId") or str(p["orderId"]) == o.order_id)
                       and (start is None or _seconds(a.created_at) >= _seconds(start))
                       and (end is None or _seconds(a.created_at) <= _seconds(end))),
                      key=lambda pair: (pair[1].created_at, pair[1].aftersale_id))
        chunk = rows[(page_no - 1) * size: page_no * size]
        data = [{"serviceId": int(a.aftersale_id), "orderId": o.order_id, "skuId": a.external_id,
                 "skuNum": a.quantity, "customerExpect": EXPECT[a.kind], "serviceStatus": api.ASC_DONE[0],
                 "updateDate": format_time(a.created_at, BEIJING)} for o, a in chunk]
        return self.ok(method, {"result": {"success": True, api.ASC_RESULT: {"data": data,
                                                                             "totalCount": len(rows)}}})


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
