"""The Taobao (TOP) adapter: one page, one batch, one window a call.

Taobao takes stock increments (``skus.quantity.update`` with ``type=2``), up
to 20 SKUs of one item a call, so a push never erases a sale the core has not
ingested yet. It takes no idempotency key, so a call that timed out may have
applied: the core reads the quantities (``read_stock``) and settles them against
the orders before it sends anything again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

import httpx

from channelsync import Capabilities, Channel, Setting
from channelsync.sdk.batch import Call, run_calls
from channelsync.sdk.errors import NotFound, Rejected
from channelsync.sdk.models import (
    Listing,
    ListingContent,
    Order,
    OrderLine,
    Page,
    PriceUpdate,
    StockUpdate,
    UpdateResult,
)
from channelsync.sdk.money import fen_to_yuan
from channelsync_taobao import api
from channelsync_taobao.client import TopClient
from channelsync_taobao.signing import format_time
from channelsync_taobao.translate import listings_of, order_of, payload, refund_ids

LISTING_PAGE = 100  # items a listing page; their details take 5 items.seller.list.get calls


class TaobaoChannel(Channel):
    """A Taobao shop through the TOP router API."""

    plugin = "taobao"
    capabilities = Capabilities(
        stock_mode="increment",  # skus.quantity.update type=2 keeps the platform's own sales
        idempotency_keys=False,  # taobao.* takes none (tmall.item.quantity.update would: not implemented)
        stock_batch_size=api.SKUS_PER_QUANTITY_CALL,  # one call per item in the batch, 20 SKUs at most
        price_batch_size=20,  # one call per SKU, one item read per item in the batch
        listing_page_size=LISTING_PAGE,
        order_page_size=api.TRADE_PAGE_MAX,
        max_order_window=api.ORDER_WINDOW,  # TOP advises under 30 minutes (it allows a day)
        rate_per_second=5.0,  # TOP publishes daily quotas, not a per-second figure
        rate_burst=5,
        can_publish=False,  # taobao.item.add needs category properties the master does not hold
        can_update_content=True,  # title (and description when the master has one)
        can_set_shelf=True,  # per item: every SKU of the item goes on or off together
    )
    settings_schema = {
        "base_url": Setting(str, default=api.DEFAULT_BASE_URL,
                            help="TOP gateway root (POST {base_url}/router/rest); gw.api.taobao.com also works"),
        "app_key": Setting(str, required=True, help="open.taobao.com console > application > App Key"),
        "app_secret": Setting(str, required=True, secret=True, help="open.taobao.com console > App Secret"),
        "session": Setting(str, required=True, secret=True,
                           help="the seller's authorisation of the app (SessionKey / access_token)"),
        "refresh_token": Setting(str, secret=True, default=None,
                                 help="service-market apps only: renews an expired session"),
        "sign_method": Setting(str, default="md5", choices=api.SIGN_METHODS, help="how requests are signed"),
        "timestamp_format": Setting(str, default="datetime", choices=("datetime", "millis"),
                                    help="'yyyy-MM-dd HH:mm:ss' GMT+8, or epoch milliseconds"),
        "partner_id": Setting(str, default=None, help="optional partner_id system parameter"),
        "confirm_with_fullinfo": Setting(bool, default=False,
                                         help="read every listed order again with trade.fullinfo.get "
                                              "(list APIs lag at 11.11 peaks; costs a call per order)"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        super().__init__(name, settings, http)
        self.client = TopClient(self.call, app_key=str(self.settings.get("app_key") or ""),
                                app_secret=str(self.settings.get("app_secret") or ""),
                                session=str(self.settings.get("session") or ""),
                                sign_method=self.settings.get("sign_method") or "md5",
                                timestamp_format=self.settings.get("timestamp_format") or "datetime",
                                partner_id=self.settings.get("partner_id"))
        self._refresh_token = self.settings.get("refresh_token")
        self._expires_at: datetime | None = None

    # --- listings ------------------------------------------------------------
    def list_listings(self, page_token: str | None) -> Page[Listing]:
        """Items on sale, then items in the warehouse, ``LISTING_PAGE`` items a page.

        Page tokens: ``onsale:N`` / ``instock:N``. The page lists carry no SKUs,
        so the page's items are read again with items.seller.list.get (20 a call).
        """
        phase, page_no = (page_token or f"{api.ONSALE}:1").split(":")
        method = api.ITEMS_ONSALE if phase == api.ONSALE else api.ITEMS_INVENTORY
        root = self.client.execute(method, {"fields": api.ITEM_PAGE_FIELDS, "page_no": int(page_no),
                                            "page_size": LISTING_PAGE})
        rows = ((root.get("items") or {}).get("item")) or []
        total = int(root.get("total_results") or 0)
        listings: list[Listing] = []
        ids = payload(lambda: [str(row["num_iid"]) for row in rows])
        for start in range(0, len(ids), api.ITEMS_PER_LIST_CALL):
            detail = self.client.execute(api.ITEMS_LIST, {
                "num_iids": ",".join(ids[start:start + api.ITEMS_PER_LIST_CALL]), "fields": api.ITEM_DETAIL_FIELDS})
            items = ((detail.get("items") or {}).get("item")) or []
            listings.extend(payload(lambda: [ls for item in items for ls in listings_of(item)]))
        if rows and int(page_no) * LISTING_PAGE < total:
            return Page(listings, f"{phase}:{int(page_no) + 1}")
        return Page(listings, f"{api.INSTOCK}:1" if phase == api.ONSALE else None)

    # --- stock and prices --------------------------------------------------------
    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """Quantities now, through items.seller.list.get (20 items a call)."""
        wanted = set(external_ids)
        items = list(dict.fromkeys(str(i or e) for e, i in zip(external_ids, item_ids)))
        shown: dict[str, int] = {}
        for start in range(0, len(items), api.ITEMS_PER_LIST_CALL):
            detail = self.client.execute(api.ITEMS_LIST, {
                "num_iids": ",".join(items[start:start + api.ITEMS_PER_LIST_CALL]), "fields": api.ITEM_DETAIL_FIELDS})
            rows = ((detail.get("items") or {}).get("item")) or []
            for ls in payload(lambda: [ls for item in rows for ls in listings_of(item)]):
                if ls.external_id in wanted and ls.quantity is not None:
                    shown[ls.external_id] = ls.quantity
        return shown

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        """Increments (``type=2``), one call per item; Taobao floors a decrease at 0.

        A refused multi-SKU call is sent again SKU by SKU, so one stale SKU
        does not take its siblings down with it.
        """
        calls: list[Call] = []
        for item_id, group in _by_item(updates).items():
            changed = [u for u in group if u.delta != 0]
            calls.extend(Call([u], None) for u in group if u.delta == 0)  # nothing to tell Taobao
            if changed:
                calls.append(Call(changed, self._increment(item_id, changed),
                                  [self._increment(item_id, [u]) for u in changed] if len(changed) > 1 else []))
        return run_calls(updates, calls)

    def _increment(self, item_id: str, updates: list[StockUpdate]) -> Callable[[], Any]:
        if all(u.external_id == item_id for u in updates):  # an item without SKUs
            params = {"num_iid": item_id, "quantity": sum(u.delta for u in updates), "type": 2}
            return lambda: self.client.execute(api.ITEM_QUANTITY, params)
        params = {"num_iid": item_id, "type": 2,
                  "skuid_quantities": ";".join(f"{u.external_id}:{u.delta}" for u in updates)}
        return lambda: self.client.execute(api.SKUS_QUANTITY, params)

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        """``item.sku.price.update`` names a SKU by its properties: each item is read once."""
        skus_of: dict[str, dict[str, dict]] = {}

        def properties(item_id: str, sku_id: str) -> str | None:
            if item_id not in skus_of:
                root = self.client.execute(api.ITEM_GET, {"num_iid": item_id, "fields": api.ITEM_DETAIL_FIELDS})
                skus_of[item_id] = payload(lambda: {str(s["sku_id"]): s for s in
                                                    ((root.get("item") or {}).get("skus") or {}).get("sku") or []})
            sku = skus_of[item_id].get(sku_id)
            return None if sku is None else str(sku.get("properties") or "")

        def price(u: PriceUpdate) -> Callable[[], Any]:
            def send() -> None:
                item_id = str(u.item_id or u.external_id)
                if u.external_id == item_id:  # an item without SKUs: the item's own price
                    self.client.execute(api.ITEM_UPDATE, {"num_iid": item_id, "price": fen_to_yuan(u.price)})
                    return
                props = properties(item_id, u.external_id)
                if props is None:
                    raise NotFound(f"SKU {u.external_id} is not on item {item_id}", code="isv.sku-not-exist")
                self.client.execute(api.SKU_PRICE, {"num_iid": item_id, "properties": props,
                                                    "price": fen_to_yuan(u.price)})
            return send

        return run_calls(updates, [Call([u], price(u)) for u in updates])

    # --- listing content and shelf ---------------------------------------------------
    def update_listing(self, content: ListingContent) -> None:
        params = {"num_iid": _item(content), "title": content.title}
        if content.description:
            params["desc"] = content.description
        self.client.execute(api.ITEM_UPDATE, params)

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        item_id = _item(content)
        if not on:
            self.client.execute(api.ITEM_DELISTING, {"num_iid": item_id})
            return
        # update.listing requires ``num``; send the item's own count so listing changes no stock
        item = self.client.execute(api.ITEM_GET, {"num_iid": item_id, "fields": "num_iid,num"})
        num = payload(lambda: int((item.get("item") or {})["num"]))
        self.client.execute(api.ITEM_LISTING, {"num_iid": item_id, "num": num})

    # --- orders ------------------------------------------------------------------------
    def fetch_orders(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        """Trades modified in the window, paged from the last page backwards.

        TOP lists newest-modified first: an order modified while we page leaves
        the window and shifts the rest forwards, so reading forwards could skip
        one. The first call learns ``total_results``; when there is more than
        one page it reads the last page next and walks back to page 1.
        """
        params = {"fields": api.TRADE_FIELDS, "start_modified": format_time(since),
                  "end_modified": format_time(until), "page_size": api.TRADE_PAGE_MAX, "use_has_next": False}
        if page_token is None:
            root = self.client.execute(api.TRADES_INCREMENT, {**params, "page_no": 1})
            pages = -(-int(root.get("total_results") or 0) // api.TRADE_PAGE_MAX)
            if pages > 1:
                return Page([], f"back:{pages}")
            return Page(self._orders(root), None)
        page_no = int(page_token.split(":")[1])
        root = self.client.execute(api.TRADES_INCREMENT, {**params, "page_no": page_no})
        return Page(self._orders(root), f"back:{page_no - 1}" if page_no > 1 else None)

    def _orders(self, root: dict[str, Any]) -> list[Order]:
        trades = ((root.get("trades") or {}).get("trade")) or []
        if self.settings.get("confirm_with_fullinfo"):
            return [self.order(str(t.get("tid"))) for t in trades]
        return [self._translate(t) for t in trades]

    def order(self, tid: str) -> Order:
        """One trade's current state from trade.fullinfo.get (authoritative when lists lag)."""
        root = self.client.execute(api.TRADE_FULLINFO, {"tid": tid, "fields": api.TRADE_FIELDS})
        return self._translate(payload(lambda: root["trade"]))

    def fetch_order(self, order_external_id: str) -> Order | None:
        return self.order(order_external_id)

    def _translate(self, trade: dict[str, Any]) -> Order:
        """A trade with the details of its sub-orders' refunds: how many units, goods back or not.
        A refund only some trades have, read one call each (never guessed: a whole
        sub-order counted refunded would put units on sale that are still sold)."""
        refunds = {}
        for refund_id in payload(lambda: refund_ids(trade)):
            root = self.client.execute(api.REFUND_GET, {"refund_id": refund_id, "fields": api.REFUND_DETAIL_FIELDS})
            refunds[refund_id] = payload(lambda: dict(root["refund"]))
        return payload(lambda: order_of(trade, refunds))

    def fetch_refunds(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        """Trades with a refund that succeeded in the window, read with trade.fullinfo.get."""
        page_no = int(page_token or 1)
        root = self.client.execute(api.REFUNDS_RECEIVE, {
            "fields": api.REFUND_FIELDS, "status": api.REFUND_SUCCESS, "start_modified": format_time(since),
            "end_modified": format_time(until), "page_no": page_no, "page_size": api.REFUND_PAGE_MAX,
            "use_has_next": True})
        refunds = ((root.get("refunds") or {}).get("refund")) or []
        tids = payload(lambda: list(dict.fromkeys(str(r["tid"]) for r in refunds)))
        orders = [self.order(tid) for tid in tids]
        return Page(orders, str(page_no + 1) if refunds and root.get("has_next") else None)

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
        subs = payload(lambda: ((root["trade"].get("orders") or {}).get("order")) or [])
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
    def refresh_auth(self) -> None:
        """Renew the session with ``refresh_token`` (service-market apps only).

        Apps a seller builds for their own shop get fixed-length sessions TOP
        cannot renew: then a person must authorise the app again and update
        the ``session`` setting, and this says so.
        """
        if not self._refresh_token:
            raise Rejected("Taobao refused the session (code 27) and no refresh_token is configured: "
                           "authorise the app again and update the channel's session setting",
                           code="invalid-sessionkey")
        grant = self.client.refresh(str(self._refresh_token))
        self._refresh_token = grant.refresh_token or self._refresh_token
        self._expires_at = grant.expires_at
        # TOP retires a refresh token on use: keep the new pair across restarts
        self.save_credentials({"session": grant.session, "refresh_token": str(self._refresh_token)})

    def token_expires_at(self) -> datetime | None:
        return self._expires_at

    @classmethod
    def simulator(cls, **options: Any):
        from channelsync_taobao.sim import TaobaoSimulator

        return TaobaoSimulator(**options)


def _by_item(updates: Sequence[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for u in updates:
        groups[str(u.item_id or u.external_id)].append(u)
    return groups


def _item(content: ListingContent) -> str:
    if not content.item_id:
        raise Rejected(f"{content.sku_code}: no Taobao num_iid known for this listing (resync first)",
                       code="no-num-iid")
    return str(content.item_id)


