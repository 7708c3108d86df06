"""A TOP router imitation over the core ``Simulator`` state.

What it checks, as TOP's gateway does, in this order: ``app_key``,
``method``, ``timestamp`` (``yyyy-MM-dd HH:mm:ss`` GMT+8 or epoch
milliseconds, at most 10 minutes off the wall clock), ``v``, the signature
(md5, hmac or hmac-sha256 over the query and form parameters) and the
``session``. Every failure answers HTTP 200 with TOP's ``error_response``.
Business limits (page sizes, 20 SKUs a stock call, 20 items a list call, the
order window) answer the same way. Items are in ``items``, trades and
refunds in ``orders``.

Sandbox credentials are fixed so ``channelsync sandbox`` can print them:
app key ``sandbox-taobao-key``, app secret ``sandbox-taobao-secret``, session
``sandbox-taobao-session``, refresh token ``sandbox-taobao-refresh``. A
token-expiry fault invalidates every session until the client renews it
with ``taobao.top.auth.token.refresh``; each renewal retires the refresh
token it used and issues a new one, as TOP does.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from channelsync.sim.simulator import Request, Response, Simulator
from channelsync_taobao import api
from channelsync_taobao.signing import parse_time, sign
from channelsync_taobao.sim.items import ItemsApi
from channelsync_taobao.sim.orders import OrdersApi
from channelsync_taobao.sim.messages import TmcMessages

APP_KEY = "sandbox-taobao-key"
APP_SECRET = "sandbox-taobao-secret"
SESSION = "sandbox-taobao-session"
REFRESH_TOKEN = "sandbox-taobao-refresh"
#: what a renewal reports as ``expires_in`` (sessions here expire only by fault)
SESSION_LIFETIME = 30 * 86400

#: gateway code -> TOP's ``msg``
GATEWAY = {
    7: "App Call Limited",
    15: "Remote service error",
    21: "Missing Method",
    22: "Invalid Method",
    24: "Missing Signature",
    25: "Invalid Signature",
    26: "Missing Session",
    27: "Invalid Session",
    28: "Missing App Key",
    29: "Invalid App Key",
    30: "Missing Timestamp",
    31: "Invalid Timestamp",
    32: "Missing Version",
    34: "Unsupported Version",
    40: "Missing Required Arguments",
    41: "Invalid Arguments",
}


def top_error(code: int, sub_code: str | None = None, sub_msg: str | None = None, msg: str | None = None) -> Response:
    """TOP's error envelope: HTTP 200, numeric ``code``, optional ``sub_code`` / ``sub_msg``."""
    body: dict[str, Any] = {"code": code, "msg": msg or GATEWAY[code]}
    if sub_code:
        body["sub_code"] = sub_code
    if sub_msg:
        body["sub_msg"] = sub_msg
    body["request_id"] = secrets.token_hex(6)
    return Response(200, {"error_response": body})


class TaobaoSimulator(ItemsApi, OrdersApi, Simulator):
    """A Taobao shop behind a TOP router, in memory.

    ``max_skew``: seconds a request timestamp may be off the wall clock (None
    turns the check off). ``max_order_window``: the longest
    ``trades.sold.increment.get`` window accepted; TOP itself allows a day
    and advises under 30 minutes, and by default this holds clients to the
    advice the adapter declares.
    """

    messages = TmcMessages()  # what the platform pushes (intake)

    plugin = "taobao"

    def __init__(self, *, max_skew: float | None = api.TIMESTAMP_SKEW_SECONDS,
                 max_order_window: timedelta = api.ORDER_WINDOW, **options: Any) -> None:
        super().__init__(**options)
        self.max_skew = max_skew
        self.max_order_window = max_order_window
        self.sessions: set[str] = {SESSION}
        self.refresh_tokens: set[str] = {REFRESH_TOKEN}

    def first_id(self) -> int:
        return 520_000_000_001  # num_iid, sku_id and tid are longs

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "app_key": APP_KEY, "app_secret": APP_SECRET, "session": SESSION,
                "refresh_token": REFRESH_TOKEN}

    def rate_limited_response(self, req: Request) -> Response:
        return top_error(7, "accesscontrol.limited-by-app-access-count", "This ban will last for 1 more seconds")

    def auth_expired_response(self, req: Request) -> Response:
        return top_error(27, "invalid-sessionkey", "session expired or invalid")

    def expire_tokens(self) -> None:
        with self.lock:
            self.sessions.clear()

    # --- the gateway ------------------------------------------------------------
    def handlers(self) -> dict[str, Callable[[dict[str, str]], Response]]:
        return {api.TOKEN_REFRESH: self._refresh, **self.item_handlers(), **self.order_handlers()}

    def handle(self, req: Request) -> Response:
        if req.path != api.ROUTER_PATH:
            return Response(404, {"error": f"no such path {req.path}"})
        params = dict(req.query)
        if req.method == "POST" and "form" in req.headers.get("content-type", ""):
            params.update(req.form)  # the SDKs put business parameters in the body
        refused = self.check(params)
        if refused is not None:
            return refused
        method = params["method"]
        self.record(method)
        with self.lock:
            return self.handlers()[method](params)

    def check(self, params: dict[str, str]) -> Response | None:
        """The gateway's checks, in order; None when the call may proceed."""
        if not params.get("app_key"):
            return top_error(28)
        if params["app_key"] != APP_KEY:
            return top_error(29)
        if not params.get("method"):
            return top_error(21)
        if params["method"] not in self.handlers():
            return top_error(22)
        if not params.get("timestamp"):
            return top_error(30)
        try:
            sent = parse_time(params["timestamp"])
        except ValueError:
            return top_error(31, sub_msg="timestamp must be yyyy-MM-dd HH:mm:ss (GMT+8) or epoch milliseconds")
        # The client's clock is a real one: compare with the wall clock, not the simulated platform clock.
        if self.max_skew is not None and abs((datetime.now(timezone.utc) - sent).total_seconds()) > self.max_skew:
            return top_error(31, sub_msg="timestamp is more than 10 minutes off the server time")
        if not params.get("v"):
            return top_error(32)
        if params["v"] != api.API_VERSION:
            return top_error(34)
        if not params.get("sign"):
            return top_error(24)
        try:
            expected = sign(params, APP_SECRET, params.get("sign_method") or "md5")
        except ValueError:
            return top_error(25, sub_msg="unsupported sign_method")
        if params["sign"].upper() != expected:
            return top_error(25)
        if params["method"] != api.TOKEN_REFRESH:
            if not params.get("session"):
                return top_error(26)
            if params["session"] not in self.sessions:
                return top_error(27, "invalid-sessionkey", "session expired or invalid")
        return None

    # --- envelopes shared by the method handlers -------------------------------------
    def ok(self, method: str, body: dict[str, Any]) -> Response:
        return Response(200, {api.response_key(method): {**body, "request_id": secrets.token_hex(6)}})

    def missing(self, name: str) -> Response:
        return top_error(40, msg=f"Missing Required Arguments:{name}")

    def invalid(self, name: str, why: str) -> Response:
        return top_error(41, "isv.invalid-parameter", why, msg=f"Invalid Arguments:{name}")

    def refused(self, sub_code: str, sub_msg: str) -> Response:
        """A business refusal: code 15 with an ``isv.*`` sub_code."""
        return top_error(15, sub_code, sub_msg)

    def required(self, params: dict[str, str], *names: str) -> Response | None:
        for name in names:
            if params.get(name) in (None, ""):
                return self.missing(name)
        return None

    def page(self, params: dict[str, str], default: int, most: int) -> tuple[int, int] | Response:
        """``(page_no, page_size)`` or the error TOP gives for a bad one."""
        try:
            page_no, size = int(params.get("page_no") or 1), int(params.get("page_size") or default)
        except ValueError:
            return self.invalid("page_size", "page_no and page_size must be numbers")
        if page_no < 1:
            return self.invalid("page_no", "page_no must be at least 1")
        if not 1 <= size <= most:
            return self.invalid("page_size", f"page_size must be between 1 and {most}")
        return page_no, size

    # --- auth ---------------------------------------------------------------------
    def _refresh(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "refresh_token")
        if refused:
            return refused
        if params["refresh_token"] not in self.refresh_tokens:
            return self.refused("isv.refresh-token-invalid", "refresh_token is invalid or was already used")
        self.refresh_tokens.discard(params["refresh_token"])
        session, refresh = f"sandbox-session-{secrets.token_hex(8)}", f"sandbox-refresh-{secrets.token_hex(8)}"
        self.sessions.add(session)
        self.refresh_tokens.add(refresh)
        token = {"access_token": session, "refresh_token": refresh, "expires_in": SESSION_LIFETIME,
                 "re_expires_in": SESSION_LIFETIME, "taobao_user_nick": "sandbox-seller"}
        return self.ok(api.TOKEN_REFRESH, {"token_result": json.dumps(token)})
