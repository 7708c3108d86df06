"""The Taobao (TOP) adapter: declarations and translation on the plugin kit.

Taobao takes stock increments (``skus.quantity.update`` with ``type=2``), up
to 20 SKUs of one item a call, so a push never erases a sale the core has not
ingested yet. It takes no idempotency key, so a call that timed out may have
applied: the core reads the quantities (``read_stock``) and settles them against
the orders before it sends anything again.
"""

from __future__ import annotations

import json
from datetime import datetime
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
    PriceUpdate,
    StockUpdate,
    UpdateResult,
)
from channelsync.sdk.money import fen_to_yuan
from channelsync.sdk.paging import At, Detail, NewestFirst, PageNumber, Phases, Reply
from channelsync.sdk.times import BEIJING
from channelsync_taobao import api
from channelsync_taobao.router import TopRouter, parse_time
from channelsync_taobao.translate import listings_of, order_of, refund_ids


class TaobaoChannel(Channel):
    """A Taobao shop through the TOP router API."""

    plugin = "taobao"
    capabilities = Capabilities(
        stock_mode="increment",  # skus.quantity.update type=2 keeps the platform's own sales
        idempotency_keys=False,  # taobao.* takes none (tmall.item.quantity.update would: not implemented)
        stock_batch_size=api.SKUS_PER_QUANTITY_CALL,  # one call per item in the batch, 20 SKUs at most
        price_batch_size=20,  # one item read per item in the batch, then one call per SKU
        listing_page_size=100,  # items a page; their details take 5 items.seller.list.get calls
        order_page_size=api.TRADE_PAGE_MAX,
        max_order_window=api.ORDER_WINDOW,  # TOP advises under 30 minutes (it allows a day)
        rate_per_second=5.0,  # TOP publishes daily quotas, not a per-second figure
        rate_burst=5,
        can_publish=False,  # taobao.item.add needs category properties the master does not hold
        can_update_content=True,  # title (and description when the master has one)
        can_set_shelf=True,  # per item: every SKU of the item goes on or off together
        timezone=BEIJING,
        stock_read_batch_size=api.ITEMS_PER_LIST_CALL,  # one items.seller.list.get
    )
    # on sale, then in the warehouse; trades newest-modified first, so each next page is
    # bounded by the oldest time seen (an order modified meanwhile cannot push one out unseen)
    listing_pages = Phases((api.ONSALE, api.INSTOCK), PageNumber())
    order_pages = NewestFirst(lambda order: order.modified_at)
    refund_pages = PageNumber()
    simulator_class = "channelsync_taobao.sim:TaobaoSimulator"
    settings_schema = {
        "base_url": Setting(str, default=api.DEFAULT_BASE_URL,
                            help="TOP gateway root (POST {base_url}/router/rest); gw.api.taobao.com also works"),
        "app_key": Setting(str, required=True, help="open.taobao.com console > application > App Key"),
        "app_secret": Setting(str, required=True, secret=True, help="open.taobao.com console > App Secret"),
        "session": Setting(str, required=True, secret=True,
                           help="the seller's authorisation of the app (SessionKey / access_token)"),
        "refresh_token": Setting(str, secret=True, default=None,
                                 help="service-market apps only: renews an expired session"),
        "sign_method": Setting(str, default="md5", choices=TopRouter.sign_methods, help="how requests are signed"),
        "timestamp_format": Setting(str, default="datetime", choices=("datetime", "millis"),
                                    help="'yyyy-MM-dd HH:mm:ss' GMT+8, or epoch milliseconds"),
        "partner_id": Setting(str, default=None, help="optional partner_id system parameter"),
        "confirm_with_fullinfo": Setting(bool, default=False,
                                         help="read every listed order again with trade.fullinfo.get "
                                              "(list APIs lag at 11.11 peaks; costs a call per changed order)"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        super().__init__(name, settings, http)
        self.client = TopRouter(self.call, app_key=str(self.settings["app_key"] or ""),
                                secret=str(self.settings["app_secret"] or ""), token=lambda: self.auth.token(),
                                sign_method=self.settings["sign_method"] or "md5",
                                timestamp_format=self.settings["timestamp_format"])
        if self.settings["partner_id"]:  # an optional system parameter, signed like the rest
            self.client.fixed = {**TopRouter.fixed, "partner_id": str(self.settings["partner_id"])}
        self.auth = TokenAuth(self, refresh=self._refresh, keys={"token": "session"},
                              reauthorize="authorise the app again in the Taobao seller centre")

    # --- listings ------------------------------------------------------------
    def listing_page(self, at: At) -> Reply[Listing]:
        """Item ids from the on-sale (or warehouse) list; their SKUs from items.seller.list.get, 20 a call."""
        method = api.ITEMS_ONSALE if at.phase == api.ONSALE else api.ITEMS_INVENTORY
        root = self.client.execute(method, {"fields": api.ITEM_PAGE_FIELDS, "page_no": at.page,
                                            "page_size": at.size})
        ids = [str(row["num_iid"]) for row in _rows(root, "items", "item")]
        step = api.ITEMS_PER_LIST_CALL
        return Reply([Detail(",".join(ids[n:n + step]), fetch=lambda chunk=ids[n:n + step]: self._items(chunk))
                      for n in range(0, len(ids), step)], total=int(root.get("total_results") or 0), count=len(ids))

    def _items(self, ids: list[str]) -> list[Listing]:
        root = self.client.execute(api.ITEMS_LIST, {"num_iids": ",".join(ids), "fields": api.ITEM_DETAIL_FIELDS})
        return [listing for item in _rows(root, "items", "item") for listing in listings_of(item)]

    # --- stock and prices --------------------------------------------------------
    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """Quantities now: one items.seller.list.get (``stock_read_batch_size`` ids: at most 20 items)."""
        wanted = set(external_ids)
        items = list(dict.fromkeys(str(i or e) for e, i in zip(external_ids, item_ids)))
        return {ls.external_id: ls.quantity for ls in self._items(items)
                if ls.external_id in wanted and ls.quantity is not None}

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        """Increments (``type=2``), one call per item; a refused item is re-sent SKU by SKU."""
        return run_calls(updates, grouped(updates, _item_of, self._increment))

    def _increment(self, updates: list[StockUpdate]) -> None:
        changed = [u for u in updates if u.delta != 0]
        if not changed:
            return  # nothing to tell Taobao
        item_id = _item_of(changed[0])
        if all(u.external_id == item_id for u in changed):  # an item without SKUs
            self.client.execute(api.ITEM_QUANTITY, {"num_iid": item_id, "type": 2,
                                                    "quantity": sum(u.delta for u in changed)})
        else:
            self.client.execute(api.SKUS_QUANTITY, {"num_iid": item_id, "type": 2, "skuid_quantities": ";".join(
                f"{u.external_id}:{u.delta}" for u in changed)})

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        """``item.sku.price.update`` names a SKU by its properties: each item is read once."""
        return run_calls(updates, grouped(updates, _item_of, self._prices))

    def _prices(self, updates: list[PriceUpdate]) -> None:
        item_id = _item_of(updates[0])
        if all(u.external_id == item_id for u in updates):  # an item without SKUs: the item's own price
            self.client.execute(api.ITEM_UPDATE, {"num_iid": item_id, "price": fen_to_yuan(updates[-1].price)})
            return
        root = self.client.execute(api.ITEM_GET, {"num_iid": item_id, "fields": api.ITEM_DETAIL_FIELDS})
        skus = {str(s["sku_id"]): s for s in _rows(root.get("item") or {}, "skus", "sku")}
        for u in updates:
            if u.external_id not in skus:
                raise NotFound(f"SKU {u.external_id} is not on item {item_id}", code="isv.sku-not-exist")
            self.client.execute(api.SKU_PRICE, {"num_iid": item_id, "properties": skus[u.external_id]["properties"],
                                                "price": fen_to_yuan(u.price)})

    # --- listing content and shelf ---------------------------------------------------
    def update_listing(self, content: ListingContent) -> None:
        self.client.execute(api.ITEM_UPDATE, {"num_iid": _num_iid(content), "title": content.title,
                                              "desc": content.description or None})

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        item_id = _num_iid(content)
        if not on:
            self.client.execute(api.ITEM_DELISTING, {"num_iid": item_id})
            return
        # update.listing requires ``num``; send the item's own count so listing changes no stock
        item = self.client.execute(api.ITEM_GET, {"num_iid": item_id, "fields": "num_iid,num"})
        self.client.execute(api.ITEM_LISTING, {"num_iid": item_id, "num": int(item["item"]["num"])})

    # --- orders ------------------------------------------------------------------------
    def order_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        trades = _rows(self.client.execute(api.TRADES_INCREMENT, {
            "fields": api.TRADE_FIELDS, "start_modified": self.platform_text(since),
            "end_modified": self.platform_text(at.key or until),  # NewestFirst: the oldest time seen so far
            "page_no": at.page, "page_size": at.size, "use_has_next": True}), "trades", "trade")
        oldest = min((parse_time(t.get("modified") or t["created"]) for t in trades), default=None)
        full = self.settings["confirm_with_fullinfo"]
        # a trade with refunds needs their details (units, goods back): read by the core, one trade each
        return Reply([Detail(str(t["tid"]), fetch=lambda t=t: self.order(str(t["tid"])) if full else self._translate(t),
                             modified_at=parse_time(t["modified"]) if t.get("modified") else None)
                      if full or refund_ids(t) else order_of(t) for t in trades], last_key=oldest)

    def order(self, tid: str) -> Order:
        """One trade's current state from trade.fullinfo.get (authoritative when lists lag)."""
        root = self.client.execute(api.TRADE_FULLINFO, {"tid": tid, "fields": api.TRADE_FIELDS})
        return self._translate(root["trade"])

    def fetch_order(self, order_external_id: str) -> Order | None:
        return self.order(order_external_id)

    def _translate(self, trade: dict[str, Any]) -> Order:
        """A trade with the details of its sub-orders' refunds: how many units, goods back or not
        (never guessed: a whole sub-order counted refunded would put units on sale that are still sold)."""
        return order_of(trade, {rid: dict(self.client.execute(api.REFUND_GET, {
            "refund_id": rid, "fields": api.REFUND_DETAIL_FIELDS})["refund"]) for rid in refund_ids(trade)})

    def refund_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        """Trades with a refund that succeeded in the window, each read with trade.fullinfo.get."""
        root = self.client.execute(api.REFUNDS_RECEIVE, {
            "fields": api.REFUND_FIELDS, "status": api.REFUND_SUCCESS, "start_modified": self.platform_text(since),
            "end_modified": self.platform_text(until), "page_no": at.page, "page_size": at.size, "use_has_next": True})
        refunds = _rows(root, "refunds", "refund")
        return Reply([Detail(str(r["tid"]), fetch=lambda tid=str(r["tid"]): self.order(tid)) for r in refunds],
                     has_more=bool(root.get("has_next")), count=len(refunds))

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        self.ship_parcel(order_external_id, carrier, tracking_no, None)

    def ship_parcel(self, order_external_id: str, carrier: str, tracking_no: str,
                    lines: Sequence[OrderLine] | None) -> None:
        """``logistics.offline.send``; a partial parcel names whole sub-orders (``is_split``,
        ``sub_tid``): Taobao ships a sub-order at once, never part of its units."""
        params = {"tid": order_external_id, "out_sid": tracking_no, "company_code": carrier.strip().upper()}
        if lines is not None:
            params.update(is_split=1, sub_tid=",".join(self._sub_orders(order_external_id, lines)))
        root = self.client.execute(api.OFFLINE_SEND, params)
        if not (root.get("shipping") or {}).get("is_success"):
            raise Rejected(f"logistics.offline.send for {order_external_id} did not succeed", code="is_success")

    def _sub_orders(self, tid: str, lines: Sequence[OrderLine]) -> list[str]:
        root = self.client.execute(api.TRADE_FULLINFO, {"tid": tid, "fields": api.TRADE_FIELDS})
        subs = _rows(root["trade"], "orders", "order")
        oids = []
        for line in lines:
            sub = next((s for s in subs if line.external_sku_id in (str(s.get("sku_id")), str(s.get("num_iid")))
                        or (line.sku_code and line.sku_code == s.get("outer_sku_id"))), None)
            if sub is None or int(sub.get("num") or 0) != line.quantity:
                raise Rejected(f"Taobao ships whole sub-orders: {line.sku_code or line.external_sku_id} "
                               f"x{line.quantity} is not one sub-order of trade {tid}", code="partial-sub-order")
            oids.append(str(sub["oid"]))
        return oids

    # --- auth ---------------------------------------------------------------------------
    def _refresh(self, refresh_token: str) -> Credential:
        """Trade the refresh token for a new session (service-market apps; TOP retires the old one)."""
        root = self.client.execute(api.TOKEN_REFRESH, {"refresh_token": refresh_token}, with_token=False)
        token = root["token_result"]  # a JSON *string*
        token = json.loads(token) if isinstance(token, str) else token
        return Credential.lasting(token["access_token"], token.get("expires_in"),
                                  token.get("refresh_token") or refresh_token)



def _rows(root: dict[str, Any], outer: str, inner: str) -> list[dict[str, Any]]:
    """TOP wraps lists in a singular key: ``{"items": {"item": [...]}}``."""
    return list((root.get(outer) or {}).get(inner) or [])


def _item_of(update: StockUpdate | PriceUpdate) -> str:
    return str(update.item_id or update.external_id)


def _num_iid(content: ListingContent) -> str:
    if not content.item_id:
        raise Rejected(f"{content.sku_code}: no Taobao num_iid known for this listing (resync first)",
                       code="no-num-iid")
    return str(content.item_id)
