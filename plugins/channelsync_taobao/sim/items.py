"""The simulator's item methods: listing pages and details, stock, prices, title, shelf.

An item is the base simulator's SKUs that share an ``item_id``. Each SKU gets
properties (``1627207:<value id>``) from its position in the item, since
``item.sku.price.update`` names a SKU by its properties, not its id.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from channelsync.sdk.money import fen_to_yuan
from channelsync.sim.simulator import Response, SimSku
from channelsync_taobao import api
from channelsync_taobao.router import format_time

COLOUR_PROPERTY = 1627207  # TOP's colour property id; value ids are made up per position
FIRST_VALUE_ID = 28320


class ItemsApi:
    """Mixin for ``TaobaoSimulator``: the ``taobao.item*`` methods."""

    def item_handlers(self) -> dict[str, Callable[[dict[str, str]], Response]]:
        return {api.ITEMS_ONSALE: self._onsale, api.ITEMS_INVENTORY: self._inventory, api.ITEM_GET: self._item_get,
                api.ITEMS_LIST: self._items_list, api.ITEM_QUANTITY: self._item_quantity,
                api.SKUS_QUANTITY: self._skus_quantity, api.SKU_PRICE: self._sku_price,
                api.ITEM_UPDATE: self._item_update, api.ITEM_LISTING: self._listing,
                api.ITEM_DELISTING: self._delisting}

    # --- state views ----------------------------------------------------------------
    def item_skus(self, num_iid: str) -> list[SimSku] | None:
        return self.item(str(num_iid))

    @staticmethod
    def properties(position: int) -> str:
        return f"{COLOUR_PROPERTY}:{FIRST_VALUE_ID + position}"

    def item_json(self, num_iid: str, skus: list[SimSku], fields: str) -> dict[str, Any]:
        wanted = {f.strip() for f in fields.split(",")}
        item: dict[str, Any] = {"num_iid": int(num_iid), "title": skus[0].title,
                                "approve_status": api.ONSALE if skus[0].on_shelf else api.INSTOCK,
                                "num": sum(s.quantity for s in skus),
                                "price": fen_to_yuan(min(s.price for s in skus)),
                                "modified": format_time(max(s.modified_at for s in skus))}
        if "sku" in wanted or "skus" in wanted:
            item["skus"] = {"sku": [self.sku_json(s, i) for i, s in enumerate(skus)]}
        return {k: v for k, v in item.items() if k in wanted or k == "skus"}

    def sku_json(self, sku: SimSku, position: int) -> dict[str, Any]:
        row = {"sku_id": int(sku.external_id), "properties": self.properties(position), "quantity": sku.quantity,
               "price": fen_to_yuan(sku.price), "modified": format_time(sku.modified_at)}
        if sku.sku_code:
            row["outer_id"] = sku.sku_code
        return row

    def not_exist(self, num_iid: str) -> Response:
        return self.refused("isv.item-not-exist:invalid-numIid-or-iid", f"item {num_iid} does not exist")

    def _item(self, params: dict[str, str]) -> tuple[str, list[SimSku]] | Response:
        refused = self.required(params, "num_iid")
        if refused:
            return refused
        skus = self.item_skus(params["num_iid"])
        return self.not_exist(params["num_iid"]) if skus is None else (params["num_iid"], skus)

    # --- listing pages and details -------------------------------------------------------
    def _onsale(self, params: dict[str, str]) -> Response:
        return self._item_page(api.ITEMS_ONSALE, params, on_shelf=True)

    def _inventory(self, params: dict[str, str]) -> Response:
        return self._item_page(api.ITEMS_INVENTORY, params, on_shelf=False)

    def _item_page(self, method: str, params: dict[str, str], on_shelf: bool) -> Response:
        refused = self.required(params, "fields")
        if refused:
            return refused
        paging = self.page(params, 40, api.ITEM_PAGE_MAX)
        if isinstance(paging, Response):
            return paging
        page_no, size = paging
        items = [(i, s) for i, s in self.items().items() if s[0].on_shelf == on_shelf]
        rows = [self.item_json(i, s, params["fields"]) for i, s in items[(page_no - 1) * size:page_no * size]]
        rows = [{k: v for k, v in row.items() if k != "skus"} for row in rows]  # page lists carry no SKUs
        return self.ok(method, {"items": {"item": rows}, "total_results": len(items)})

    def _item_get(self, params: dict[str, str]) -> Response:
        found = self._item(params)
        if isinstance(found, Response):
            return found
        return self.ok(api.ITEM_GET, {"item": self.item_json(*found, params.get("fields") or "num_iid")})

    def _items_list(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "num_iids", "fields")
        if refused:
            return refused
        ids = [i.strip() for i in params["num_iids"].split(",") if i.strip()]
        if len(ids) > api.ITEMS_PER_LIST_CALL:
            return self.invalid("num_iids", f"at most {api.ITEMS_PER_LIST_CALL} num_iids a call")
        rows = [self.item_json(i, self.item_skus(i), params["fields"]) for i in ids if self.item_skus(i)]
        return self.ok(api.ITEMS_LIST, {"items": {"item": rows}})

    # --- stock -----------------------------------------------------------------------------
    def _item_quantity(self, params: dict[str, str]) -> Response:
        found = self._item(params)
        if isinstance(found, Response):
            return found
        num_iid, skus = found
        refused = self.required(params, "quantity")
        if refused:
            return refused
        by_id = {s.external_id: s for s in skus}
        by_code = {s.sku_code: s for s in skus if s.sku_code}
        target = by_id.get(params.get("sku_id") or "") or by_code.get(params.get("outer_id") or "")
        if target is None:
            # every item here has SKUs, and TOP wants the one to change named
            return self.refused("isv.invalid-parameter:sku_id", "sku_id or outer_id of this item is required")
        changes = self._quantities(params.get("type") or "1", {target.external_id: params["quantity"]}, by_id)
        if isinstance(changes, Response):
            return changes
        self._apply(changes)
        return self.ok(api.ITEM_QUANTITY, {"item": {"num_iid": int(num_iid), "num": sum(s.quantity for s in skus),
                                                    "modified": format_time(self.now())}})

    def _skus_quantity(self, params: dict[str, str]) -> Response:
        found = self._item(params)
        if isinstance(found, Response):
            return found
        num_iid, skus = found
        spec = params.get("skuid_quantities") or params.get("outerid_quantities")
        if not spec:
            return self.missing("skuid_quantities")
        pairs = [p.rsplit(":", 1) for p in spec.split(";") if p.strip()]
        if len(pairs) > api.SKUS_PER_QUANTITY_CALL:
            return self.invalid("skuid_quantities", f"at most {api.SKUS_PER_QUANTITY_CALL} SKUs a call")
        if any(len(p) != 2 for p in pairs):
            return self.invalid("skuid_quantities", "expected skuId:quantity;skuId:quantity")
        by_ref = {s.external_id: s for s in skus} if params.get("skuid_quantities") else \
            {s.sku_code: s for s in skus if s.sku_code}
        changes = self._quantities(params.get("type") or "1", dict(pairs), by_ref)
        if isinstance(changes, Response):
            return changes
        self._apply(changes)
        return self.ok(api.SKUS_QUANTITY, {"item": {
            "num_iid": int(num_iid), "modified": format_time(self.now()),
            "skus": {"sku": [{"sku_id": int(s.external_id), "quantity": s.quantity} for s in skus]}}})

    def _quantities(self, kind: str, wanted: dict[str, str], by_ref: dict[str, SimSku]) -> dict[str, int] | Response:
        """New quantity per SKU id, all validated before any applies (a call is all or nothing)."""
        if kind not in ("1", "2"):
            return self.invalid("type", "type must be 1 (full) or 2 (incremental)")
        changes: dict[str, int] = {}
        for ref, text in wanted.items():
            sku = by_ref.get(ref.strip())
            if sku is None:
                return self.refused("isv.invalid-parameter:sku_id", f"SKU {ref} is not on this item")
            try:
                qty = int(text)
            except ValueError:
                return self.invalid("quantity", f"{text!r} is not a whole number")
            if kind == "1" and qty < 0:
                return self.refused("isv.invalid-parameter:quantity", "a full quantity must not be negative")
            # an incremental decrease beyond the stock floors at 0, silently, as TOP does
            changes[sku.external_id] = qty if kind == "1" else max(0, sku.quantity + qty)
        return changes

    def _apply(self, changes: dict[str, int]) -> None:
        for external_id, quantity in changes.items():
            self.skus[external_id].quantity = quantity
            self.skus[external_id].modified_at = self.now()

    # --- prices, title, shelf ------------------------------------------------------------------
    def _sku_price(self, params: dict[str, str]) -> Response:
        found = self._item(params)
        if isinstance(found, Response):
            return found
        num_iid, skus = found
        refused = self.required(params, "properties", "price")
        if refused:
            return refused
        matches = [s for i, s in enumerate(skus) if self.properties(i) == params["properties"]]
        if not matches:
            return self.refused("isv.invalid-parameter:sku-properties", "no SKU of this item has these properties")
        fen = yuan(params["price"])
        if fen is None:
            return self.invalid("price", "price must be a positive amount in yuan with at most 2 decimals")
        matches[0].price, matches[0].modified_at = fen, self.now()
        return self.ok(api.SKU_PRICE, {"sku": {"sku_id": int(matches[0].external_id), "num_iid": int(num_iid),
                                               "price": fen_to_yuan(fen), "modified": format_time(self.now())}})

    def _item_update(self, params: dict[str, str]) -> Response:
        found = self._item(params)
        if isinstance(found, Response):
            return found
        num_iid, skus = found
        if params.get("price"):
            return self.refused("isv.invalid-parameter:price", "an item with SKUs takes SKU prices")
        for sku in skus:
            sku.title = params.get("title") or sku.title
            sku.description = params.get("desc") or sku.description
            sku.modified_at = self.now()
        return self.ok(api.ITEM_UPDATE, {"item": {"num_iid": int(num_iid), "modified": format_time(self.now())}})

    def _listing(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "num_iid", "num")
        if refused:
            return refused
        if not params["num"].isdigit():
            return self.invalid("num", "num must be a whole number")
        return self._shelf(api.ITEM_LISTING, params, True)

    def _delisting(self, params: dict[str, str]) -> Response:
        return self._shelf(api.ITEM_DELISTING, params, False)

    def _shelf(self, method: str, params: dict[str, str], on: bool) -> Response:
        found = self._item(params)
        if isinstance(found, Response):
            return found
        num_iid, skus = found
        for sku in skus:
            sku.on_shelf, sku.modified_at = on, self.now()
        return self.ok(method, {"item": {"num_iid": int(num_iid), "modified": format_time(self.now())}})


def yuan(text: str) -> int | None:
    """A positive yuan amount with at most two decimals, in fen; None if it is not one."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or (value * 100) != (value * 100).to_integral_value():
        return None
    return int(value * 100)
