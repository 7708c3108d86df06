"""The base of every platform simulator.

A plugin's simulator subclasses ``Simulator`` and implements only its
platform's wire format: ``handle(req)`` for the platform's paths plus the
error shapes for faults. The base owns what all platforms share:

* in-memory state: SKUs (grouped into items) and buyer orders;
* buyer behaviour: an order subtracts stock the moment it is paid and is
  refused when a listed quantity is short; a cancel or refund before shipment
  puts the units back, as the real platforms do;
* fault injection for a number of calls (``channelsync.sim.faults``: latency,
  5xx, held connections, resets, the platform's rate-limit and token-expiry
  answers, malformed and truncated bodies) and a configurable rate limit;
* a listing deleted in the seller centre (``delete``): the platform answers
  for it as for any id it does not know;
* a JSON control API under ``/_sim/`` (outside every platform's paths)::

    GET  /_sim/state                     skus and orders
    GET  /_sim/credentials               settings a channel needs to talk to it
    POST /_sim/skus                      {sku_code, quantity, price, title?, item_id?, on_shelf?}
    GET  /_sim/stock/<sku_code>          {quantity}
    PUT  /_sim/stock/<sku_code>          {quantity}    (a seller-centre edit)
    POST /_sim/orders                    {lines: [{sku_code, quantity}], pay?: true} -> 201 | 409
    POST /_sim/orders/<id>/<action>      action: pay | cancel | refund | ship | complete
    DELETE /_sim/skus/<sku_code>         the listing is deleted on the platform
    POST /_sim/faults                    {kind, count?, match?, seconds?, status?, applied?}
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from channelsync.sim import faults
from channelsync.sim.faults import FAULT_KINDS  # noqa: F401 - re-exported, plugins and tests use it
from channelsync.sim.types import Request, Response  # re-exported for plugins
from channelsync.sim.wsgi import jsonable, request_from_environ, send_response


class OutOfStock(Exception):
    """A buyer order the platform refuses: the listed quantity is short."""


@dataclass
class SimSku:
    sku_code: str | None
    external_id: str
    item_id: str
    quantity: int
    price: int  # fen
    title: str = ""
    description: str = ""
    on_shelf: bool = True
    modified_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass
class SimLine:
    external_id: str
    item_id: str
    sku_code: str | None
    quantity: int
    price: int


@dataclass
class SimOrder:
    order_id: str
    lines: list[SimLine]
    status: str  # new | paid | shipped | completed | cancelled | refunded
    created_at: datetime
    modified_at: datetime
    paid: bool = False
    carrier: str | None = None
    tracking_no: str | None = None
    refunded_at: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.price * line.quantity for line in self.lines)


class Simulator:
    """Base class: a WSGI app with platform state, buyer actions, faults and rate limit."""

    #: the channel plugin this simulator imitates
    plugin: str = ""

    def __init__(self, *, rate_limit: float | None = None, burst: int = 5,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.skus: dict[str, SimSku] = {}  # by external_id
        self.orders: dict[str, SimOrder] = {}
        self.calls: list[str] = []  # platform API names, in order
        self.faults: list[dict] = []
        self.ban_seconds = 1.0  # what the last rate-limit answer said about waiting
        self.closing = threading.Event()  # set when the server stops: held connections let go
        self.deleted: dict[str, SimSku] = {}  # listings deleted in the seller centre, by external_id
        self.rate_limit = rate_limit
        self.burst = burst
        self._bucket_tokens = float(burst)
        self._bucket_at = time.monotonic()
        self._ids = itertools.count(self.first_id())
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    # --- what subclasses implement ----------------------------------------
    def handle(self, req: Request) -> Response:
        """Serve one platform request (signatures, envelopes, methods)."""
        raise NotImplementedError

    def credentials(self, base_url: str) -> dict[str, Any]:
        """Channel settings (secrets resolved) that talk to this simulator at ``base_url``."""
        raise NotImplementedError

    def rate_limited_response(self, req: Request) -> Response:
        return Response(429, {"error": "rate limited"}, {"Retry-After": "1"})

    def auth_expired_response(self, req: Request) -> Response:
        return Response(401, {"error": "token expired"})

    def expire_tokens(self) -> None:
        """Invalidate issued tokens/sessions (for token-expiry faults and tests)."""

    def first_id(self) -> int:
        return 1000001

    # --- state and buyer actions (Python API; the control API calls these) ---
    def now(self) -> datetime:
        return self.clock()

    def new_id(self) -> str:
        return str(next(self._ids))

    def seed(self, sku_code: str | None, quantity: int, price: int, *, title: str = "",
             item_id: str | None = None, on_shelf: bool = True, external_id: str | None = None) -> SimSku:
        with self.lock:
            sku = SimSku(sku_code=sku_code, external_id=external_id or self.new_id(),
                         item_id=item_id or self.new_id(), quantity=quantity, price=price,
                         title=title or (sku_code or ""), on_shelf=on_shelf, modified_at=self.now())
            self.skus[sku.external_id] = sku
            return sku

    def find(self, ref: str) -> SimSku:
        """A SKU by merchant code or external id."""
        with self.lock:
            if ref in self.skus:
                return self.skus[ref]
            for sku in self.skus.values():
                if sku.sku_code == ref:
                    return sku
        raise KeyError(ref)

    def items(self) -> dict[str, list[SimSku]]:
        """SKUs grouped by item id, in creation order."""
        grouped: dict[str, list[SimSku]] = {}
        for sku in self.skus.values():
            grouped.setdefault(sku.item_id, []).append(sku)
        return grouped

    def stock(self, ref: str) -> int:
        return self.find(ref).quantity

    def delete(self, ref: str) -> SimSku:
        """The merchant deletes a listing in the seller centre: the platform no longer knows it."""
        with self.lock:
            sku = self.find(ref)
            self.deleted[sku.external_id] = self.skus.pop(sku.external_id)
            return sku

    def line_sku(self, line: SimLine) -> SimSku:
        """An order line's SKU, even when its listing was deleted since."""
        with self.lock:
            return self.skus.get(line.external_id) or self.deleted[line.external_id]

    def set_stock_by_hand(self, ref: str, quantity: int) -> None:
        with self.lock:
            sku = self.find(ref)
            sku.quantity = quantity
            sku.modified_at = self.now()

    def place_order(self, lines: Iterable[tuple[str, int]], *, pay: bool = True) -> SimOrder:
        """A buyer orders ``(sku ref, quantity)`` lines; refused when stock is short."""
        with self.lock:
            now = self.now()
            sim_lines = []
            for ref, qty in lines:
                sku = self.find(ref)
                if not sku.on_shelf:
                    raise OutOfStock(f"{ref} is off the shelf")
                sim_lines.append(SimLine(sku.external_id, sku.item_id, sku.sku_code, qty, sku.price))
            order = SimOrder(self.new_id(), sim_lines, "new", now, now)
            self.orders[order.order_id] = order
            if pay:
                try:
                    self.pay(order.order_id)
                except OutOfStock:
                    del self.orders[order.order_id]
                    raise
            return order

    def pay(self, order_id: str) -> SimOrder:
        with self.lock:
            order = self.orders[order_id]
            if order.status != "new":
                return order
            for line in order.lines:
                if self.skus[line.external_id].quantity < line.quantity:
                    raise OutOfStock(f"{line.sku_code or line.external_id}: only "
                                     f"{self.skus[line.external_id].quantity} left")
            for line in order.lines:
                self.skus[line.external_id].quantity -= line.quantity
            order.status, order.paid = "paid", True
            order.modified_at = self.now()
            return order

    def cancel(self, order_id: str) -> SimOrder:
        """Cancel before shipment: a paid order's units go back on sale."""
        with self.lock:
            order = self.orders[order_id]
            if order.status in ("new", "paid"):
                self._put_back(order)
                order.status = "cancelled"
                order.modified_at = self.now()
            return order

    def refund(self, order_id: str) -> SimOrder:
        """Refund: before shipment the units go back on sale; after, they do not."""
        with self.lock:
            order = self.orders[order_id]
            if order.status == "paid":
                self._put_back(order)
            if order.status in ("paid", "shipped", "completed"):
                order.status = "refunded"
                order.refunded_at = order.modified_at = self.now()
            return order

    def ship(self, order_id: str, carrier: str = "SIM", tracking_no: str = "0") -> SimOrder:
        with self.lock:
            order = self.orders[order_id]
            if order.status == "paid":
                order.status, order.carrier, order.tracking_no = "shipped", carrier, tracking_no
                order.modified_at = self.now()
            return order

    def complete(self, order_id: str) -> SimOrder:
        with self.lock:
            order = self.orders[order_id]
            if order.status == "shipped":
                order.status = "completed"
                order.modified_at = self.now()
            return order

    def _put_back(self, order: SimOrder) -> None:
        if order.paid and order.status == "paid":
            for line in order.lines:
                if line.external_id in self.skus:
                    self.skus[line.external_id].quantity += line.quantity

    def inject(self, kind: str, count: int = 1, **params: Any) -> None:
        """The next ``count`` platform calls (those containing ``match``, if given) fail with
        ``kind``; see ``channelsync.sim.faults`` for the kinds and their parameters."""
        faults.check(kind, params)
        with self.lock:
            self.faults.append({"kind": kind, "count": count, **params})

    def record(self, api_name: str) -> None:
        with self.lock:
            self.calls.append(api_name)

    # --- WSGI -------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        req = request_from_environ(environ)
        if req.path.startswith("/_sim/"):
            response = self._control(req)
        else:
            response = self._fault_or_rate_limit(req, environ) or self.handle(req)
        return send_response(response, start_response)

    def next_fault(self, req: Request | None = None) -> dict | None:
        """Consume one call's worth of the first queued fault that applies to ``req``, if any."""
        with self.lock:
            for queued in self.faults:
                if req is None or faults.matches(queued, req):
                    fault = dict(queued)
                    queued["count"] -= 1
                    if queued["count"] <= 0:
                        self.faults.remove(queued)
                    return fault
            return None

    def _fault_or_rate_limit(self, req: Request, environ: dict) -> Response | None:
        fault = self.next_fault(req)
        with self.lock:
            limited = not self._take_token()
        if fault is not None:
            answer = faults.play(self, fault, req, environ, self.handle)
            if answer is not None:
                return answer
        if limited:
            return self.rate_limited(req, 1.0)
        return None

    def rate_limited(self, req: Request, seconds: float) -> Response:
        """The platform's rate-limit answer; ``ban_seconds`` is what it says about waiting."""
        with self.lock:
            self.ban_seconds = seconds
            return self.rate_limited_response(req)

    def _take_token(self) -> bool:
        if not self.rate_limit:
            return True
        now = time.monotonic()
        self._bucket_tokens = min(self.burst, self._bucket_tokens + (now - self._bucket_at) * self.rate_limit)
        self._bucket_at = now
        if self._bucket_tokens >= 1:
            self._bucket_tokens -= 1
            return True
        return False

    def _control(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")[1:]
        try:
            body = req.json() if req.body else {}
            if parts == ["state"]:
                with self.lock:
                    return Response(200, {"skus": [jsonable(asdict(s)) for s in self.skus.values()],
                                          "orders": [jsonable(asdict(o)) for o in self.orders.values()]})
            if parts == ["credentials"]:
                return Response(200, self.credentials(f"{req.scheme}://{req.host}"))
            if parts == ["skus"] and req.method == "POST":
                sku = self.seed(body.get("sku_code"), int(body["quantity"]), int(body["price"]),
                                title=body.get("title", ""), item_id=body.get("item_id"),
                                on_shelf=body.get("on_shelf", True))
                return Response(201, jsonable(asdict(sku)))
            if len(parts) == 2 and parts[0] == "skus" and req.method == "DELETE":
                return Response(200, jsonable(asdict(self.delete(parts[1]))))
            if len(parts) == 2 and parts[0] == "stock":
                if req.method == "PUT":
                    self.set_stock_by_hand(parts[1], int(body["quantity"]))
                return Response(200, {"sku": parts[1], "quantity": self.stock(parts[1])})
            if parts == ["orders"] and req.method == "POST":
                try:
                    order = self.place_order([(ln["sku_code"], int(ln["quantity"])) for ln in body["lines"]],
                                             pay=body.get("pay", True))
                except OutOfStock as exc:
                    return Response(409, {"error": "out_of_stock", "message": str(exc)})
                return Response(201, jsonable(asdict(order)))
            if len(parts) == 3 and parts[0] == "orders":
                action = {"pay": self.pay, "cancel": self.cancel, "refund": self.refund,
                          "ship": self.ship, "complete": self.complete}.get(parts[2])
                if action is None:
                    return Response(404, {"error": f"unknown order action {parts[2]!r}"})
                try:
                    order = action(parts[1])
                except OutOfStock as exc:
                    return Response(409, {"error": "out_of_stock", "message": str(exc)})
                return Response(200, jsonable(asdict(order)))
            if parts == ["faults"] and req.method == "POST":
                params = {k: v for k, v in body.items() if k not in ("kind", "count")}
                self.inject(body["kind"], int(body.get("count", 1)), **params)
                return Response(200, {"queued": body["kind"]})
        except KeyError as exc:
            return Response(404, {"error": f"not found or missing field: {exc}"})
        except (ValueError, TypeError) as exc:
            return Response(400, {"error": str(exc)})
        return Response(404, {"error": f"no control route {req.method} {req.path}"})
