"""The base of every platform simulator.

A plugin's simulator subclasses ``Simulator`` and implements only its
platform's wire format: ``handle(req)`` for the platform's paths plus the
error shapes for faults. The base owns what all platforms share:

* in-memory state: SKUs (grouped into items) and buyer orders;
* buyer behaviour: an order subtracts stock the moment it is paid and is
  refused when a listed quantity is short; a cancel or refund before shipment
  puts the units back, as the real platforms do;
* after-sales line by line: a refund of some units of one line (before
  shipment they go back on sale; after, the buyer keeps them), an after-sale
  return or exchange of shipped units, and parcels that ship part of an order;
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
                                         ship takes {carrier?, tracking_no?, lines?: {sku: qty}}
    POST /_sim/orders/<id>/refund_line   {sku, quantity}: money back for units of one line
    POST /_sim/orders/<id>/return_line   {sku, quantity, exchange?}: an after-sale return
    DELETE /_sim/skus/<sku_code>         the listing is deleted on the platform
    POST /_sim/faults                    {kind, count?, match?, seconds?, status?, applied?}
    POST /_sim/notify                    {url?, settings?, lose?, duplicate?, delay?, reorder?, ...}
                                         buyer actions also send the platform's messages (notify.py)
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from channelsync.sim import faults, notify
from channelsync.sim.faults import FAULT_KINDS  # noqa: F401 - re-exported, plugins and tests use it
from channelsync.sim.orders import (  # noqa: F401 - the order shapes, re-exported for plugins
    BuyerOrders,
    OutOfStock,
    SimAfterSale,
    SimLine,
    SimOrder,
    SimParcel,
)
from channelsync.sim.types import Request, Response  # re-exported for plugins
from channelsync.sim.wsgi import jsonable, request_from_environ, send_response


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


class Simulator(BuyerOrders):
    """Base class: a WSGI app with platform state, buyer actions, faults and rate limit."""

    #: the channel plugin this simulator imitates
    plugin: str = ""
    #: the platform's pushed messages (``channelsync.sim.notify.Messages``), if it sends any
    messages: notify.Messages | None = None

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
        # the SKUs of each item, built on the first ask and kept up to date after: every page and
        # detail call of an item-shaped platform asks, and regrouping 100k SKUs a call made a
        # resync quadratic; a fake that never asks holds no index
        self._items: dict[str, list[SimSku]] | None = None
        self.rate_limit = rate_limit
        self.burst = burst
        #: calls refused by ``rate_limit`` (injected rate-limit faults not counted), for tests
        self.rate_limited = 0
        self._bucket_tokens = float(burst)
        self._bucket_at = time.monotonic()
        self._ids = itertools.count(self.first_id())
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.notifier: notify.Notifier | None = None
        self.held: notify.Held | None = None  # messages a connected client takes (TMC)

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

    def notify_to(self, url: str | None = None, settings: dict | None = None, **faults: Any) -> notify.Notifier:
        """Send the platform's message for each buyer action: to ``url``, or held for a client (TMC)."""
        if self.messages is None:
            raise ValueError(f"the {self.plugin or type(self).__name__} simulator sends no platform messages")
        self.stop_notifying()
        if self.messages.held and self.held is None:
            self.held = notify.Held()
        self.notifier = notify.Notifier(self, self.messages, settings or self.messages.settings(), url,
                                        notify.Faults(**faults), self.held if self.messages.held else None)
        return self.notifier

    def stop_notifying(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
            self.notifier = None

    def _emit(self, event: str, order: SimOrder) -> None:
        if self.notifier is not None:
            self.notifier.emit(event, order)

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
            held = self.skus[sku.external_id]  # what the platform holds (a compact table hands out a view)
            if self._items is not None:
                self._items.setdefault(held.item_id, []).append(held)
            return held

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
        """SKUs grouped by item id, in creation order: a snapshot of the items (their lists are the
        platform's own: read them, do not change them)."""
        with self.lock:
            return dict(self._index())

    def item(self, item_id: str) -> list[SimSku] | None:
        """One item's SKUs in creation order (the platform's own list: do not change it), or None."""
        with self.lock:
            return self._index().get(str(item_id))

    def _index(self) -> dict[str, list[SimSku]]:
        if self._items is None:
            grouped: dict[str, list[SimSku]] = {}
            for sku in self.skus.values():
                grouped.setdefault(sku.item_id, []).append(sku)
            self._items = grouped
        return self._items

    def forget(self, sku: SimSku) -> None:
        """Take a SKU off the platform (the caller holds ``lock``)."""
        del self.skus[sku.external_id]
        if self._items is not None:
            rest = [s for s in self._items.get(sku.item_id, []) if s.external_id != sku.external_id]
            if rest:
                self._items[sku.item_id] = rest
            else:
                self._items.pop(sku.item_id, None)

    def stock(self, ref: str) -> int:
        return self.find(ref).quantity

    def delete(self, ref: str) -> SimSku:
        """The merchant deletes a listing in the seller centre: the platform no longer knows it."""
        with self.lock:
            sku = self.find(ref)
            self.deleted[sku.external_id] = self.skus[sku.external_id]
            self.forget(sku)
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
        elif self.messages is not None and self.messages.held and req.path.startswith(self.messages.held_path):
            response = self.messages.serve(self, req)  # the platform's message server (TMC)
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
            with self.lock:
                self.rate_limited += 1
            return self.rate_limit_answer(req, 1.0)
        return None

    def rate_limit_answer(self, req: Request, seconds: float) -> Response:
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
                          "complete": self.complete,
                          "ship": lambda oid: self.ship(oid, body.get("carrier", "SIM"), body.get("tracking_no", "0"),
                                                        body.get("lines")),
                          "refund_line": lambda oid: self.refund_line(oid, body["sku"], int(body["quantity"])),
                          "return_line": lambda oid: self.return_line(oid, body["sku"], int(body["quantity"]),
                                                                      exchange=bool(body.get("exchange")))}.get(parts[2])
                if action is None:
                    return Response(404, {"error": f"unknown order action {parts[2]!r}"})
                try:
                    order = action(parts[1])
                except OutOfStock as exc:
                    return Response(409, {"error": "out_of_stock", "message": str(exc)})
                return Response(200, jsonable(asdict(order)))
            if parts == ["notify"] and req.method == "POST":
                notifier = self.notify_to(body.pop("url", None), body.pop("settings", None), **body)
                return Response(200, {"notifying": body, "held": notifier.held is not None})
            if parts == ["faults"] and req.method == "POST":
                params = {k: v for k, v in body.items() if k not in ("kind", "count")}
                self.inject(body["kind"], int(body.get("count", 1)), **params)
                return Response(200, {"queued": body["kind"]})
        except KeyError as exc:
            return Response(404, {"error": f"not found or missing field: {exc}"})
        except (ValueError, TypeError) as exc:
            return Response(400, {"error": str(exc)})
        return Response(404, {"error": f"no control route {req.method} {req.path}"})
