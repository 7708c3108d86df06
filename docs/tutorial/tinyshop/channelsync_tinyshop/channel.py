"""The TinyShop adapter: translate one page, one batch, one window at a time."""

from __future__ import annotations

from datetime import datetime

from channelsync import Capabilities, Channel, Setting
from channelsync.sdk.errors import AuthExpired, NotFound, Rejected
from channelsync.sdk.models import Listing, Order, OrderLine, OrderStatus, Page, UpdateResult

STATUSES = {"unpaid": OrderStatus.NEW, "paid": OrderStatus.PAID, "shipped": OrderStatus.SHIPPED,
            "cancelled": OrderStatus.CANCELLED, "refunded": OrderStatus.REFUNDED}


class TinyShopChannel(Channel):
    plugin = "tinyshop"
    capabilities = Capabilities(stock_mode="absolute", stock_batch_size=50, price_batch_size=50,
                                listing_page_size=50, order_page_size=50, rate_per_second=5, rate_burst=5)
    settings_schema = {
        "base_url": Setting(str, required=True, help="TinyShop API root"),
        "api_key": Setting(str, required=True, secret=True, help="Seller centre > API keys"),
    }

    def __init__(self, name, settings, http=None):
        super().__init__(name, settings, http)
        self.token: str | None = None

    # One request, with TinyShop's errors turned into the core's types.
    def request(self, method: str, path: str, **kwargs):
        if self.token is None:
            self.refresh_auth()
        response = self.call(method, path, headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
        body = self.json(response)
        if response.status_code == 401:
            raise AuthExpired(body.get("error", "unauthorized"), code="401")
        if response.status_code == 404:
            raise NotFound(body.get("error", "not found"), code="404")
        if response.status_code >= 400:
            raise Rejected(body.get("error", "rejected"), code=str(response.status_code))
        return body

    def refresh_auth(self) -> None:
        response = self.call("POST", "/token", json={"api_key": self.settings["api_key"]})
        body = self.json(response)
        if response.status_code == 401:
            raise AuthExpired(body.get("error", "unauthorized"), code="401")
        if response.status_code != 200:
            raise Rejected(body.get("error", "cannot get a token"), code=str(response.status_code))
        self.token = body["token"]

    def list_listings(self, page_token):
        body = self.request("GET", "/skus", params={"page": page_token or 1, "per_page": 50})
        items = [Listing(str(s["id"]), s["code"] or None, str(s["item_id"]), s["stock"], s["price"],
                         s["active"], s["title"]) for s in body["skus"]]
        return Page(items, str(body["next_page"]) if body["next_page"] else None)

    def _batch(self, path, updates, field, value):
        body = self.request("POST", path, json={"updates": [{"id": u.external_id, field: value(u)} for u in updates]})
        return [UpdateResult(str(r["id"]), None if r["ok"] else NotFound(r["error"], code=r["error"]))
                for r in body["results"]]

    def set_stock(self, updates):
        return self._batch("/skus/stock", updates, "stock", lambda u: u.quantity)

    def set_prices(self, updates):
        return self._batch("/skus/price", updates, "price", lambda u: u.price)

    def update_listing(self, content):
        self.request("PATCH", f"/skus/{content.external_id}", json={"title": content.title})

    def set_shelf(self, content, on):
        self.request("PATCH", f"/skus/{content.external_id}", json={"active": on})

    def fetch_orders(self, since: datetime, until: datetime, page_token):
        body = self.request("GET", "/orders", params={"updated_from": since.isoformat(), "updated_to": until.isoformat(),
                                                      "page": page_token or 1})
        orders = [Order(str(o["id"]), STATUSES[o["status"]], datetime.fromisoformat(o["created"]),
                        datetime.fromisoformat(o["updated"]),
                        [OrderLine(ln["code"], ln["qty"], str(ln["sku_id"]), ln["price"]) for ln in o["lines"]],
                        platform_status=o["status"]) for o in body["orders"]]
        return Page(orders, str(body["next_page"]) if body["next_page"] else None)

    def ship(self, order_external_id, carrier, tracking_no):
        self.request("POST", f"/orders/{order_external_id}/ship", json={"carrier": carrier, "tracking": tracking_no})

    @classmethod
    def simulator(cls, **options):
        from channelsync_tinyshop.sim import TinyShopSimulator

        return TinyShopSimulator(**options)
