"""A TinyShop imitation: the platform's wire format over the core's Simulator state."""

from __future__ import annotations

import secrets
from datetime import datetime

from channelsync.sim.simulator import Request, Response, Simulator

API_KEY = "tinyshop-sandbox-key"
STATUS = {"new": "unpaid", "paid": "paid", "shipped": "shipped", "completed": "shipped",
          "cancelled": "cancelled", "refunded": "refunded"}


class TinyShopSimulator(Simulator):
    plugin = "tinyshop"

    def __init__(self, **options):
        super().__init__(**options)
        self.tokens: set[str] = set()

    def credentials(self, base_url):
        return {"base_url": base_url, "api_key": API_KEY}

    def expire_tokens(self):
        self.tokens.clear()

    def auth_expired_response(self, req):
        return Response(401, {"error": "token_expired"})

    def handle(self, req: Request) -> Response:
        if req.path == "/token" and req.method == "POST":
            if req.json().get("api_key") != API_KEY:
                return Response(403, {"error": "bad_api_key"})
            token = secrets.token_hex(8)
            self.tokens.add(token)
            return Response(200, {"token": token})
        if req.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return Response(401, {"error": "token_expired"})
        self.record(f"{req.method} {req.path}")
        parts = req.path.strip("/").split("/")
        with self.lock:
            if parts == ["skus"]:
                return self._page(list(self.skus.values()), req, "skus", self._sku)
            if parts[:2] == ["skus", "stock"] or parts[:2] == ["skus", "price"]:
                return self._batch(req, "quantity" if parts[1] == "stock" else "price", parts[1])
            if len(parts) == 2 and parts[0] == "skus" and req.method == "PATCH":
                sku = self.skus.get(parts[1])
                if sku is None:
                    return Response(404, {"error": "not_found"})
                body = req.json()
                sku.title = body.get("title", sku.title)
                sku.on_shelf = body.get("active", sku.on_shelf)
                return Response(200, self._sku(sku))
            if parts == ["orders"]:
                since = datetime.fromisoformat(req.query["updated_from"])
                until = datetime.fromisoformat(req.query["updated_to"])
                found = sorted((o for o in self.orders.values() if since <= o.modified_at < until),
                               key=lambda o: (o.modified_at, o.order_id))
                return self._page(found, req, "orders", self._order)
            if len(parts) == 3 and parts[0] == "orders" and parts[2] == "ship":
                if parts[1] not in self.orders:
                    return Response(404, {"error": "not_found"})
                body = req.json()
                return Response(200, self._order(self.ship(parts[1], body["carrier"], body["tracking"])))
        return Response(404, {"error": f"no route {req.method} {req.path}"})

    def _page(self, rows, req, key, render):
        page, per_page = int(req.query.get("page", 1)), int(req.query.get("per_page", 50))
        if per_page > 50:
            return Response(400, {"error": "per_page must be at most 50"})
        chunk = rows[(page - 1) * per_page: page * per_page]
        return Response(200, {key: [render(r) for r in chunk],
                              "next_page": page + 1 if page * per_page < len(rows) else None})

    def _batch(self, req, attr, field):
        updates = req.json()["updates"]
        if len(updates) > 50:
            return Response(400, {"error": "at most 50 updates a call"})
        results = []
        for u in updates:
            sku = self.skus.get(str(u["id"]))
            if sku is None:
                results.append({"id": u["id"], "ok": False, "error": "not_found"})
            else:
                setattr(sku, attr, int(u[field]))
                results.append({"id": u["id"], "ok": True})
        return Response(200, {"results": results})

    @staticmethod
    def _sku(s):
        return {"id": s.external_id, "item_id": s.item_id, "code": s.sku_code, "stock": s.quantity,
                "price": s.price, "title": s.title, "active": s.on_shelf}

    @staticmethod
    def _order(o):
        return {"id": o.order_id, "status": STATUS[o.status], "created": o.created_at.isoformat(),
                "updated": o.modified_at.isoformat(),
                "lines": [{"sku_id": ln.external_id, "code": ln.sku_code, "qty": ln.quantity, "price": ln.price}
                          for ln in o.lines]}
