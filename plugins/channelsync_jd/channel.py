"""The JD (JOS) adapter: one page, one update, one window a call.

JD takes absolute stock only, one SKU a call, so the core pushes right after
ingesting this channel's orders and the rate budget (2 calls/s by default)
is what limits how fast JD hears about sales elsewhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Sequence, TypeVar

import httpx

from channelsync import Capabilities, Channel, Setting
from channelsync.sdk.errors import NotFound, Rejected, Transient
from channelsync.sdk.models import (
    Listing,
    ListingContent,
    Order,
    OrderLine,
    OrderStatus,
    Page,
    Parcel,
    PriceUpdate,
    StockUpdate,
    UpdateResult,
)
from channelsync.sdk.money import fen_to_yuan, yuan_to_fen
from channelsync_jd import api
from channelsync_jd.client import JdClient
from channelsync_jd.signing import format_plain, parse_timestamp

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

T = TypeVar("T")

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
        max_order_window=timedelta(days=1),  # JD allows a month; short windows keep pages few
        rate_per_second=2.0,  # 1-2 QPS is what small JOS apps get; operators may raise it
        rate_burst=2,
        can_publish=False,  # new wares need JD category attributes the master does not hold
        can_update_content=True,  # title only
        can_set_shelf=True,  # per ware: every SKU of the ware goes on or off together
        stock_read_batch_size=1,  # findSkuStock: one SKU a call
    )
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
        self.client = JdClient(self.call, app_key=str(self.setting("app_key") or ""),
                               app_secret=str(self.setting("app_secret") or ""),
                               access_token=str(self.setting("access_token") or ""),
                               param_json_in=self.setting("param_json_in"))
        self._refresh_token = self.setting("refresh_token")
        self._expires_at: datetime | None = None

    def setting(self, key: str) -> Any:
        """A setting, or its schema default when the config left it out."""
        if self.settings.get(key) is not None:
            return self.settings[key]
        return self.settings_schema[key].default

    # --- listings ------------------------------------------------------------
    def list_listings(self, page_token: str | None) -> Page[Listing]:
        page_no = int(page_token or 1)
        root = self.client.execute(api.SKU_SEARCH, {
            "skuStatuValue": [api.SKU_LISTED, api.SKU_DELISTED], "pageNo": page_no,
            "page_size": api.SKU_PAGE_SIZE, "field": api.SKU_FIELDS})
        page = root.get("page") or {}
        rows = page.get("data") or []
        total = int(page.get("totalItem") or 0)
        more = bool(rows) and page_no * api.SKU_PAGE_SIZE < total
        return Page(translate(_listing, rows), str(page_no + 1) if more else None)

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        store_id = self.setting("store_id")
        return [self._one(u.external_id, api.STOCK_UPDATE, {
            "skuId": _id(u.external_id), "stockNum": max(0, u.quantity),
            **({"storeId": _id(store_id)} if store_id else {})}) for u in updates]

    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """``findSkuStock``, one SKU a call; a SKU JD does not know is left out."""
        shown: dict[str, int] = {}
        for external_id in external_ids:
            try:
                root = self.client.execute(api.STOCK_READ, {"skuId": _id(external_id)})
            except NotFound:
                continue
            shown[external_id] = translate(lambda r: int(r["stockNum"]), [root])[0]
        return shown

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        return [self._one(u.external_id, api.PRICE_UPDATE, {"skuId": _id(u.external_id),
                                                              "jdPrice": fen_to_yuan(u.price)}) for u in updates]

    def _one(self, external_id: str, method: str, params: dict[str, Any]) -> UpdateResult:
        # Permanent failures belong to this update; transient ones fail the call so the core retries it.
        try:
            self.client.execute(method, params)
        except (NotFound, Rejected) as error:
            return UpdateResult(external_id, error)
        return UpdateResult(external_id)

    def update_listing(self, content: ListingContent) -> None:
        self.client.execute(api.WARE_TITLE_UPDATE, {"wareId": _ware(content), "title": content.title})

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        self.client.execute(api.WARE_UP_OR_DOWN, {"wareId": _ware(content),
                                                  "op": api.WARE_UP if on else api.WARE_DOWN})

    # --- orders ----------------------------------------------------------------
    def fetch_orders(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        page_no = int(page_token or 1)
        # JD times have whole seconds and the window is inclusive: truncating both
        # ends re-reads at most a second, which the core's upsert absorbs.
        root = self.client.execute(api.ORDER_SEARCH, {
            "start_date": format_plain(since), "end_date": format_plain(until),
            "order_state": ",".join(api.ORDER_STATES), "optional_fields": api.ORDER_FIELDS,
            "page": str(page_no), "page_size": str(api.ORDER_PAGE_SIZE),
            "dateType": str(self.setting("order_date_type"))})
        result = root.get("searchorderinfo_result") or {}
        infos = result.get("orderInfoList") or []
        more = bool(infos) and page_no * api.ORDER_PAGE_SIZE < int(result.get("orderTotal") or 0)
        return Page(translate(_order, infos), str(page_no + 1) if more else None)

    def fetch_refunds(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        """Orders whose after-sales moved in the window, each read again with its lines' counts.

        Two lists, one after the other: refund applications (approved in the window; they
        name no lines) then after-sales services (``asc.query.list``: one per SKU, with the
        units and what the buyer expects). Page token: ``N`` or ``asc:N``.
        """
        if page_token and page_token.startswith("asc:"):
            return self._services_page(since, until, int(page_token[4:]))
        page_no = int(page_token or 1)
        root = self.client.execute(api.REFUND_QUERY, {
            "applyTimeStart": format_plain(since), "applyTimeEnd": format_plain(until),
            "pageIndex": page_no, "pageSize": api.REFUND_PAGE_SIZE})
        result = root.get("queryResult") or {}
        rows = result.get("result") or []
        refunded: dict[str, datetime] = {}
        approved = [row for row in rows if str(row.get("status")) in api.REFUND_APPROVED]
        for order_id, when in translate(lambda row: (str(row["orderId"]), parse_timestamp(
                row.get("checkTime") or row.get("applyTime") or format_plain(until))), approved):
            refunded[order_id] = max(when, refunded.get(order_id, when))  # several applications: the latest
        orders = [self._with_after_sales(order_id, when) for order_id, when in refunded.items()]
        more = bool(rows) and page_no * api.REFUND_PAGE_SIZE < int(result.get("totalCount") or 0)
        return Page(orders, str(page_no + 1) if more else "asc:1")

    def _services_page(self, since: datetime, until: datetime, page_no: int) -> Page[Order]:
        root = self.client.execute(api.ASC_QUERY, {
            "updateTimeBegin": format_plain(since), "updateTimeEnd": format_plain(until),
            "pageNumber": page_no, "pageSize": api.ASC_PAGE_SIZE})
        page = _services_result(root)
        rows = page.get("data") or []
        ids = translate(lambda row: str(row["orderId"]), rows)
        orders = [self._with_after_sales(order_id) for order_id in dict.fromkeys(ids)]
        more = bool(rows) and page_no * api.ASC_PAGE_SIZE < int(page.get("totalCount") or 0)
        return Page(orders, f"asc:{page_no + 1}" if more else None)

    def _detail(self, order_id: str) -> Order:
        detail = self.client.execute(api.ORDER_GET, {"order_id": order_id, "optional_fields": api.ORDER_FIELDS})
        [order] = translate(_order, [(detail.get("orderDetailInfo") or {}).get("orderInfo") or {}])
        return order

    def fetch_order(self, order_external_id: str) -> Order | None:
        return self._detail(order_external_id)

    def _with_after_sales(self, order_id: str, refunded_at: datetime | None = None) -> Order:
        """The order with each line's units refunded and coming back, from its after-sales
        services. A refund application with no service names no lines: the whole order's
        money went back (before shipment JD cancels it; after, the buyer keeps the goods)."""
        order = self._detail(order_id)
        counts: dict[str, list[int]] = {}
        page_no, more = 1, True
        while more:
            page = _services_result(self.client.execute(api.ASC_QUERY, {
                "orderId": order_id, "pageNumber": page_no, "pageSize": api.ASC_PAGE_SIZE}))
            rows = page.get("data") or []
            for sku, n, expect, status in translate(_service, rows):
                if status not in api.ASC_DONE:
                    continue
                c = counts.setdefault(sku, [0, 0])
                c[0] += n if expect in (api.ASC_RETURN, api.ASC_REFUND_ONLY) else 0
                c[1] += n if expect in (api.ASC_RETURN, api.ASC_EXCHANGE) else 0
            more = bool(rows) and page_no * api.ASC_PAGE_SIZE < int(page.get("totalCount") or 0)
            page_no += 1
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
        self.client.execute(api.ORDER_SHIPMENT, {"orderId": order_external_id,
                                                 "logiCoprId": self.carrier_id(carrier), "logiNo": tracking_no})

    def carrier_id(self, carrier: str) -> str:
        """JD's numeric ``logiCoprId`` for a carrier name (or a number given as is)."""
        if carrier.strip().isdigit():
            return carrier.strip()
        table = {str(k).upper(): str(v) for k, v in (self.setting("carriers") or {}).items()}
        if carrier.strip().upper() not in table:
            raise Rejected(f"no JD logiCoprId for carrier {carrier!r}; add it to the channel's carriers setting",
                           code="unknown-carrier")
        return table[carrier.strip().upper()]

    # --- auth --------------------------------------------------------------------
    def refresh_auth(self) -> None:
        """Renew the access token with the seller's refresh token (JD OAuth 2).

        Without a ``refresh_token`` setting there is nothing to renew with: a
        person must authorise the app again and update ``access_token``.
        """
        if not self._refresh_token:
            raise Rejected("access_token refused and no refresh_token configured: re-authorise the app",
                           code="no-refresh-token")
        grant = self.client.refresh(str(self.setting("oauth_url")), str(self._refresh_token))
        self._refresh_token = grant.refresh_token or self._refresh_token
        self._expires_at = grant.expires_at
        self.save_credentials({"access_token": grant.access_token, "refresh_token": str(self._refresh_token)})

    def token_expires_at(self) -> datetime | None:
        return self._expires_at

    @classmethod
    def simulator(cls, **options: Any):
        from channelsync_jd.sim import JdSimulator

        return JdSimulator(**options)


def translate(parse: Callable[[dict[str, Any]], T], rows: Sequence[Any]) -> list[T]:
    """Parse JD rows; a row missing what JD always sends is a garbled answer, like a malformed body."""
    try:
        return [parse(row) for row in rows]
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise Transient(f"unexpected JD payload: {type(exc).__name__}: {exc}", code="payload") from exc


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
