"""The own-site (WooCommerce REST v3) adapter: one page, one batch, one window a call.

WooCommerce only takes absolute stock (``stock_quantity``): the core reads the
quantities first (``read_stock``) and sends what keeps unseen sales off. Stock and prices go
through the batch endpoints (up to 100 records a call), one call per parent
product: simple products through ``products/batch``, variations through
``products/{parent}/variations/batch``.

A simple product is its own SKU (external_id = item_id = product id); a
variation's external_id is the variation id and its item_id the parent's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

import httpx

from channelsync import Capabilities, Channel, Setting
from channelsync.sdk.errors import AuthExpired, ChannelError, NotFound, Rejected, Transient
from channelsync.sdk.models import Listing, ListingContent, Order, Page, PriceUpdate, StockUpdate, UpdateResult
from channelsync.sdk.money import fen_to_yuan
from channelsync_ownsite import api, translate
from channelsync_ownsite.client import AUTH_MODES, WooClient
from channelsync_ownsite.errors import PRODUCT_INVALID_ID, VARIATION_INVALID_ID, error_for
from channelsync_ownsite.signing import DEFAULT_METHOD, METHODS

#: product types that are not sellable SKUs themselves (a grouped product is a
#: showcase of others; an external product is sold elsewhere and has no stock)
NOT_LISTED = ("grouped", "external")


class OwnsiteChannel(Channel):
    """The merchant's own WooCommerce shop."""

    plugin = "ownsite"
    capabilities = Capabilities(
        stock_mode="absolute",  # stock_quantity is a value; WooCommerce has no increment or compare-and-set
        idempotency_keys=False,
        stock_batch_size=api.MAX_BATCH,  # products/batch takes 100 records
        price_batch_size=api.MAX_BATCH,
        listing_page_size=api.MAX_PER_PAGE,  # products a page (plus one variations call per variable product)
        order_page_size=api.MAX_PER_PAGE,
        max_order_window=timedelta(days=7),  # WooCommerce has no limit; a week keeps a first poll to few calls
        rate_per_second=5.0,  # no limit in WooCommerce itself; a shared host is the bottleneck
        rate_burst=5,
        can_publish=True,  # POST products creates a simple product from master data
        can_update_content=True,
        can_set_shelf=True,
        stock_read_batch_size=api.MAX_PER_PAGE,  # GET ...?include= takes a page of ids
    )
    settings_schema = {
        "base_url": Setting(str, required=True,
                            help="your shop's root URL, e.g. https://shop.example.com (the API is {base_url}/wp-json/wc/v3/)"),
        "consumer_key": Setting(str, required=True,
                                help="WooCommerce > Settings > Advanced > REST API > Add key (ck_...)"),
        "consumer_secret": Setting(str, required=True, secret=True,
                                   help="shown once when the key is created (cs_...); the key needs Read/Write"),
        "auth": Setting(str, default="auto", choices=AUTH_MODES,
                        help="auto: HTTP Basic over https, OAuth 1.0a signature over http (as WooCommerce requires)"),
        "signature_method": Setting(str, default=DEFAULT_METHOD, choices=tuple(METHODS),
                                    help="OAuth signature method over plain http"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        super().__init__(name, settings, http)
        self.client = WooClient(self.call, base_url=self.settings.get("base_url") or "",
                                consumer_key=self.settings.get("consumer_key") or "",
                                consumer_secret=self.settings.get("consumer_secret") or "",
                                auth=self.settings.get("auth") or "auto",
                                signature_method=self.settings.get("signature_method") or DEFAULT_METHOD)

    # --- listings -----------------------------------------------------------
    def list_listings(self, page_token: str | None) -> Page[Listing]:
        """One page of products; a variable product contributes one listing per variation."""
        page = int(page_token or 1)
        reply = self.client.request("GET", "products", params={
            "page": page, "per_page": self.capabilities.listing_page_size, "orderby": "id", "order": "asc",
            "status": "any"})
        products = WooClient.items(reply, "products")
        listings: list[Listing] = []
        for product in products:
            kind = product.get("type", "simple")
            if kind == "variable":
                listings.extend(translate.variation_listing(product, v) for v in self._variations(product["id"]))
            elif kind not in NOT_LISTED:
                listings.append(translate.product_listing(product))
        more = page < reply.total_pages if reply.total_pages is not None else len(products) >= self.capabilities.listing_page_size
        return Page(listings, str(page + 1) if more and products else None)

    def _variations(self, product_id: Any) -> list[dict[str, Any]]:
        """Every variation of one product: detail calls within this listing page,
        bounded by the X-WP-TotalPages the shop reports."""
        found: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            reply = self.client.request("GET", f"products/{product_id}/variations",
                                        params={"page": page, "per_page": api.MAX_PER_PAGE, "orderby": "id",
                                                "order": "asc"})
            found.extend(WooClient.items(reply, "variations"))
            pages = reply.total_pages or 1
            page += 1
        return found

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        """Absolute quantities, one batch call per parent product. The core has already
        read the shop (``read_stock``) and lowered each quantity by the sales it has not
        ingested yet; see ``channelsync.engine.listings.Policy``."""
        return self._batch(updates, lambda u: {"manage_stock": True, "stock_quantity": max(0, int(u.quantity))})

    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """Quantities now: one ``GET ...?include=`` per parent product (simple products together)."""
        groups: dict[str | None, list[tuple[str, int]]] = {}
        for external_id, item_id in zip(external_ids, item_ids):
            record_id = _numeric(external_id)
            if record_id is not None:
                parent = None if _is_simple(external_id, item_id) else item_id
                groups.setdefault(parent, []).append((external_id, record_id))
        shown: dict[str, int] = {}
        for parent, members in groups.items():
            try:
                current = self._current(parent, [r for _, r in members])
            except NotFound:  # the parent product is gone: its variations are left out
                continue
            shown.update({ext: q for ext, r in members if (q := current.get(r)) is not None})
        return shown

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        """``regular_price`` as a yuan string; sale prices are left as the shop set them."""
        return self._batch(updates, lambda u: {"regular_price": fen_to_yuan(u.price)})

    def _current(self, parent: str | None, ids: list[int]) -> dict[int, int | None]:
        """Quantities the shop shows now for ``ids`` (products, or variations of ``parent``)."""
        path = "products" if parent is None else f"products/{parent}/variations"
        params: dict[str, Any] = {"include": ",".join(map(str, ids)), "per_page": api.MAX_PER_PAGE}
        if parent is None:
            params["status"] = "any"
        records = WooClient.items(self.client.request("GET", path, params=params), path)
        return {int(r["id"]): translate.quantity(r) for r in records if str(r.get("id", "")).isdigit()}

    def _batch(self, updates: Sequence[StockUpdate | PriceUpdate], fields) -> list[UpdateResult]:
        results: dict[int, UpdateResult] = {}
        groups: dict[str | None, list[tuple[int, Any, int]]] = {}
        for index, update in enumerate(updates):
            record_id = _numeric(update.external_id)
            if record_id is None:
                code = PRODUCT_INVALID_ID if _is_simple(update.external_id, update.item_id) else VARIATION_INVALID_ID
                results[index] = UpdateResult(update.external_id, NotFound(
                    f"{update.external_id!r} is not a WooCommerce id", code=code))
                continue
            parent = None if _is_simple(update.external_id, update.item_id) else update.item_id
            groups.setdefault(parent, []).append((index, update, record_id))
        for parent, members in groups.items():
            path = "products/batch" if parent is None else f"products/{parent}/variations/batch"
            try:
                body = {"update": [{"id": record_id, **fields(update)}
                                   for _, update, record_id in members]}
                reply = self.client.request("POST", path, json=body)
                answered = _batch_answers(reply.body)
            except AuthExpired:
                raise  # the core refreshes and sends the whole batch again
            except ChannelError as exc:
                answered, failure = {}, exc
            else:
                failure = None
            for index, update, record_id in members:
                if failure is not None:
                    results[index] = UpdateResult(update.external_id, failure)
                elif record_id not in answered:
                    results[index] = UpdateResult(update.external_id, Rejected(
                        f"the shop's batch answer has no entry for id {record_id}", code="batch_no_result"))
                else:
                    results[index] = UpdateResult(update.external_id, answered[record_id])
        return [results[i] for i in range(len(updates))]

    def update_listing(self, content: ListingContent) -> None:
        """Name and description live on the product (for a variation: its parent, named
        after the master product; a simple product is one SKU, named after it)."""
        product = content.item_id or content.external_id
        name = (content.sku_title or content.title) if _is_simple(content.external_id, content.item_id) else content.title
        self.client.request("PUT", f"products/{product}", json={"name": name, "description": content.description})

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        """A simple product is published or drafted; a variation is enabled or disabled
        (and, to go on the shelf, needs its parent published too)."""
        if _is_simple(content.external_id, content.item_id):
            product = content.external_id or content.item_id
            self.client.request("PUT", f"products/{product}",
                                json={"status": api.ON_SHELF if on else api.OFF_SHELF_PRODUCT})
            return
        self.client.request("PUT", f"products/{content.item_id}/variations/{content.external_id}",
                            json={"status": api.ON_SHELF if on else api.OFF_SHELF_VARIATION})
        if on:
            self.client.request("PUT", f"products/{content.item_id}", json={"status": api.ON_SHELF})

    def publish(self, content: ListingContent) -> list[Listing]:
        """Create a simple product carrying the merchant SKU code."""
        body: dict[str, Any] = {
            "name": content.sku_title or content.title, "type": "simple", "sku": content.sku_code, "description": content.description,
            "status": api.ON_SHELF if content.on_shelf else api.OFF_SHELF_PRODUCT,
            "manage_stock": True, "stock_quantity": int(content.quantity or 0)}
        if content.price is not None:
            body["regular_price"] = fen_to_yuan(content.price)
        reply = self.client.request("POST", "products", json=body)
        return [translate.product_listing(WooClient.object(reply, "products"))]

    # --- orders ---------------------------------------------------------------
    def fetch_orders(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        """Orders modified in the window, oldest change first.

        WooCommerce compares whole seconds and both bounds are exclusive, so the
        query is widened by a second each side (an order seen twice is harmless).
        The token moves the lower bound up to the last page's newest change
        instead of counting pages, so an order modified while we page (it moves
        to the end) cannot shift an unseen one back onto a page already read.
        """
        if page_token:
            after, _, page_text = page_token.rpartition("|")
            page = int(page_text)
        else:
            after, page = translate.format_gmt(since.replace(microsecond=0) - timedelta(seconds=1)), 1
        before = translate.format_gmt(until.replace(microsecond=0) + timedelta(seconds=1))
        per_page = self.capabilities.order_page_size
        reply = self.client.request("GET", "orders", params={
            "modified_after": after, "modified_before": before, "dates_are_gmt": True, "orderby": "modified",
            "order": "asc", "per_page": per_page, "page": page})
        payloads = WooClient.items(reply, "orders")
        orders = [self._order(p) for p in payloads]
        full = len(payloads) >= per_page and (reply.total_pages is None or page < reply.total_pages)
        if not full:
            return Page(orders, None)
        newest = translate.format_gmt(max(o.modified_at for o in orders) - timedelta(seconds=1))
        if newest > after:
            return Page(orders, f"{newest}|1")
        return Page(orders, f"{after}|{page + 1}")  # a whole page within one second: count pages there

    def _order(self, payload: dict[str, Any]) -> Order:
        """An order, with its refunds read (one call) when it lists any: they say which lines."""
        refunds = None
        if payload.get("refunds"):
            reply = self.client.request("GET", f"orders/{payload['id']}/refunds", params={"per_page": 100})
            refunds = WooClient.items(reply, "refunds")
        return translate.order(payload, refunds)

    def fetch_order(self, order_external_id: str) -> Order | None:
        return self._order(WooClient.object(self.client.request("GET", f"orders/{order_external_id}"), "order"))

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        """A customer note with carrier and tracking number, then status ``completed``."""
        note = api.SHIPMENT_NOTE.format(carrier=carrier, tracking_no=tracking_no)
        self.client.request("POST", f"orders/{order_external_id}/notes", json={"note": note, "customer_note": True})
        self.client.request("PUT", f"orders/{order_external_id}", json={"status": api.COMPLETED})

    # --- auth -------------------------------------------------------------------
    def refresh_auth(self) -> None:
        """WooCommerce keys do not expire: nothing to fetch. ``AuthExpired`` here means a
        refused timestamp or nonce; the client has already adopted the shop's clock from
        that response, and every call signs with a fresh timestamp and nonce."""

    @classmethod
    def simulator(cls, **options: Any):
        from channelsync_ownsite.sim import OwnsiteSimulator

        return OwnsiteSimulator(**options)


def _is_simple(external_id: str | None, item_id: str | None) -> bool:
    return item_id is None or item_id == external_id


def _numeric(value: str | None) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None


def _batch_answers(body: Any) -> dict[int, ChannelError | None]:
    """id -> its error (None when updated), from ``{"update": [product | {"id", "error"}]}``."""
    if not isinstance(body, dict) or not isinstance(body.get("update"), list):
        # a 2xx that is not WooCommerce's answer (a proxy page): unknown whether it applied
        raise Transient("the shop's batch answer has no update list", code="envelope")
    answers: dict[int, ChannelError | None] = {}
    for entry in body["update"]:
        if not isinstance(entry, dict) or not str(entry.get("id", "")).isdigit():
            continue
        error = entry.get("error")
        if isinstance(error, dict):
            data = error.get("data") if isinstance(error.get("data"), dict) else {}
            answers[int(entry["id"])] = error_for(error.get("code"), error.get("message"), data.get("status"))
        else:
            answers[int(entry["id"])] = None
    return answers
