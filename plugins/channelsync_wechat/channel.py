"""The WeChat Channels shop adapter: declarations and translation; the kit pages and fans out.

Stock goes out as increments (``stock/update`` with ``diff_type`` 1 add / 2
subtract, one SKU a call), never as "set", so a push cannot erase a sale the
core has not ingested yet. WeChat takes no idempotency key: a call that timed
out may have applied, so the core reads the quantities (``read_stock``) and
settles them against the orders before it sends anything again. List calls
return ids only: every product, order and after-sale is a ``Detail`` the core
reads with its own call, under the budget, retried alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil, floor
from typing import Any, Mapping, Sequence

import httpx

from channelsync import Capabilities, Channel, Setting
from channelsync.sdk import Detail, NextToken, Phases, Reply, TokenAuth
from channelsync.sdk.batch import Call, grouped, run_calls
from channelsync.sdk.errors import NotFound, Rejected
from channelsync.sdk.models import Listing, ListingContent, Order, OrderLine, PriceUpdate, StockUpdate, UpdateResult
from channelsync.sdk.times import BEIJING
from channelsync_wechat import api
from channelsync_wechat.client import WechatClient
from channelsync_wechat.translate import aftersale_ids, delivery_products, listings_of, order_of

#: product fields ``product/update`` is sent back with (read, title changed, written)
UPDATE_FIELDS = ("out_product_id", "title", "sub_title", "head_imgs", "desc_info", "cats", "cats_v2", "attrs",
                 "express_info", "aftersale_desc", "limited_info", "extra_service", "brand_id", "qualifications")


class WechatChannel(Channel):
    """A WeChat Channels shop (视频号小店 / 微信小店) through the channels/ec API."""

    plugin = "wechat"
    capabilities = Capabilities(
        stock_mode="increment",  # diff_type 1/2 keep the platform's own sales; 3 (set) would erase them
        idempotency_keys=False,  # stock/update takes none
        stock_batch_size=1,  # stock/update names one SKU a call
        price_batch_size=20,  # one auditfree call per product in the batch, all its SKUs at once
        listing_page_size=api.PRODUCT_PAGE_MAX,  # product ids a page; each product is then read
        order_page_size=api.ORDER_PAGE_MAX,
        max_order_window=api.ORDER_WINDOW,  # order/list/get: 7 days
        max_refund_window=api.AFTERSALE_WINDOW,  # getaftersalelist: 24 hours, cut inside the order window
        rate_per_second=5.0,  # WeChat publishes per-API minute and daily quotas, no per-second figure
        rate_burst=5,
        can_publish=False,  # a new product needs categories, images and qualifications the master lacks
        can_update_content=True,  # title and description; the platform reviews them before they show
        can_set_shelf=True,  # per product: every SKU of the product goes on or off together
        carriers={code: code for code in api.DELIVERY_IDS},  # ship's carrier is WeChat's delivery_id
        timezone=BEIJING,
    )
    settings_schema = {
        "base_url": Setting(str, default=api.DEFAULT_BASE_URL,
                            help="API root; calls go to {base_url}/channels/ec/... and {base_url}/cgi-bin/stable_token"),
        "appid": Setting(str, required=True, help="微信小店后台 (store.weixin.qq.com) > 服务市场 > 经营工具 > 自研: AppID"),
        "secret": Setting(str, required=True, secret=True, help="the AppSecret on the same page (enable or reset it there)"),
    }
    listing_pages = Phases(api.LIST_PHASES, NextToken())  # on sale first, then delisted; next_key within each
    order_pages = refund_pages = NextToken()
    simulator_class = "channelsync_wechat.sim:WechatSimulator"

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        super().__init__(name, settings, http)
        self.client = WechatClient(self.call, appid=str(self.settings.get("appid") or ""),
                                   secret=str(self.settings.get("secret") or ""))
        # stable_token hands out the same token until it nears expiry, so nothing needs storing;
        # a forced refresh (20 a day) only when the platform hands back the token it refused
        self.auth = self.client.auth = TokenAuth(self, issue=self.client.fetch_token, persist=False,
                                                 margin=timedelta(seconds=api.TOKEN_OVERLAP))

    # --- listings --------------------------------------------------------------------
    def listing_page(self, at) -> Reply:
        """Product ids of one status (``at.phase``); each product is a detail read with product/get."""
        body: dict[str, Any] = {"status": at.phase, "page_size": at.size}
        if at.token:
            body["next_key"] = at.token
        answer = self.client.post(api.PRODUCT_LIST, body)
        ids = [str(i) for i in answer.get("product_ids") or []]
        return Reply([Detail(i, lambda i=i: self.product_listings(i)) for i in ids],
                     next_token=answer.get("next_key"), total=int(answer.get("total_num") or 0))

    def product_listings(self, product_id: str) -> list[Listing]:
        return listings_of(self.client.post(api.PRODUCT_GET, {"product_id": product_id, "data_type": 1})["product"])

    # --- stock and prices -------------------------------------------------------------
    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """Quantities now: one product/get per product; a product gone is left out."""
        wanted = set(external_ids)
        shown: dict[str, int] = {}
        for product_id in dict.fromkeys(str(i) for i in item_ids if i):
            try:
                listings = self.product_listings(product_id)
            except NotFound:
                continue
            shown.update({ls.external_id: ls.quantity for ls in listings
                          if ls.external_id in wanted and ls.quantity is not None})
        return shown

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        """``delta`` as an increment: diff_type 1 adds, 2 subtracts; nothing to send for 0."""
        return run_calls(updates, [Call([u], (lambda u=u: self.client.post(api.STOCK_UPDATE, {
            "product_id": _product(u), "sku_id": str(u.external_id),
            "diff_type": api.ADD if u.delta > 0 else api.SUBTRACT, "num": abs(u.delta)})) if u.delta else None)
            for u in updates])

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        """One ``auditfree`` call per product (price changes skip review); fen as they are.
        A product's refused call is sent again SKU by SKU, so one stale SKU sinks no sibling."""
        return run_calls(updates, grouped(updates, lambda u: str(u.item_id or ""), lambda group: self.client.post(
            api.PRICE_UPDATE, {"product_id": _product(group[0]), "skus": [
                {"sku_id": str(u.external_id), "sale_price": int(u.price)} for u in group]})))

    # --- listing content and shelf ------------------------------------------------------
    def update_listing(self, content: ListingContent) -> None:
        """Title (and description when the master has one) through ``product/update``.

        The API replaces the whole product, so it is read first and sent back
        with only the text changed. SKUs go back without ``stock_num``: a
        content update must never carry a stock figure read before a sale.
        On the real platform the change goes to review before buyers see it.
        """
        product_id = _product(content)
        product = dict(self.client.post(api.PRODUCT_GET, {"product_id": product_id, "data_type": 1})["product"])
        body: dict[str, Any] = {"product_id": product_id}
        body.update({key: product[key] for key in UPDATE_FIELDS if key in product})
        body["skus"] = [{k: v for k, v in sku.items() if k != "stock_num"} for sku in product.get("skus") or []]
        body["title"] = content.title
        if content.description:
            body["desc_info"] = {**(product.get("desc_info") or {}), "desc": content.description}
        self.client.post(api.PRODUCT_UPDATE, body)

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        self.client.post(api.PRODUCT_LISTING if on else api.PRODUCT_DELISTING, {"product_id": _product(content)})

    # --- orders -------------------------------------------------------------------------
    def order_page(self, since: datetime, until: datetime, at) -> Reply:
        """Ids of orders updated in the window (whole seconds, widened outwards); each order a detail."""
        body: dict[str, Any] = {"update_time_range": _range(since, until, api.ORDER_WINDOW), "page_size": at.size}
        if at.token:
            body["next_key"] = at.token
        answer = self.client.post(api.ORDER_LIST, body)
        ids = list(dict.fromkeys(str(i) for i in answer.get("order_id_list") or []))
        return Reply([Detail(i, lambda i=i: self.order(i)) for i in ids], next_token=answer.get("next_key"),
                     has_more=bool(answer.get("has_more")))

    def order(self, order_id: str) -> Order:
        """One order's current state (order/get), with its after-sale orders read one call
        each when it has any (the order lists their ids, not what they cover)."""
        order = self._order_json(order_id)
        cases = [dict(self.client.post(api.AFTERSALE_GET, {"after_sale_order_id": i})["after_sale_order"])
                 for i in aftersale_ids(order)]
        return order_of(order, cases)

    def fetch_order(self, order_external_id: str) -> Order | None:
        return self.order(order_external_id)

    def _order_json(self, order_id: str) -> dict[str, Any]:
        return dict(self.client.post(api.ORDER_GET, {"order_id": order_id})["order"])

    def refund_page(self, since: datetime, until: datetime, at) -> Reply:
        """After-sales changed in the window (at most 24 hours: ``max_refund_window``); each is
        read for its order id, and that order read once, as details."""
        start, end = _range(since, until, api.AFTERSALE_WINDOW).values()
        body: dict[str, Any] = {"begin_update_time": start, "end_update_time": end}
        if at.token:
            body["next_key"] = at.token
        answer = self.client.post(api.AFTERSALE_LIST, body)
        ids = [str(i) for i in answer.get("after_sale_order_id_list") or []]
        return Reply([Detail(f"after-sale {i}", lambda i=i: self._aftersale_order(i)) for i in ids],
                     next_token=answer.get("next_key"), has_more=bool(answer.get("has_more")))

    def _aftersale_order(self, aftersale_id: str) -> Detail:
        detail = self.client.post(api.AFTERSALE_GET, {"after_sale_order_id": aftersale_id})
        order_id = str(detail["after_sale_order"]["order_id"])
        return Detail(order_id, lambda: self.order(order_id))

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        self.ship_parcel(order_external_id, carrier, tracking_no, None)

    def ship_parcel(self, order_external_id: str, carrier: str, tracking_no: str,
                    lines: Sequence[OrderLine] | None) -> None:
        """One parcel: the given lines (units of each), or every line of the order;
        ``carrier`` is WeChat's delivery_id (the core checked it against ``capabilities.carriers``)."""
        order = self._order_json(order_external_id)
        products = delivery_products(order)
        if lines is not None:
            ids = {p["sku_id"]: p["product_id"] for p in products}
            missing = [ln.external_sku_id for ln in lines if ln.external_sku_id not in ids]
            if missing:
                raise Rejected(f"order {order_external_id} has no SKU {', '.join(map(str, missing))}",
                               code="no-such-line")
            products = [{"product_id": ids[ln.external_sku_id], "sku_id": ln.external_sku_id,
                         "product_cnt": ln.quantity} for ln in lines]
        self.client.post(api.DELIVERY_SEND, {"order_id": str(order_external_id), "delivery_list": [{
            "delivery_id": carrier, "waybill_id": tracking_no.strip(),
            "deliver_type": api.DELIVER_BY_EXPRESS, "product_infos": products}]})


def _range(since: datetime, until: datetime, longest: timedelta | None = None) -> dict[str, int]:
    """Epoch seconds; the start rounded down and the end up so no order falls between windows.

    Rounding outwards can stretch a window of exactly ``longest`` by a second,
    which the platform refuses (10020004): the end is then held to ``longest``.
    The sliver cut off lies inside the next window, whose start rounds down.
    """
    start, end = floor(since.timestamp()), ceil(until.timestamp())
    if longest is not None and until - since <= longest:  # a longer one is the caller's to fix
        end = min(end, start + int(longest.total_seconds()))
    return {"start_time": start, "end_time": end}


def _product(update: Any) -> str:
    if not update.item_id:
        raise Rejected(f"{update.sku_code}: no WeChat product_id known for this listing (resync first)",
                       code="no-product-id")
    return str(update.item_id)



