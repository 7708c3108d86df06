"""The JD (JOS) adapter: declarations and translation on the plugin kit.

JD takes absolute stock only, one SKU a call, so the core pushes right after
ingesting this channel's orders and the rate budget (2 calls/s by default)
is what limits how fast JD hears about sales elsewhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

import httpx

from channelsync import Capabilities, Channel, Setting
from channelsync.sdk.auth import Credential, TokenAuth
from channelsync.sdk.batch import grouped, run_calls
from channelsync.sdk.errors import NotFound, Rejected
from channelsync.sdk.models import (
    Listing,
    ListingContent,
    Order,
    OrderLine,
    OrderStatus,
    Parcel,
    PriceUpdate,
    StockUpdate,
    UpdateResult,
)
from channelsync.sdk.money import fen_to_yuan, yuan_to_fen
from channelsync.sdk.paging import At, Detail, PageNumber, Phases, Reply
from channelsync.sdk.times import BEIJING
from channelsync_jd import api
from channelsync_jd.router import JosRouter, message, parse_timestamp

#: JD order state -> core state. LOCKED (a buyer's cancel or refund request
#: under review) and PAUSE (the seller or JD paused fulfilment) both happen
#: after payment and before shipment: the units stay reserved until JD says
#: TRADE_CANCELED or the order ships.
STATUSES = {
    api.WAIT_SELLER_STOCK_OUT: OrderStatus.PAID,
    api.LOCKED: OrderStatus.PAID,
    api.PAUSE: OrderStatus.PAID,
    api.WAIT_GOODS_RECEIVE_CONFIRM: OrderStatus.SHIPPED,
    api.FINISHED_L: OrderStatus.COMPLETED,
    api.TRADE_CANCELED: OrderStatus.CANCELLED,
}

#: carrier name -> JD ``logiCoprId``. EXAMPLES, to verify against the carrier
#: list in the seller's JD console; override with the ``carriers`` setting.
DEFAULT_CARRIERS = {"SF": "467", "ZTO": "463", "YTO": "2460"}


class JdChannel(Channel):
    """A JD POP shop through the JOS router API."""

    plugin = "jd"
    capabilities = Capabilities(
        stock_mode="absolute",  # updateSkuStock sets a value; JD has no increment or compare-and-set
        idempotency_keys=False,
        stock_batch_size=1,  # one SKU a call
        price_batch_size=1,  # one SKU a call
        listing_page_size=api.SKU_PAGE_SIZE,
        order_page_size=api.ORDER_PAGE_SIZE,
        refund_page_size=api.REFUND_PAGE_SIZE,
        max_order_window=timedelta(days=1),  # JD allows a month; short windows keep pages few
        rate_per_second=2.0,  # 1-2 QPS is what small JOS apps get; operators may raise it
        rate_burst=2,
        can_publish=False,  # new wares need JD category attributes the master does not hold
        can_update_content=True,  # title only
        can_set_shelf=True,  # per ware: every SKU of the ware goes on or off together
        carriers=DEFAULT_CARRIERS,
        timezone=BEIJING,
        stock_read_batch_size=1,  # findSkuStock: one SKU a call
    )
    listing_pages = order_pages = PageNumber()
    refund_pages = Phases(("applications", "services"), PageNumber())  # both lists page at 50
    simulator_class = "channelsync_jd.sim:JdSimulator"

    settings_schema = {
        "base_url": Setting(str, default="https://api.jd.com", help="JOS gateway root (POST {base_url}/routerjson)"),
        "app_key": Setting(str, required=True, help="JOS console > application > App Key"),
        "app_secret": Setting(str, required=True, secret=True, help="JOS console > application > App Secret"),
        "access_token": Setting(str, required=True, secret=True,
                                help="the seller's authorisation of the app (OAuth), long-lived"),
        "refresh_token": Setting(str, secret=True, default=None,
                                 help="from the same authorisation; lets the channel renew an expired access_token"),
        "oauth_url": Setting(str, default="https://open-oauth.jd.com", help="JD OAuth root for token refresh"),
        "order_date_type": Setting(str, default=api.DATE_TYPE_MODIFIED,
                                   help="pop.order.search dateType that filters by modified time (unconfirmed)"),
        "carriers": Setting(dict, default=DEFAULT_CARRIERS,
                            help="carrier name -> JD logiCoprId (defaults are examples: verify them)"),
        "param_json_in": Setting(str, default="body", choices=("body", "query"),
                                 help="send 360buy_param_json in the form body or the query string"),
        "store_id": Setting(str, default=None, help="storeId for updateSkuStock (multi-warehouse shops)"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        super().__init__(name, settings, http)
        self.client = JosRouter(self.call, app_key=str(self.settings["app_key"] or ""),
                                secret=str(self.settings["app_secret"] or ""), token=lambda: self.auth.token(),
                                param_json_in=self.settings["param_json_in"])
        if self.settings["carriers"] is not DEFAULT_CARRIERS:  # the operator's verified carrier ids
            self.capabilities = replace(self.capabilities, carriers={
                str(k).upper(): str(v) for k, v in dict(self.settings["carriers"]).items()})
        self.auth = TokenAuth(self, refresh=self._refresh,
                              reauthorize="authorise the app again in the JOS console (OAuth)")

    # --- listings and updates ------------------------------------------------
    def listing_page(self, at: At) -> Reply[Listing]:
        page = self.client.execute(api.SKU_SEARCH, {
            "skuStatuValue": [api.SKU_LISTED, api.SKU_DELISTED], "pageNo": at.page,
            "page_size": at.size, "field": api.SKU_FIELDS}).get("page") or {}
        return Reply([_listing(row) for row in page.get("data") or []], total=int(page.get("totalItem") or 0))

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        store = {"storeId": _id(self.settings["store_id"])} if self.settings["store_id"] else {}
        return run_calls(updates, grouped(updates, _sku, lambda one: self.client.execute(api.STOCK_UPDATE, {
            "skuId": _id(one[0].external_id), "stockNum": max(0, one[0].quantity), **store})))

    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """``findSkuStock``, one SKU a call; a SKU JD does not know is left out."""
        shown: dict[str, int] = {}
        for external_id in external_ids:
            try:
                root = self.client.execute(api.STOCK_READ, {"skuId": _id(external_id)})
            except NotFound:
                continue
            shown[external_id] = int(root["stockNum"])
        return shown

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        return run_calls(updates, grouped(updates, _sku, lambda one: self.client.execute(api.PRICE_UPDATE, {
            "skuId": _id(one[0].external_id), "jdPrice": fen_to_yuan(one[0].price)})))

    def update_listing(self, content: ListingContent) -> None:
        self.client.execute(api.WARE_TITLE_UPDATE, {"wareId": _ware(content), "title": content.title})

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        self.client.execute(api.WARE_UP_OR_DOWN, {"wareId": _ware(content),
                                                  "op": api.WARE_UP if on else api.WARE_DOWN})

    # --- orders ----------------------------------------------------------------
    def order_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        # JD times have whole seconds and the window is inclusive: truncating both
        # ends re-reads at most a second, which the core's upsert absorbs.
        result = self.client.execute(api.ORDER_SEARCH, {
            "start_date": self.platform_text(since), "end_date": self.platform_text(until),
            "order_state": ",".join(api.ORDER_STATES), "optional_fields": api.ORDER_FIELDS,
            "page": str(at.page), "page_size": str(at.size),
            "dateType": str(self.settings["order_date_type"])}).get("searchorderinfo_result") or {}
        return Reply([_order(info) for info in result.get("orderInfoList") or []],
                     total=int(result.get("orderTotal") or 0))

    def refund_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        """Orders whose after-sales moved in the window, each read again with its lines' counts.

        Two lists, one after the other (``Phases``): refund applications approved in the
        window (they name no lines), then after-sales services (``asc.query.list``: one per
        SKU, with the units and what the buyer expects). Each order is a detail the core reads.
        """
        if at.phase == "services":
            page = _services_result(self.client.execute(api.ASC_QUERY, {
                "updateTimeBegin": self.platform_text(since), "updateTimeEnd": self.platform_text(until),
                "pageNumber": at.page, "pageSize": at.size}))
            rows = page.get("data") or []
            return Reply([Detail(oid, fetch=lambda oid=oid: self._with_after_sales(oid))
                          for oid in dict.fromkeys(str(row["orderId"]) for row in rows)],
                         total=int(page.get("totalCount") or 0), count=len(rows))
        result = self.client.execute(api.REFUND_QUERY, {
            "applyTimeStart": self.platform_text(since), "applyTimeEnd": self.platform_text(until),
            "pageIndex": at.page, "pageSize": at.size}).get("queryResult") or {}
        rows = result.get("result") or []
        refunded: dict[str, datetime] = {}
        for row in rows:
            if str(row.get("status")) in api.REFUND_APPROVED:
                when = self.platform_time(row.get("checkTime") or row.get("applyTime") or self.platform_text(until))
                order_id = str(row["orderId"])
                refunded[order_id] = max(when, refunded.get(order_id, when))  # several applications: the latest
        return Reply([Detail(order_id, fetch=lambda o=order_id, w=when: self._with_after_sales(o, w))
                      for order_id, when in refunded.items()], total=int(result.get("totalCount") or 0),
                     count=len(rows))

    def _detail(self, order_id: str) -> Order:
        detail = self.client.execute(api.ORDER_GET, {"order_id": order_id, "optional_fields": api.ORDER_FIELDS})
        return _order(detail["orderDetailInfo"]["orderInfo"])

    def fetch_order(self, order_external_id: str) -> Order | None:
        return self._detail(order_external_id)

    def _with_after_sales(self, order_id: str, refunded_at: datetime | None = None) -> Order:
        """The order with each line's units refunded and coming back, from its after-sales
        services (one call: JD opens a service per SKU, so an order has fewer than a page).
        A refund application with no service names no lines: the whole order's money went
        back (before shipment JD cancels it; after, the buyer keeps the goods)."""
        order = self._detail(order_id)
        rows = _services_result(self.client.execute(api.ASC_QUERY, {
            "orderId": order_id, "pageNumber": 1, "pageSize": api.ASC_PAGE_SIZE})).get("data") or []
        counts: dict[str, list[int]] = {}
        for sku, n, expect, status in map(_service, rows):
            if status in api.ASC_DONE:
                c = counts.setdefault(sku, [0, 0])
                c[0] += n if expect in (api.ASC_RETURN, api.ASC_REFUND_ONLY) else 0
                c[1] += n if expect in (api.ASC_RETURN, api.ASC_EXCHANGE) else 0
        if not counts and refunded_at is None:
            return order
        lines = [replace(ln, refunded=min(ln.quantity, counts.get(ln.external_sku_id or "", [0, 0])[0]),
                         returning=min(ln.quantity, counts.get(ln.external_sku_id or "", [0, 0])[1]))
                 if counts else replace(ln, refunded=ln.quantity) for ln in order.lines]
        status = order.status
        if all(ln.refunded >= ln.quantity for ln in lines):  # every unit's money went back
            gone = order.shipped or order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED)
            status = OrderStatus.REFUNDED if gone else OrderStatus.CANCELLED
        return replace(order, status=status, lines=lines,
                       modified_at=max(order.modified_at, refunded_at or order.modified_at))

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        """``carrier`` is JD's ``logiCoprId``: the core maps the operator's name through ``carriers``."""
        self.client.execute(api.ORDER_SHIPMENT, {"orderId": order_external_id, "logiCoprId": carrier,
                                                 "logiNo": tracking_no})

    # --- auth --------------------------------------------------------------------
    def _refresh(self, refresh_token: str) -> Credential:
        """Trade the seller's refresh token for a new access token (JD OAuth 2)."""
        response = self.call("GET", str(self.settings["oauth_url"]).rstrip("/") + api.OAUTH_REFRESH_PATH, params={
            "app_key": self.client.app_key, "app_secret": str(self.settings["app_secret"] or ""),
            "grant_type": "refresh_token", "refresh_token": refresh_token})
        body = self.json(response)
        if isinstance(body, dict) and isinstance(body.get("error_response"), dict):  # e.g. the call limit
            raise JosRouter.error_of(body["error_response"])
        code = str(body.get("code", "0")) if isinstance(body, dict) else "?"
        if response.status_code >= 400 or code != "0" or not body.get("access_token"):
            # A refused refresh needs a person to authorise the app again: permanent.
            raise Rejected(f"token refresh refused: {message(body) if isinstance(body, dict) else ''}",
                           code=code if code != "0" else str(response.status_code))
        return Credential.lasting(body["access_token"], body.get("expires_in"),
                                  body.get("refresh_token") or refresh_token)



def _sku(update: StockUpdate | PriceUpdate) -> str:
    return update.external_id  # one SKU a call


def _id(value: Any) -> Any:
    """JD ids are longs; send digits as numbers, anything else as it is (JD refuses it)."""
    text = str(value)
    return int(text) if text.isdigit() else text


def _ware(content: ListingContent) -> Any:
    if not content.item_id:
        raise Rejected(f"{content.sku_code}: no JD wareId known for this listing (resync first)", code="no-ware-id")
    return _id(content.item_id)


def _fen(value: Any) -> int | None:
    return None if value in (None, "") else yuan_to_fen(str(value))


def _listing(row: dict[str, Any]) -> Listing:
    return Listing(external_id=str(row["skuId"]), sku_code=row.get("outerId") or None,
                   item_id=str(row["wareId"]) if row.get("wareId") is not None else None,
                   quantity=int(row["stockNum"]) if row.get("stockNum") is not None else None,
                   price=_fen(row.get("jdPrice")), on_shelf=int(row.get("status") or 0) == api.SKU_LISTED,
                   title=row.get("wareTitle") or row.get("skuName"))


def _order(info: dict[str, Any]) -> Order:
    """An ``orderInfo``: unknown states count as NEW (reserve nothing) and keep JD's word."""
    state = info.get("orderState") or ""
    created = parse_timestamp(info["orderStartTime"])
    lines = [OrderLine(sku_code=item.get("outerSkuId") or None, quantity=int(item["itemTotal"]),
                       external_sku_id=str(item["skuId"]), price=_fen(item.get("jdPrice")))
             for item in info.get("itemInfoList") or []]
    return Order(external_id=str(info["orderId"]), status=STATUSES.get(state, OrderStatus.NEW),
                 created_at=created, modified_at=parse_timestamp(info.get("modified") or info["orderStartTime"]),
                 lines=lines, total=_fen(info.get("orderPayment") or info.get("orderTotalPrice")),
                 platform_status=state or None,
                 shipped=bool(info.get("waybill")),  # a waybill number means the goods left
                 parcels=[Parcel(str(info.get("logisticsId") or "") or None, str(info["waybill"]))]
                 if info.get("waybill") else [])


def _service(row: dict[str, Any]) -> tuple[str, int, str, str]:
    return str(row["skuId"]), int(row["skuNum"]), str(row["customerExpect"]), str(row["serviceStatus"])


def _services_result(root: dict[str, Any]) -> dict[str, Any]:
    """The page inside an ``asc.query.list`` answer; a refusal inside is a rejected call."""
    result = root.get("result") or {}
    if result.get("success") is False:
        raise Rejected(f"asc.query.list: {result.get('errorMessage') or 'refused'}",
                       code=str(result.get("errorCode") or "asc"))
    return result.get(api.ASC_RESULT) or {}
