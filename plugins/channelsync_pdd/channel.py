"""The Pinduoduo (PDD) adapter on the plugin kit. Stock goes as increments (``update_type=2``) by
default, so a push never erases a sale the core has not ingested yet; PDD takes no idempotency key,
so a timed-out call may have applied and reconciliation repairs the rare double."""

from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping, Sequence

import httpx

from channelsync import Capabilities, Channel, Setting
from channelsync.sdk.auth import Credential, TokenAuth
from channelsync.sdk.batch import grouped, run_calls
from channelsync.sdk.errors import NotFound, Rejected
from channelsync.sdk.models import Listing, ListingContent, Order, PriceUpdate, StockUpdate, UpdateResult
from channelsync.sdk.paging import At, Detail, PageNumber, Reply
from channelsync.sdk.times import BEIJING
from channelsync_pdd import api
from channelsync_pdd.router import PopRouter
from channelsync_pdd.translate import listings_of, order_of

#: carrier -> PDD ``logistics_id``: EXAMPLES, unconfirmed; verify and override with the ``carriers`` setting
CARRIERS = {"SF": "44", "ZTO": "115", "YTO": "85", "STO": "1", "YUNDA": "121", "EMS": "3"}


class PddChannel(Channel):
    """A Pinduoduo shop through PDD's open-platform router."""

    plugin = "pdd"
    capabilities = Capabilities(
        stock_mode="increment", idempotency_keys=False,  # update_type=2 keeps PDD's own sales; no key taken
        stock_batch_size=10, price_batch_size=20,  # stock: a call per SKU; prices: a call per goods
        listing_page_size=api.PAGE_MAX, order_page_size=api.PAGE_MAX, max_order_window=api.ORDER_WINDOW,
        rate_per_second=5.0, rate_burst=5,  # PDD's per-app limits are not published here (unconfirmed)
        can_publish=False, can_update_content=False,  # goods.add / goods.commit need category data and a review
        carriers=CARRIERS, timezone=BEIJING)
    listing_pages = order_pages = refund_pages = PageNumber()
    simulator_class = "channelsync_pdd.sim:PddSimulator"
    settings_schema = {
        "base_url": Setting(str, default="https://gw-api.pinduoduo.com", help="POST {base_url}/api/router"),
        "client_id": Setting(str, required=True, help="open.pinduoduo.com > application > client_id"),
        "client_secret": Setting(str, required=True, secret=True, help="open.pinduoduo.com > client_secret"),
        "access_token": Setting(str, required=True, secret=True, help="the mall's authorisation of the app"),
        "refresh_token": Setting(str, secret=True, help="renews an expired access_token"),
        "stock_updates": Setting(str, default="increment", choices=("increment", "absolute"), help="update_type 2/1"),
        "single_price_markup": Setting(int, default=100, help="fen above the group price for the single-buy price"),
        "carriers": Setting(dict, default=CARRIERS, help="carrier -> PDD logistics_id (verify the defaults)"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        super().__init__(name, settings, http)
        self.client = PopRouter(self.call, app_key=str(self.settings["client_id"] or ""),
                                secret=str(self.settings["client_secret"] or ""), token=lambda: self.auth.token())
        self.capabilities = replace(self.capabilities, stock_mode=self.settings["stock_updates"], carriers={
            str(k).upper(): str(v) for k, v in dict(self.settings["carriers"] or {}).items()})
        self.auth = TokenAuth(self, refresh=self._refresh, reauthorize="have the mall authorise the app again")

    def listing_page(self, at: At) -> Reply[Listing]:
        """Goods and their SKUs; the list has no prices, so each goods' detail is read (fan-out)."""
        root = self.client.execute(api.GOODS_LIST, {"page": at.page, "page_size": at.size})
        goods = root.get("goods_list") or []
        return Reply([Detail(str(g["goods_id"]), fetch=lambda gid=g["goods_id"]: listings_of(self.client.execute(
            api.GOODS_DETAIL, {"goods_id": gid}))) for g in goods], total=root.get("total_count"), count=len(goods))

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        return run_calls(updates, grouped(updates, lambda u: u.external_id, lambda one: self._stock(one[0])))

    def _stock(self, u: StockUpdate) -> None:
        full = self.capabilities.stock_mode == "absolute"
        if full or u.delta:  # an increment of 0 tells PDD nothing
            self.client.execute(api.QUANTITY_UPDATE, {
                "goods_id": _goods(u), "sku_id": u.external_id, "quantity": max(0, u.quantity) if full else u.delta,
                "update_type": api.FULL if full else api.INCREMENT})

    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """One goods detail a goods: settles an increment that may have applied (PDD takes no key)."""
        shown: dict[str, int] = {}
        for gid in dict.fromkeys(filter(None, item_ids)):
            try:
                shown.update((s.external_id, s.quantity) for s in listings_of(self.client.execute(
                    api.GOODS_DETAIL, {"goods_id": gid})))
            except NotFound:  # deleted on PDD: its SKUs are left out (the core says so)
                continue
        return {i: shown[i] for i in external_ids if i in shown}

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        """The master price is the group price; PDD wants the single-buy price above it."""
        markup = max(1, int(self.settings["single_price_markup"]))
        return run_calls(updates, grouped(updates, lambda u: u.item_id, lambda group: self.client.execute(
            api.SKU_PRICE_UPDATE, {"goods_id": _goods(group[0]), "sku_price_list": [
                {"sku_id": int(u.external_id), "group_price": u.price, "single_price": u.price + markup}
                for u in group]})))

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        self.client.execute(api.SALE_STATUS, {"goods_id": _goods(content), "is_onsale": int(on)})

    def order_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        """Orders updated in the window, with their lines (PDD lists no unpaid order)."""
        root = self.client.execute(api.ORDER_INCREMENT, {
            "start_updated_at": int(since.timestamp()), "end_updated_at": int(until.timestamp()),
            "order_status": api.ALL_ORDERS, "refund_status": api.ALL_REFUNDS, "is_lucky_flag": 0,
            "page": at.page, "page_size": at.size, "use_has_next": True})
        return Reply([order_of(o) for o in root.get("order_sn_list") or []], has_more=root.get("has_next"))

    def refund_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        """Orders whose after-sales succeeded in the window, read again with their lines' counts."""
        root = self.client.execute(api.REFUND_INCREMENT, {
            "start_updated_at": int(since.timestamp()), "end_updated_at": int(until.timestamp()),
            "after_sales_status": api.REFUND_SUCCESS, "after_sales_type": api.ALL_AFTER_SALES_TYPES,
            "page": at.page, "page_size": at.size})
        rows, cases = root.get("refund_list") or [], {}
        for r in rows:  # per order and SKU: units refunded (refund only, return) and coming back (return, exchange)
            c = cases.setdefault(str(r["order_sn"]), {}).setdefault(str(r["sku_id"]), [0, 0])
            c[0] += int(r["goods_number"]) if int(r["after_sales_type"]) in api.REFUND_TYPES else 0
            c[1] += int(r["goods_number"]) if int(r["after_sales_type"]) in api.RETURN_TYPES else 0
        return Reply([Detail(sn, fetch=lambda sn=sn, c=c: self._with_cases(sn, c)) for sn, c in cases.items()],
                     total=root.get("total_count"), count=len(rows))

    def _with_cases(self, order_sn: str, counts: dict[str, list[int]]) -> Order:
        order = self.fetch_order(order_sn)  # the window's cases only: see README, "Limits"
        return replace(order, lines=[replace(ln, refunded=max(ln.refunded, min(ln.quantity, c[0])),
                                             returning=min(ln.quantity, c[1]))
                                     for ln in order.lines for c in [counts.get(ln.external_sku_id or "", [0, 0])]])

    def fetch_order(self, order_external_id: str) -> Order | None:
        return order_of(self.client.execute(api.ORDER_INFORMATION, {"order_sn": order_external_id})["order_info"])

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        """``carrier`` is PDD's ``logistics_id``: the core maps the operator's name through ``carriers``."""
        self.client.execute(api.ONLINE_SEND, {"order_sn": order_external_id, "logistics_id": carrier,
                                              "tracking_number": tracking_no})

    def _refresh(self, refresh_token: str) -> Credential:
        root = self.client.execute(api.TOKEN_REFRESH, {"refresh_token": refresh_token}, with_token=False)
        return Credential.lasting(root["access_token"], root.get("expires_in"),
                                  root.get("refresh_token") or refresh_token)



def _goods(record: StockUpdate | PriceUpdate | ListingContent) -> str:
    if not record.item_id:
        raise Rejected(f"{record.sku_code}: no PDD goods_id known for this listing (resync first)", code="no-goods-id")
    return str(record.item_id)
