"""The simulator's product methods: ids by page, product reads, stock, prices, text, shelf.

A WeChat product is the base simulator's item; its SKUs are the items' SKUs.
A product is on sale (status 5) while any of its SKUs is on the shelf, else
delisted (11); listing and delisting move every SKU of the product together.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from channelsync.sim.simulator import Response, SimSku
from channelsync_wechat import api


def _int(value: Any) -> int | None:
    """An integer field, or None (bools and floats are not integers to WeChat)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class ProductsApi:
    """Mixin for ``WechatSimulator``: the ``/channels/ec/product/*`` methods."""

    def product_handlers(self) -> dict[str, Callable[[dict[str, Any]], Response]]:
        return {api.PRODUCT_LIST: self._product_list, api.PRODUCT_GET: self._product_get,
                api.STOCK_UPDATE: self._stock_update, api.PRICE_UPDATE: self._auditfree,
                api.PRODUCT_UPDATE: self._product_update, api.PRODUCT_LISTING: self._listing,
                api.PRODUCT_DELISTING: self._delisting}

    # --- views ------------------------------------------------------------------------------
    def product_status(self, skus: list[SimSku]) -> int:
        return api.ON_SALE if any(s.on_shelf for s in skus) else api.DELISTED

    def product_json(self, product_id: str, skus: list[SimSku]) -> dict[str, Any]:
        first = skus[0]
        return {
            "product_id": product_id, "out_product_id": "", "title": first.title, "sub_title": "",
            "head_imgs": [], "desc_info": {"desc": first.description, "imgs": []}, "cats": [], "attrs": [],
            "status": self.product_status(skus),
            "skus": [{"sku_id": s.external_id, "out_sku_id": s.sku_code or "", "sale_price": s.price,
                      "stock_num": s.quantity, "sku_attrs": [], "thumb_img": ""} for s in skus],
        }

    def product(self, body: dict[str, Any]) -> tuple[str, list[SimSku]] | Response:
        """The product named by ``product_id``, or the refusal."""
        product_id = body.get("product_id")
        if product_id in (None, ""):
            return self.invalid("product_id is required")
        skus = self.item(str(product_id))
        if not skus:
            return self.error(10020052, f"product_id {product_id}")
        return str(product_id), skus

    @staticmethod
    def sku_of(skus: list[SimSku], sku_id: Any) -> SimSku | None:
        return next((s for s in skus if s.external_id == str(sku_id)), None)

    # --- methods ------------------------------------------------------------------------------
    def _product_list(self, body: dict[str, Any]) -> Response:
        paging = self.page(body, api.PRODUCT_PAGE_MAX)
        if isinstance(paging, Response):
            return paging
        offset, size = paging
        status = body.get("status")
        if status is not None and _int(status) not in api.LIST_PHASES:
            return self.invalid(f"status must be one of {', '.join(map(str, api.LIST_PHASES))}")
        items = self.items()
        ids = list(items) if status is None else [pid for pid, skus in items.items()
                                                  if self.product_status(skus) == _int(status)]
        chunk = ids[offset:offset + size]
        return self.ok(product_ids=chunk, next_key=self.next_key(offset + len(chunk)), total_num=len(ids))

    def _product_get(self, body: dict[str, Any]) -> Response:
        found = self.product(body)
        if isinstance(found, Response):
            return found
        return self.ok(product=self.product_json(*found))

    def _stock_update(self, body: dict[str, Any]) -> Response:
        found = self.product(body)
        if isinstance(found, Response):
            return found
        _, skus = found
        sku = self.sku_of(skus, body.get("sku_id"))
        if sku is None:
            return self.error(10020052, f"sku_id {body.get('sku_id')} is not a SKU of product {body['product_id']}")
        refused = self.stock_change(sku, body.get("diff_type"), body.get("num"))
        if refused is not None:
            return refused
        return self.ok()

    def stock_change(self, sku: SimSku, diff_type: Any, num: Any, *, check_only: bool = False) -> Response | None:
        """Apply one ``diff_type``/``num`` change (or only check it); None when fine."""
        diff_type, num = _int(diff_type), _int(num)
        if diff_type not in (api.ADD, api.SUBTRACT, api.SET):
            return self.invalid("diff_type must be 1 (add), 2 (subtract) or 3 (set)")
        if num is None or num < 0:
            return self.invalid("num must be a non-negative integer")
        now = self.now()
        last = self.stock_updated.get(sku.external_id)
        if self.sku_update_interval and last is not None \
                and now - last < timedelta(seconds=self.sku_update_interval):
            return self.error(10020112, f"sku_id {sku.external_id}")
        if diff_type == api.SUBTRACT and num > sku.quantity:
            return self.error(10020219, f"sku_id {sku.external_id} has {sku.quantity}, asked to subtract {num}")
        if check_only:
            return None
        sku.quantity = {api.ADD: sku.quantity + num, api.SUBTRACT: sku.quantity - num, api.SET: num}[diff_type]
        sku.modified_at = self.stock_updated[sku.external_id] = now
        return None

    def _auditfree(self, body: dict[str, Any]) -> Response:
        """Prices (fen) and optionally stock of some SKUs, without review; all or nothing."""
        found = self.product(body)
        if isinstance(found, Response):
            return found
        product_id, skus = found
        changes = body.get("skus")
        if not isinstance(changes, list) or not changes:
            return self.invalid("skus must be a non-empty list")
        planned = []
        for change in changes:
            sku = self.sku_of(skus, (change or {}).get("sku_id")) if isinstance(change, dict) else None
            if sku is None:
                return self.error(10020052, f"a sku_id of {product_id} does not exist")
            price = change.get("sale_price")
            if price is not None and (_int(price) is None or _int(price) <= 0):
                return self.invalid("sale_price must be a positive integer in fen")
            stock = change.get("stock_info")
            if stock is not None:
                refused = self.stock_change(sku, (stock or {}).get("diff_type"), (stock or {}).get("num"),
                                            check_only=True)
                if refused is not None:
                    return refused
            planned.append((sku, _int(price) if price is not None else None, stock))
        for sku, price, stock in planned:
            if price is not None:
                sku.price = price
                sku.modified_at = self.now()
            if stock is not None:
                self.stock_change(sku, stock.get("diff_type"), stock.get("num"))
        return self.ok()

    def _product_update(self, body: dict[str, Any]) -> Response:
        """Title and description apply at once here; the real platform reviews them first.

        Prices and stock in the SKUs sent are ignored (the adapter sends none;
        they have their own methods).
        """
        found = self.product(body)
        if isinstance(found, Response):
            return found
        product_id, skus = found
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            return self.invalid("title is required")
        desc = (body.get("desc_info") or {}).get("desc") if isinstance(body.get("desc_info"), dict) else None
        for sku in skus:
            sku.title = title
            if isinstance(desc, str):
                sku.description = desc
            sku.modified_at = self.now()
        return self.ok(data={"product_id": product_id, "create_time": self.now().strftime("%Y-%m-%d %H:%M:%S")})

    def _shelf(self, body: dict[str, Any], on: bool) -> Response:
        found = self.product(body)
        if isinstance(found, Response):
            return found
        for sku in found[1]:
            sku.on_shelf = on
            sku.modified_at = self.now()
        return self.ok()

    def _listing(self, body: dict[str, Any]) -> Response:
        return self._shelf(body, True)

    def _delisting(self, body: dict[str, Any]) -> Response:
        return self._shelf(body, False)
