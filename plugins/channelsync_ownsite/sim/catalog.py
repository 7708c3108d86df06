"""The simulator's catalogue: products, variations, their batch endpoints and validation.

The base simulator keeps SKUs grouped by ``item_id``. Here an item whose only
SKU carries the item's own id is a **simple** product; any other item is a
**variable** product whose SKUs are its variations (WooCommerce ids are all
posts of one sequence, so a variation id never equals its parent's, except
for the one case the sandbox allows: a lone SKU seeded as a simple product and
then given siblings keeps its id as the first variation's).
"""

from __future__ import annotations

from typing import Any

from channelsync.sdk.money import fen_to_yuan, yuan_to_fen
from channelsync.sim.simulator import Request, Response, SimSku
from channelsync_ownsite import api
from channelsync_ownsite.errors import INVALID_SKU, PRODUCT_INVALID_ID, TOO_LARGE, VARIATION_INVALID_ID
from channelsync_ownsite.sim.wire import (
    WooError,
    choice_param,
    date_param,
    gmt_text,
    invalid_param,
    local_text,
    paged,
    seconds,
)

PRODUCT_STATUSES = ("draft", "pending", "private", "publish")
VARIATION_STATUSES = ("private", "publish")
ORDERBY = ("date", "id", "include", "title", "slug", "modified", "price", "popularity", "rating", "menu_order")


class CatalogRoutes:
    """Mixed into ``OwnsiteSimulator`` (which provides the base Simulator state)."""

    skus: dict[str, SimSku]
    product_status: dict[str, str]

    # --- shapes ---------------------------------------------------------------
    def is_simple(self, item_id: str, skus: list[SimSku]) -> bool:
        return len(skus) == 1 and skus[0].external_id == item_id

    def product_json(self, item_id: str, skus: list[SimSku]) -> dict[str, Any]:
        first, simple = skus[0], self.is_simple(item_id, skus)
        own = next((s for s in skus if s.external_id == item_id), None)  # parent-level stock, if any
        modified = max(s.modified_at for s in skus)
        status = self.status_of(item_id, skus)
        return {
            "id": int(item_id), "name": first.title, "slug": f"product-{item_id}", "type": "simple" if simple else "variable",
            "status": status, "description": first.description, "sku": (first.sku_code or "") if simple else "",
            "price": fen_to_yuan(first.price) if simple else "", "regular_price": fen_to_yuan(first.price) if simple else "",
            "sale_price": "", "manage_stock": own is not None, "stock_quantity": own.quantity if own else None,
            "stock_status": _stock_status(first.quantity) if simple else "instock",
            "date_modified": local_text(modified), "date_modified_gmt": gmt_text(modified),
            "variations": [] if simple else [int(s.external_id) for s in skus],
        }

    def status_of(self, item_id: str, skus: list[SimSku]) -> str:
        if self.is_simple(item_id, skus):
            return api.ON_SHELF if skus[0].on_shelf else api.OFF_SHELF_PRODUCT
        return self.product_status.get(item_id, api.ON_SHELF)

    def variation_json(self, sku: SimSku) -> dict[str, Any]:
        return {
            "id": int(sku.external_id), "parent_id": int(sku.item_id), "sku": sku.sku_code or "",
            "status": api.ON_SHELF if sku.on_shelf else api.OFF_SHELF_VARIATION, "description": sku.description,
            "price": fen_to_yuan(sku.price), "regular_price": fen_to_yuan(sku.price), "sale_price": "",
            "manage_stock": True, "stock_quantity": sku.quantity, "stock_status": _stock_status(sku.quantity),
            "attributes": [{"id": 0, "name": "Option", "option": sku.sku_code or sku.external_id}],
            "date_modified": local_text(sku.modified_at), "date_modified_gmt": gmt_text(sku.modified_at),
        }

    def product(self, product_id: str) -> list[SimSku]:
        skus = self.item(str(product_id))
        if not skus:
            raise WooError(404, PRODUCT_INVALID_ID, "Invalid ID.")
        return skus

    def variation(self, product_id: str, variation_id: str) -> SimSku:
        sku = self.skus.get(str(variation_id))
        if sku is None or sku.item_id != str(product_id) or self.is_simple(sku.item_id, self.item(sku.item_id) or []):
            raise WooError(404, VARIATION_INVALID_ID, "Invalid ID.")
        return sku

    # --- products ---------------------------------------------------------------
    def list_products(self, req: Request) -> Response:
        orderby = choice_param(req, "orderby", "date", ORDERBY)
        order = choice_param(req, "order", "desc", ("asc", "desc"))
        status = req.query.get("status", "any") or "any"
        wanted_skus = {s.strip() for s in req.query.get("sku", "").split(",") if s.strip()}
        include = _ids(req)
        after, before = date_param(req, "modified_after"), date_param(req, "modified_before")
        with self.lock:  # filtered and sorted on what they need; only the page asked for is rendered
            picked = []
            for item_id, skus in self.items().items():
                if status != "any" and self.status_of(item_id, skus) != status:
                    continue
                if include is not None and int(item_id) not in include:
                    continue
                if wanted_skus and not wanted_skus & {s.sku_code for s in skus}:
                    continue
                if after or before:
                    modified = seconds(max(s.modified_at for s in skus))
                    if (after and modified <= after) or (before and modified >= before):
                        continue
                picked.append((item_id, skus))
            key = {"modified": lambda p: (gmt_text(max(s.modified_at for s in p[1])), int(p[0])),
                   "title": lambda p: (p[1][0].title, int(p[0]))}
            picked.sort(key=key.get(orderby, lambda p: int(p[0])), reverse=order == "desc")
            return paged(req, picked, lambda p: self.product_json(*p))

    def get_product(self, req: Request, product_id: str) -> Response:
        with self.lock:
            return Response(200, self.product_json(product_id, self.product(product_id)))

    def create_product(self, req: Request) -> Response:
        return Response(201, self._create(self.body(req)))

    def update_product(self, req: Request, product_id: str) -> Response:
        return Response(200, self._update_product(product_id, self.body(req)))

    def batch_products(self, req: Request) -> Response:
        body = self._batch_body(req)
        answer: dict[str, list] = {"create": [], "update": [], "delete": []}
        for fields in body.get("create") or []:
            answer["create"].append(_item(lambda: self._create(fields), fields.get("id", 0)))
        for fields in body.get("update") or []:
            answer["update"].append(_item(lambda: self._update_product(str(fields.get("id", "")), fields),
                                          fields.get("id", 0)))
        for product_id in body.get("delete") or []:
            answer["delete"].append(_item(lambda: self._delete(str(product_id)), product_id))
        return Response(200, answer)

    # --- variations -------------------------------------------------------------
    def list_variations(self, req: Request, product_id: str) -> Response:
        with self.lock:
            skus = self.product(product_id)
            include = _ids(req)
            rows = [] if self.is_simple(product_id, skus) else [
                self.variation_json(s) for s in skus if include is None or int(s.external_id) in include]
        rows.sort(key=lambda r: r["id"], reverse=choice_param(req, "order", "desc", ("asc", "desc")) == "desc")
        return paged(req, rows)

    def get_variation(self, req: Request, product_id: str, variation_id: str) -> Response:
        with self.lock:
            return Response(200, self.variation_json(self.variation(product_id, variation_id)))

    def update_variation(self, req: Request, product_id: str, variation_id: str) -> Response:
        fields = self.body(req)
        with self.lock:
            sku = self.variation(product_id, variation_id)
            self._apply(sku, fields, VARIATION_STATUSES)
            return Response(200, self.variation_json(sku))

    def batch_variations(self, req: Request, product_id: str) -> Response:
        body = self._batch_body(req)
        answer: dict[str, list] = {"create": [], "update": [], "delete": []}
        for fields in body.get("create") or []:
            answer["create"].append(_item(lambda: _refuse("variations are created in the seller centre"), 0))

        def update(fields: dict) -> dict:
            with self.lock:
                sku = self.variation(product_id, str(fields.get("id", "")))
                self._apply(sku, fields, VARIATION_STATUSES)
                return self.variation_json(sku)

        for fields in body.get("update") or []:
            answer["update"].append(_item(lambda: update(fields), fields.get("id", 0), VARIATION_INVALID_ID))
        return Response(200, answer)

    # --- writes -----------------------------------------------------------------
    def _batch_body(self, req: Request) -> dict[str, Any]:
        body = self.body(req)
        if not isinstance(body, dict):
            raise invalid_param("update", "update is not of type array.")
        count = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        if count > api.MAX_BATCH:
            raise WooError(413, TOO_LARGE, f"Unable to accept more than {api.MAX_BATCH} items for this request.")
        return body

    def _create(self, fields: dict[str, Any]) -> dict[str, Any]:
        if fields.get("type", "simple") != "simple":
            raise WooError(400, "woocommerce_rest_invalid_product_type",
                           "The sandbox creates simple products only.")
        code = fields.get("sku") or None
        with self.lock:
            if code and any(s.sku_code == code for s in self.skus.values()):
                raise WooError(400, INVALID_SKU, "Invalid or duplicated SKU.")
            sku = self.seed(code, 0, 0, title=str(fields.get("name") or "Product"))
            self._apply(sku, {k: v for k, v in fields.items() if k != "sku"}, PRODUCT_STATUSES)
            return self.product_json(sku.item_id, [sku])

    def _update_product(self, product_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            skus = self.product(product_id)
            if self.is_simple(product_id, skus):
                self._apply(skus[0], fields, PRODUCT_STATUSES, check_sku=True)
                return self.product_json(product_id, skus)
            _validate(fields, PRODUCT_STATUSES)
            for sku in skus:  # name and description are the product's, shown on every variation
                if "name" in fields:
                    sku.title = fields["name"]
                if "description" in fields:
                    sku.description = fields["description"]
                if "name" in fields or "description" in fields:
                    sku.modified_at = self.now()
            if "status" in fields:
                self.product_status[product_id] = fields["status"]
            own = [s for s in skus if s.external_id == product_id]
            if own:  # a simple product turned variable: its parent-level stock and price are that SKU's
                self._apply(own[0], {k: fields[k] for k in ("regular_price", "stock_quantity") if k in fields},
                            PRODUCT_STATUSES)
            return self.product_json(product_id, skus)

    def _delete(self, product_id: str) -> dict[str, Any]:
        with self.lock:
            skus = self.product(product_id)
            shown = self.product_json(product_id, skus)
            for sku in list(skus):
                self.forget(sku)
            return shown

    def _apply(self, sku: SimSku, fields: dict[str, Any], statuses: tuple, check_sku: bool = False) -> None:
        """Validate everything first, then change: a refused update changes nothing."""
        _validate(fields, statuses)
        if check_sku and fields.get("sku") and any(s.sku_code == fields["sku"] and s is not sku
                                                   for s in self.skus.values()):
            raise WooError(400, INVALID_SKU, "Invalid or duplicated SKU.")
        if "name" in fields:
            sku.title = fields["name"]
        if "description" in fields:
            sku.description = fields["description"]
        if "status" in fields:
            sku.on_shelf = fields["status"] == api.ON_SHELF
        if "regular_price" in fields:
            sku.price = yuan_to_fen(fields["regular_price"]) if fields["regular_price"] else 0
        if fields.get("stock_quantity") is not None:
            sku.quantity = fields["stock_quantity"]
        if check_sku and "sku" in fields:
            sku.sku_code = fields["sku"] or None
        sku.modified_at = self.now()


def _validate(fields: dict[str, Any], statuses: tuple) -> None:
    """WordPress checks each field against the endpoint's schema before anything runs."""
    for name in ("name", "description", "sku", "regular_price"):
        if name in fields and not isinstance(fields[name], str):
            raise invalid_param(name, f"{name} is not of type string.")
    if "regular_price" in fields and fields["regular_price"]:
        try:
            yuan_to_fen(fields["regular_price"])
        except ValueError:
            raise invalid_param("regular_price", "regular_price is not a valid price.") from None
    quantity = fields.get("stock_quantity")
    if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool)):
        raise invalid_param("stock_quantity", "stock_quantity is not of type integer.")
    if "manage_stock" in fields and not isinstance(fields["manage_stock"], bool):
        raise invalid_param("manage_stock", "manage_stock is not of type boolean.")
    if "status" in fields and fields["status"] not in statuses:
        raise invalid_param("status", f"status is not one of {', '.join(statuses)}.")


def _item(action, item_id: Any, invalid_code: str = PRODUCT_INVALID_ID) -> dict[str, Any]:
    """One batch entry: the record, or ``{"id", "error"}`` (status 400 inside a batch)."""
    try:
        return action()
    except WooError as exc:
        code = invalid_code if exc.code in (PRODUCT_INVALID_ID, VARIATION_INVALID_ID) else exc.code
        status = 400 if exc.status == 404 else exc.status
        return {"id": item_id, "error": {"code": code, "message": exc.message, "data": {"status": status, **exc.data}}}


def _refuse(message: str):
    raise WooError(400, "woocommerce_rest_cannot_create", message)


def _ids(req: Request) -> set[int] | None:
    """The ``include`` filter (comma-separated ids), or None when absent."""
    raw = req.query.get("include")
    if not raw:
        return None
    try:
        return {int(x) for x in raw.split(",") if x.strip()}
    except ValueError:
        raise invalid_param("include", "include[0] is not of type integer.") from None


def _stock_status(quantity: int) -> str:
    return "instock" if quantity > 0 else "outofstock"
