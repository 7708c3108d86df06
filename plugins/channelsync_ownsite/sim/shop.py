"""A WooCommerce REST v3 shop in memory, for tests and ``channelsync sandbox``.

Sandbox credentials (fixed, public, printed by ``channelsync sandbox``):
consumer key ``ck_sandbox_ownsite``, consumer secret ``cs_sandbox_ownsite``.

Authentication follows the URL's scheme exactly as WooCommerce does: over
``https`` HTTP Basic or ``consumer_key``/``consumer_secret`` query parameters
(falling back to OAuth when those name no key); over ``http`` only an OAuth
1.0a signature (HMAC-SHA256 or HMAC-SHA1), with the timestamp within 15
minutes of the shop's clock and a nonce never used before in that window.
Every refusal is WooCommerce's error object with its real code and wording.

Limits enforced: ``per_page`` <= 100 (else 400 ``rest_invalid_param``), batch
create+update+delete <= 100 (else 413 ``woocommerce_rest_request_entity_too_large``),
ISO 8601 dates, known ``orderby``/``status`` values. WooCommerce sets no
order-window limit, and neither does this. Faults take the shapes a
WooCommerce site shows: a front proxy's 429 with ``Retry-After``, and for
"token expiry" (keys never expire) the refused-timestamp 401 a drifting
clock causes.

Catalogue and order routes live in ``catalog`` and ``orders``, their shared
wire helpers in ``wire``.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Callable

from channelsync.sim.simulator import OutOfStock, Request, Response, SimOrder, SimSku, Simulator
from channelsync_ownsite import api
from channelsync_ownsite.errors import AUTH_ERROR, CANNOT_VIEW, MISSING_OAUTH, MSG_BAD_TIMESTAMP, MSG_USED_NONCE, NO_ROUTE
from channelsync_ownsite.signing import METHODS, OAUTH_PARAMS, SKEW_SECONDS, parse_basic, signature
from channelsync_ownsite.sim.catalog import CatalogRoutes
from channelsync_ownsite.sim.orders import OrderRoutes
from channelsync_ownsite.sim.wire import WooError, error
from channelsync_ownsite.sim.messages import WooWebhookMessages

SANDBOX_KEY = "ck_sandbox_ownsite"
SANDBOX_SECRET = "cs_sandbox_ownsite"

_EDIT = ("POST", "PUT", "PATCH")  # WordPress's EDITABLE methods
#: (methods, path pattern below /wp-json/wc/v3/, handler, permission kind for anonymous callers)
ROUTES: list[tuple[tuple[str, ...], re.Pattern, str, str]] = [
    (("GET",), re.compile(r"products"), "list_products", "list"),
    (("POST",), re.compile(r"products"), "create_product", "create"),
    (_EDIT, re.compile(r"products/batch"), "batch_products", "batch"),
    (("GET",), re.compile(r"products/(\d+)"), "get_product", "view"),
    (_EDIT, re.compile(r"products/(\d+)"), "update_product", "edit"),
    (("GET",), re.compile(r"products/(\d+)/variations"), "list_variations", "list"),
    (_EDIT, re.compile(r"products/(\d+)/variations/batch"), "batch_variations", "batch"),
    (("GET",), re.compile(r"products/(\d+)/variations/(\d+)"), "get_variation", "view"),
    (_EDIT, re.compile(r"products/(\d+)/variations/(\d+)"), "update_variation", "edit"),
    (("GET",), re.compile(r"orders"), "list_orders", "list"),
    (("GET",), re.compile(r"orders/(\d+)"), "get_order", "view"),
    (_EDIT, re.compile(r"orders/(\d+)"), "update_order", "edit"),
    (("GET",), re.compile(r"orders/(\d+)/notes"), "list_notes", "list"),
    (("POST",), re.compile(r"orders/(\d+)/notes"), "create_note", "create"),
    (("GET",), re.compile(r"orders/(\d+)/refunds"), "list_refunds", "list"),
]

#: what WordPress says to a caller no key authenticated, by kind of route
PERMISSION = {
    "list": (CANNOT_VIEW, "Sorry, you cannot list resources."),
    "view": (CANNOT_VIEW, "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "batch": ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."),
}


class OwnsiteSimulator(CatalogRoutes, OrderRoutes, Simulator):
    """WooCommerce REST v3 under ``/wp-json/wc/v3/``; control API under ``/_sim/``."""

    messages = WooWebhookMessages()  # what the platform pushes (intake)

    plugin = "ownsite"

    def __init__(self, *, consumer_key: str = SANDBOX_KEY, consumer_secret: str = SANDBOX_SECRET,
                 rate_limit: float | None = None, burst: int = 5,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(rate_limit=rate_limit, burst=burst, clock=clock)
        self.consumer_key = consumer_key
        self._secret = consumer_secret
        self.nonces: dict[str, int] = {}  # nonce -> its timestamp, kept for the 15-minute window
        self.product_status: dict[str, str] = {}  # variable products' own status
        self.order_notes: dict[str, list[dict[str, Any]]] = {}
        self.paid_at: dict[str, datetime] = {}
        self.completed_at: dict[str, datetime] = {}
        self.refund_ids: dict[str, int] = {}

    # --- Simulator hooks --------------------------------------------------------------
    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "consumer_key": self.consumer_key, "consumer_secret": self._secret}

    def rate_limited_response(self, req: Request) -> Response:
        # a front proxy (nginx, Cloudflare) answers before WordPress runs: HTML, not JSON
        return Response(429, b"<html><body><h1>429 Too Many Requests</h1></body></html>",
                        {"Content-Type": "text/html", "Retry-After": "1", **self._date()})

    def auth_expired_response(self, req: Request) -> Response:
        response = error(401, AUTH_ERROR, MSG_BAD_TIMESTAMP)
        response.headers.update(self._date())
        return response

    def expire_tokens(self) -> None:
        """WooCommerce keys do not expire; the fault only answers one refused timestamp."""

    def seed(self, sku_code: str | None, quantity: int, price: int, *, title: str = "",
             item_id: str | None = None, on_shelf: bool = True, external_id: str | None = None) -> SimSku:
        """A SKU without an item becomes a simple product (its id is the product id);
        a SKU given an existing item becomes a variation of it."""
        with self.lock:
            if item_id is None and external_id is None:
                external_id = item_id = self.new_id()
            return super().seed(sku_code, quantity, price, title=title, item_id=item_id, on_shelf=on_shelf,
                                external_id=external_id)

    def place_order(self, lines, *, pay: bool = True) -> SimOrder:
        """A buyer cannot add a variation of a product that is not published."""
        lines = list(lines)
        with self.lock:
            for ref, _ in lines:
                sku = self.find(ref)
                if self.product_status.get(sku.item_id, api.ON_SHELF) != api.ON_SHELF:
                    raise OutOfStock(f"{ref}: its product is not published")
            return super().place_order(lines, pay=pay)

    def pay(self, order_id: str) -> SimOrder:
        with self.lock:
            order = super().pay(order_id)
            if order.paid:
                self.paid_at.setdefault(order_id, order.modified_at)
            return order

    def ship(self, order_id: str, carrier: str = "SIM", tracking_no: str = "0",
             lines: dict[str, int] | None = None) -> SimOrder:
        with self.lock:
            order = super().ship(order_id, carrier, tracking_no, lines)
            if order.status == "shipped":
                self.completed_at.setdefault(order_id, order.modified_at)
            return order

    # --- WSGI entry ----------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        response = self._dispatch(req)
        response.headers.update(self._date())
        return response

    def _dispatch(self, req: Request) -> Response:
        route = self._route(req)
        refused = self.authenticate(req)
        if isinstance(refused, Response):
            return refused
        if route is None:
            return error(404, NO_ROUTE, "No route was found matching the URL and request method.")
        handler, args, kind = route
        if refused == "anonymous":
            code, message = PERMISSION[kind]
            return error(401, code, message)
        self.record(f"{req.method} {handler}")
        try:
            return getattr(self, handler)(req, *args)
        except WooError as exc:
            return exc.response()

    def _route(self, req: Request) -> tuple[str, tuple[str, ...], str] | None:
        if not req.path.startswith(api.API_PREFIX):
            return None
        rest = req.path[len(api.API_PREFIX):].strip("/")
        for methods, pattern, handler, kind in ROUTES:
            match = pattern.fullmatch(rest)
            if match and req.method in methods:
                return handler, match.groups(), kind
        return None

    def body(self, req: Request) -> Any:
        try:
            return req.json() if req.body else {}
        except ValueError:
            raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.") from None

    def _date(self) -> dict[str, str]:
        return {"Date": format_datetime(self.now(), usegmt=True)}

    # --- authentication ----------------------------------------------------------------
    def authenticate(self, req: Request) -> Response | str | None:
        """None when a key authenticated the request, "anonymous" when none was offered,
        or WooCommerce's 401."""
        if req.scheme == "https":
            creds = None
            if req.query.get("consumer_key") and req.query.get("consumer_secret"):
                creds = req.query["consumer_key"], req.query["consumer_secret"]
            elif (basic := parse_basic(req.headers.get("authorization", ""))) and all(basic):
                creds = basic
            if creds and creds[0] == self.consumer_key:
                if hmac.compare_digest(creds[1].encode(), self._secret.encode()):
                    return None
                return error(401, AUTH_ERROR, "Consumer secret is invalid.")
            # an unknown key falls through to OAuth, as in WooCommerce
        return self._oauth(req)

    def _oauth(self, req: Request) -> Response | str | None:
        params = dict(req.query_pairs)
        present = [p for p in OAUTH_PARAMS if params.get(p)]
        if not present:
            return "anonymous"
        missing = [p for p in OAUTH_PARAMS if p not in present]
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            return error(401, MISSING_OAUTH, f"Missing OAuth {noun} {', '.join(missing)}")
        if params["oauth_consumer_key"] != self.consumer_key:
            return error(401, AUTH_ERROR, "Consumer key is invalid.")
        method = params["oauth_signature_method"]
        if method not in METHODS:
            return error(401, AUTH_ERROR, "Invalid signature - signature method is invalid.")
        given = params.pop("oauth_signature").replace(" ", "+")
        url = f"{req.scheme}://{req.host}{req.path}"
        expected = signature(req.method, url, params.items(), self._secret, method)
        if not hmac.compare_digest(expected, given):
            return error(401, AUTH_ERROR, "Invalid signature - provided signature does not match.")
        return self._timestamp_and_nonce(params["oauth_timestamp"], params["oauth_nonce"])

    def _timestamp_and_nonce(self, timestamp_text: str, nonce: str) -> Response | None:
        now = int(self.now().timestamp())
        try:
            timestamp = int(timestamp_text)
        except ValueError:
            timestamp = -1
        if abs(timestamp - now) > SKEW_SECONDS:
            return error(401, AUTH_ERROR, MSG_BAD_TIMESTAMP)
        with self.lock:
            if nonce in self.nonces:
                return error(401, AUTH_ERROR, MSG_USED_NONCE)
            # forget nonces older than the window (kept in arrival order, so the oldest come first)
            while self.nonces and next(iter(self.nonces.values())) < now - SKEW_SECONDS:
                del self.nonces[next(iter(self.nonces))]
            self.nonces[nonce] = timestamp
        return None
