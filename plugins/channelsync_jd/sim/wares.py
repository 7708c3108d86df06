"""The listing side of the JD simulator: SKU search, stock, prices, ware shelf and title.

A mixin for ``JdSimulator`` (which provides ``ok``, ``fail`` and the base
``Simulator`` state). JD lists and delists whole wares (its items), and
takes one SKU a stock or price call.
"""

from __future__ import annotations

from typing import Any

from channelsync.sdk.money import fen_to_yuan, yuan_to_fen
from channelsync.sim.simulator import Response, SimSku
from channelsync_jd import api
from channelsync_jd import router as codes
from channelsync.sdk.times import BEIJING, format_time


class WareApi:
    """SKU and ware methods of ``JdSimulator``."""

    def search_skus(self, method: str, p: dict) -> Response:
        size, page_no = _int(p.get("page_size", 20)), _int(p.get("pageNo", 1))
        if size is None or not 1 <= size <= api.SKU_PAGE_SIZE:
            return self.fail(method, codes.PARAM_ERROR, f"page_size must be 1..{api.SKU_PAGE_SIZE}")
        if page_no is None or page_no < 1:
            return self.fail(method, codes.PARAM_ERROR, "pageNo must be >= 1")
        wanted = p.get("skuStatuValue", [api.SKU_LISTED, api.SKU_DELISTED])
        if isinstance(wanted, str):
            wanted = wanted.split(",")
        statuses = {int(s) for s in wanted}
        with self.lock:  # both statuses (what a resync asks): every SKU, without a Python test per SKU per page
            rows = list(self.skus.values()) if statuses >= {api.SKU_LISTED, api.SKU_DELISTED} \
                else [s for s in self.skus.values() if _sku_status(s) in statuses]
        chunk = rows[(page_no - 1) * size: page_no * size]
        return self.ok(method, {"page": {"data": [self.render_sku(s) for s in chunk], "pageNo": page_no,
                                         "pageSize": size, "totalItem": len(rows)}})

    @staticmethod
    def render_sku(s: SimSku) -> dict[str, Any]:
        return {"skuId": num(s.external_id), "wareId": num(s.item_id), "outerId": s.sku_code or "",
                "jdPrice": fen_to_yuan(s.price), "stockNum": s.quantity, "status": _sku_status(s),
                "skuName": s.title, "wareTitle": s.title, "modified": format_time(s.modified_at, BEIJING)}

    def _sku(self, method: str, p: dict) -> SimSku | Response:
        sku_id = p.get("skuId")
        if isinstance(sku_id, list) or (isinstance(sku_id, str) and "," in sku_id):
            return self.fail(method, codes.PARAM_ERROR, "one skuId a call")
        sku = self.skus.get(str(sku_id))
        return sku if sku is not None else self.fail(method, codes.SKU_NOT_EXIST, f"sku {sku_id} does not exist")

    def update_stock(self, method: str, p: dict) -> Response:
        sku = self._sku(method, p)
        if isinstance(sku, Response):
            return sku
        quantity = _int(p.get("stockNum"))
        if quantity is None or quantity < 0:
            return self.fail(method, codes.PARAM_ERROR, "stockNum must be a whole number >= 0")
        sku.quantity, sku.modified_at = quantity, self.now()
        return self.ok(method, {"success": True})

    def read_stock(self, method: str, p: dict) -> Response:
        sku = self._sku(method, p)
        if isinstance(sku, Response):
            return sku
        return self.ok(method, {"skuId": num(sku.external_id), "stockNum": sku.quantity})

    def update_price(self, method: str, p: dict) -> Response:
        sku = self._sku(method, p)
        if isinstance(sku, Response):
            return sku
        try:
            price = yuan_to_fen(str(p.get("jdPrice")))
        except ValueError as exc:
            return self.fail(method, codes.PARAM_ERROR, str(exc))
        if price <= 0:
            return self.fail(method, codes.PARAM_ERROR, "jdPrice must be above 0")
        sku.price, sku.modified_at = price, self.now()
        return self.ok(method, {"success": True})

    def _ware(self, method: str, p: dict) -> list[SimSku] | Response:
        skus = self.item(str(p.get("wareId")))
        return skus or self.fail(method, codes.WARE_NOT_EXIST, f"ware {p.get('wareId')} does not exist")

    def up_or_down(self, method: str, p: dict) -> Response:
        skus = self._ware(method, p)
        if isinstance(skus, Response):
            return skus
        if str(p.get("op")) not in (api.WARE_UP, api.WARE_DOWN):
            return self.fail(method, codes.PARAM_ERROR, f"op must be {api.WARE_UP} or {api.WARE_DOWN}")
        for s in skus:  # JD lists and delists whole wares
            s.on_shelf, s.modified_at = str(p["op"]) == api.WARE_UP, self.now()
        return self.ok(method, {"success": True})

    def update_title(self, method: str, p: dict) -> Response:
        skus = self._ware(method, p)
        if isinstance(skus, Response):
            return skus
        title = str(p.get("title") or "").strip()
        if not title:
            return self.fail(method, codes.PARAM_ERROR, "title is required")
        for s in skus:
            s.title, s.modified_at = title, self.now()
        return self.ok(method, {"success": True})


def _sku_status(s: SimSku) -> int:
    return api.SKU_LISTED if s.on_shelf else api.SKU_DELISTED


def num(value: str) -> int | str:
    """JD ids are numbers on the wire; ids seeded by hand may not be."""
    return int(value) if str(value).isdigit() else value


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
