"""The own-site (WooCommerce REST v3) adapter: declarations and translation.

Products page by number (``X-WP-TotalPages``); a variable product's variations
are a paged detail the core reads call by call; orders page by their modified
time (``Keyset``), so an order modified while we page cannot shift an unseen
one onto a page already read. WooCommerce keys do not expire: an ``AuthExpired``
here is a refused timestamp or nonce, which the client cures by adopting the
shop's clock from that answer; every call signs afresh, so the default
``refresh_auth`` (nothing to renew) is right.

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
from channelsync.sdk import At, Detail, Keyset, PageNumber, Reply
from channelsync.sdk.batch import grouped, run_calls
from channelsync.sdk.errors import ChannelError, NotFound, Transient
from channelsync.sdk.models import Listing, ListingContent, Order, PriceUpdate, StockUpdate, UpdateResult
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

    listing_pages = PageNumber()
    order_pages = Keyset(key=lambda order: order.modified_at)
    simulator_class = "channelsync_ownsite.sim:OwnsiteSimulator"

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        super().__init__(name, settings, http)
        self.client = WooClient(self.call, base_url=self.settings.get("base_url") or "",
                                consumer_key=self.settings.get("consumer_key") or "",
                                consumer_secret=self.settings.get("consumer_secret") or "",
                                auth=self.settings.get("auth") or "auto",
                                signature_method=self.settings.get("signature_method") or DEFAULT_METHOD)

    # --- listings -----------------------------------------------------------
    def listing_page(self, at: At) -> Reply[Listing]:
        """One page of products; a variable product is a detail: its variations, paged by the core."""
        reply = self.client.request("GET", "products", params={
            "page": at.page, "per_page": at.size, "orderby": "id", "order": "asc", "status": "any"})
        products = reply.body
        found: list[Any] = []
        for product in products:
            kind = product.get("type", "simple")
            if kind == "variable":
                found.append(Detail(f"product {product['id']}", pages=lambda at, p=product: self._variations(p, at),
                                    paginator=PageNumber()))
            elif kind not in NOT_LISTED:
                found.append(translate.product_listing(product))
        return Reply(found, total_pages=reply.total_pages, count=len(products))

    def _variations(self, product: dict[str, Any], at: At) -> Reply[Listing]:
        reply = self.client.request("GET", f"products/{product['id']}/variations", params={
            "page": at.page, "per_page": api.MAX_PER_PAGE, "orderby": "id", "order": "asc"})
        return Reply([translate.variation_listing(product, v) for v in reply.body],
                     total_pages=reply.total_pages or 1)

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        """Absolute quantities, one batch call per parent product. The core has already
        read the shop (``read_stock``) and lowered each quantity by the sales it has not
        ingested yet; see ``channelsync.engine.stock_policy.Policy``."""
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
        records = self.client.request("GET", path, params=params).body
        return {int(r["id"]): translate.quantity(r) for r in records if str(r.get("id", "")).isdigit()}

    def _batch(self, updates: Sequence[StockUpdate | PriceUpdate], fields) -> list[UpdateResult]:
        """One batch call per parent product (the kit groups, falls back and reads per-record answers)."""
        def send(group: list[Any]) -> Any:
            if _numeric(group[0].external_id) is None:
                code = PRODUCT_INVALID_ID if _is_simple(group[0].external_id, group[0].item_id) else VARIATION_INVALID_ID
                raise NotFound(f"{group[0].external_id!r} is not a WooCommerce id", code=code)
            parent = _parent(group[0])
            path = "products/batch" if parent is None else f"products/{parent}/variations/batch"
            return self.client.request("POST", path, json={"update": [
                {"id": int(u.external_id), **fields(u)} for u in group]}).body

        def group(update: Any) -> Any:  # an id WooCommerce cannot have is refused on its own
            return _parent(update) if _numeric(update.external_id) is not None else ("invalid", update.external_id)

        return run_calls(updates, grouped(updates, group, send, answers=_batch_answers))

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
        return [translate.product_listing(reply.body)]

    # --- orders ---------------------------------------------------------------
    def order_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        """Orders modified in the window, oldest change first (``Keyset`` on the modified time).

        WooCommerce compares whole seconds and both bounds are exclusive, so the
        query is widened by a second each side (an order seen twice is harmless).
        """
        after = translate.format_gmt((at.key or since).replace(microsecond=0) - timedelta(seconds=1))
        before = translate.format_gmt(until.replace(microsecond=0) + timedelta(seconds=1))
        reply = self.client.request("GET", "orders", params={
            "modified_after": after, "modified_before": before, "dates_are_gmt": True, "orderby": "modified",
            "order": "asc", "per_page": at.size, "page": at.page})
        # an order that lists refunds needs one more call for them: a detail the core makes on its
        # own. Never skipped as unchanged: a refund need not move the order's modified time.
        found = [Detail(str(p["id"]), lambda p=p: self._order(p)) if p.get("refunds") else translate.order(p)
                 for p in reply.body]
        last = max((translate.gmt(p.get("date_modified_gmt") or p.get("date_created_gmt")) for p in reply.body),
                   default=None)
        return Reply(found, total_pages=reply.total_pages, last_key=last)

    def _order(self, payload: dict[str, Any]) -> Order:
        """An order, with its refunds read (one call) when it lists any: they say which lines."""
        refunds = None
        if payload.get("refunds"):
            reply = self.client.request("GET", f"orders/{payload['id']}/refunds", params={"per_page": 100})
            refunds = reply.body
        return translate.order(payload, refunds)

    def fetch_order(self, order_external_id: str) -> Order | None:
        return self._order(self.client.request("GET", f"orders/{order_external_id}").body)

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        """A customer note with carrier and tracking number, then status ``completed``."""
        note = api.SHIPMENT_NOTE.format(carrier=carrier, tracking_no=tracking_no)
        self.client.request("POST", f"orders/{order_external_id}/notes", json={"note": note, "customer_note": True})
        self.client.request("PUT", f"orders/{order_external_id}", json={"status": api.COMPLETED})


def _is_simple(external_id: str | None, item_id: str | None) -> bool:
    return item_id is None or item_id == external_id


def _parent(update: Any) -> str | None:
    """The parent product of a variation; None for a simple product (its own parent)."""
    return None if _is_simple(update.external_id, update.item_id) else update.item_id


def _numeric(value: str | None) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None


def _batch_answers(body: Any) -> dict[str, ChannelError | None]:
    """id -> its error (None when updated), from ``{"update": [product | {"id", "error"}]}``."""
    if not isinstance(body, dict) or not isinstance(body.get("update"), list):
        # a 2xx that is not WooCommerce's answer (a proxy page): unknown whether it applied
        raise Transient("the shop's batch answer has no update list", code="envelope")
    answers: dict[str, ChannelError | None] = {}
    for entry in body["update"]:
        if not isinstance(entry, dict) or not str(entry.get("id", "")).isdigit():
            continue
        error = entry.get("error")
        if isinstance(error, dict):
            data = error.get("data") if isinstance(error.get("data"), dict) else {}
            answers[str(entry["id"])] = error_for(error.get("code"), error.get("message"), data.get("status"))
        else:
            answers[str(entry["id"])] = None
    return answers
