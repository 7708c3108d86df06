"""The TinyShop adapter: declarations and translation; the kit pages, retries and keeps the token."""

from channelsync import (AuthExpired, Capabilities, Channel, Credential, Listing, NotFound, Order, OrderLine,
                         OrderStatus, PageNumber, Reply, Setting, TokenAuth, UpdateResult)

STATUSES = {"unpaid": OrderStatus.NEW, "paid": OrderStatus.PAID, "shipped": OrderStatus.SHIPPED,
            "cancelled": OrderStatus.CANCELLED, "refunded": OrderStatus.REFUNDED}


class TinyShopChannel(Channel):
    plugin = "tinyshop"
    capabilities = Capabilities(stock_mode="absolute", stock_batch_size=50, price_batch_size=50,
                                listing_page_size=50, order_page_size=50, rate_per_second=5, rate_burst=5)
    settings_schema = {"base_url": Setting(str, required=True, help="TinyShop API root"),
                       "api_key": Setting(str, required=True, secret=True, help="Seller centre > API keys")}
    listing_pages = order_pages = PageNumber()  # ?page=N; an answer's next_page says whether there is more
    simulator_class = "channelsync_tinyshop.sim:TinyShopSimulator"  # imported only when a test or sandbox asks
    status_errors = {401: AuthExpired, 404: NotFound}  # any other 4xx is Rejected, {"error": ...} its message

    def __init__(self, name, settings, http=None):
        super().__init__(name, settings, http)
        self.auth = TokenAuth(self, persist=False, issue=lambda force: Credential(self.json(self.call(
            "POST", "/token", json={"api_key": self.settings["api_key"]}))["token"]))

    def request(self, method, path, **kwargs):
        return self.json(self.call(method, path, headers={"Authorization": f"Bearer {self.auth.token()}"}, **kwargs))

    def listing_page(self, at):
        body = self.request("GET", "/skus", params={"page": at.page, "per_page": at.size})
        return Reply([Listing(str(s["id"]), s["code"] or None, str(s["item_id"]), s["stock"], s["price"], s["active"],
                              s["title"]) for s in body["skus"]], has_more=bool(body["next_page"]))

    def order_page(self, since, until, at):
        body = self.request("GET", "/orders", params={"updated_from": since.isoformat(),
                                                      "updated_to": until.isoformat(), "page": at.page})
        return Reply([Order(str(o["id"]), STATUSES[o["status"]], self.platform_time(o["created"]),
                            self.platform_time(o["updated"]), [OrderLine(ln["code"], ln["qty"], str(ln["sku_id"]),
                            ln["price"]) for ln in o["lines"]], platform_status=o["status"]) for o in body["orders"]],
                     has_more=bool(body["next_page"]))

    def _batch(self, path, updates, field, value):
        body = self.request("POST", path, json={"updates": [{"id": u.external_id, field: value(u)} for u in updates]})
        return [UpdateResult(str(r["id"]), r.get("error") and NotFound(r["error"], code=r["error"])) for r in body["results"]]

    def set_stock(self, updates):
        return self._batch("/skus/stock", updates, "stock", lambda u: u.quantity)

    def set_prices(self, updates):
        return self._batch("/skus/price", updates, "price", lambda u: u.price)

    def update_listing(self, content):
        self.request("PATCH", f"/skus/{content.external_id}", json={"title": content.title})

    def set_shelf(self, content, on):
        self.request("PATCH", f"/skus/{content.external_id}", json={"active": on})

    def ship(self, order_external_id, carrier, tracking_no):
        self.request("POST", f"/orders/{order_external_id}/ship", json={"carrier": carrier, "tracking": tracking_no})
