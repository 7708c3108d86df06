"""The goods APIs of the PDD simulator: list, detail, stock, SKU prices, sale status.

Goods APIs count money in fen. A SKU's ``price`` in the core state is PDD's
group-buy price (``multi_price``); the single-buy price is kept beside it and
must stay above it, as PDD requires (unconfirmed rule).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from channelsync.sim.simulator import Response, SimSku
from channelsync_pdd import api

#: the single-buy price a seeded SKU starts with, above its group price (fen)
SINGLE_MARKUP = 100


class GoodsApi:
    """Mixed into ``PddSimulator``: the goods handlers."""

    def goods_handlers(self) -> dict[str, Callable[[dict[str, str]], Response]]:
        return {api.GOODS_LIST: self.goods_list, api.GOODS_DETAIL: self.goods_detail,
                api.QUANTITY_UPDATE: self.quantity_update, api.SKU_PRICE_UPDATE: self.sku_price_update,
                api.SALE_STATUS: self.sale_status}

    def single_price(self, sku: SimSku) -> int:
        return self.single_prices.get(sku.external_id, sku.price + SINGLE_MARKUP)

    def goods_row(self, goods_id: str, skus: list[SimSku], *, detail: bool = False) -> dict[str, Any]:
        """A goods list row (quantities only) or a goods detail (with fen prices)."""
        def sku_json(sku: SimSku) -> dict[str, Any]:
            if detail:
                return {"sku_id": int(sku.external_id), "outer_id": sku.sku_code or "", "quantity": sku.quantity,
                        "multi_price": sku.price, "price": self.single_price(sku), "is_onsale": int(sku.on_shelf)}
            return {"sku_id": int(sku.external_id), "outer_id": sku.sku_code or "", "sku_quantity": sku.quantity,
                    "is_sku_onsale": int(sku.on_shelf), "spec": sku.title}
        return {"goods_id": int(goods_id), "goods_name": skus[0].title, "is_onsale": int(any(s.on_shelf for s in skus)),
                "goods_quantity": sum(s.quantity for s in skus), "sku_list": [sku_json(s) for s in skus]}

    def goods_list(self, params: dict[str, str]) -> Response:
        paging = self.page(params, api.PAGE_MAX)
        if isinstance(paging, Response):
            return paging
        page, size = paging
        goods = list(self.items().items())
        rows = [self.goods_row(goods_id, skus) for goods_id, skus in goods[(page - 1) * size:page * size]]
        return self.ok(api.GOODS_LIST, {"goods_list": rows, "total_count": len(goods)})

    def _goods(self, params: dict[str, str]) -> tuple[str, list[SimSku]] | Response:
        refused = self.required(params, "goods_id")
        if refused:
            return refused
        skus = self.item(str(params["goods_id"]))
        if not skus:
            return self.fail("20001", f"goods {params['goods_id']} do not exist")
        return str(params["goods_id"]), skus

    def goods_detail(self, params: dict[str, str]) -> Response:
        found = self._goods(params)
        if isinstance(found, Response):
            return found
        return self.ok(api.GOODS_DETAIL, self.goods_row(*found, detail=True))

    def quantity_update(self, params: dict[str, str]) -> Response:
        found = self._goods(params)
        if isinstance(found, Response):
            return found
        refused = self.required(params, "quantity")
        if refused:
            return refused
        goods_id, skus = found
        ref = params.get("sku_id") or params.get("outer_id")
        matches = [s for s in skus if ref in (s.external_id, s.sku_code)]
        if not ref or not matches:
            return self.fail("20002", f"SKU {ref or '(none given)'} is not on goods {goods_id}")
        quantity = self.number(params, "quantity")
        if isinstance(quantity, Response):
            return quantity
        kind = str(params.get("update_type") or api.FULL)  # full is PDD's default
        if kind not in (str(api.FULL), str(api.INCREMENT)):
            return self.fail("10000", "update_type must be 1 (full) or 2 (increment)")
        kind, sku = int(kind), matches[0]
        new = quantity if kind == api.FULL else sku.quantity + quantity
        if new < 0:
            return self.fail("10000" if kind == api.FULL else "20005",
                             f"stock would be {new}: a full quantity must be >= 0 and a decrease no larger than stock")
        sku.quantity, sku.modified_at = new, self.now()
        return self.ok(api.QUANTITY_UPDATE, {"is_success": True})

    def sku_price_update(self, params: dict[str, str]) -> Response:
        found = self._goods(params)
        if isinstance(found, Response):
            return found
        goods_id, skus = found
        try:
            prices = json.loads(params.get("sku_price_list") or "")
            changes = [(str(p["sku_id"]), int(p["group_price"]), int(p["single_price"])) for p in prices]
        except (ValueError, TypeError, KeyError):
            return self.fail("10000", "sku_price_list must be a JSON list of {sku_id, group_price, single_price}")
        by_id = {s.external_id: s for s in skus}
        for sku_id, group, single in changes:
            if sku_id not in by_id:
                return self.fail("20002", f"SKU {sku_id} is not on goods {goods_id}")
            if not 0 < group < single:
                return self.fail("10000", "prices are fen: 0 < group_price < single_price")
        for sku_id, group, single in changes:
            by_id[sku_id].price, self.single_prices[sku_id] = group, single
            by_id[sku_id].modified_at = self.now()
        return self.ok(api.SKU_PRICE_UPDATE, {"is_success": True})

    def sale_status(self, params: dict[str, str]) -> Response:
        found = self._goods(params)
        if isinstance(found, Response):
            return found
        on = self.number(params, "is_onsale")
        if isinstance(on, Response) or on not in (1, 0):
            return self.fail("10000", "is_onsale must be 0 or 1")
        for sku in found[1]:
            sku.on_shelf, sku.modified_at = on == 1, self.now()
        return self.ok(api.SALE_STATUS, {"is_success": True})
