"""A TOP router imitation over the core ``Simulator`` state.

The gateway checks (app key, method, timestamp and its 10-minute skew,
``v``, md5 / hmac / hmac-sha256 signature, session) are the shared
``RouterGateway``'s, answered with TOP's codes; this module adds TOP's
business envelopes and token renewal. Items are in ``items``, trades and
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
import math
import secrets
from datetime import timedelta
from typing import Any, Callable

from channelsync.sim.router import RouterGateway
from channelsync.sim.simulator import Response
from channelsync_taobao import api
from channelsync_taobao.router import TopRouter
from channelsync_taobao.sim.items import ItemsApi
from channelsync_taobao.sim.messages import TmcMessages
from channelsync_taobao.sim.orders import OrdersApi

APP_KEY = "sandbox-taobao-key"
APP_SECRET = "sandbox-taobao-secret"
SESSION = "sandbox-taobao-session"
REFRESH_TOKEN = "sandbox-taobao-refresh"
#: what a renewal reports as ``expires_in`` (sessions here expire only by fault)
SESSION_LIFETIME = 30 * 86400


class TaobaoSimulator(ItemsApi, OrdersApi, RouterGateway):
    """A Taobao shop behind a TOP router, in memory.

    ``max_skew``: seconds a request timestamp may be off the wall clock (None
    turns the check off). ``max_order_window``: the longest
    ``trades.sold.increment.get`` window accepted; TOP itself allows a day
    and advises under 30 minutes, and by default this holds clients to the
    advice the adapter declares.
    """

    messages = TmcMessages()  # what the platform pushes (intake)

    plugin = "taobao"
    protocol = TopRouter
    app_key = APP_KEY
    app_secret = APP_SECRET
    default_max_skew = api.TIMESTAMP_SKEW_SECONDS
    gateway_codes = {
        "missing_app_key": 28, "invalid_app_key": 29, "missing_method": 21, "invalid_method": 22,
        "missing_timestamp": 30, "invalid_timestamp": 31, "missing_version": 32, "invalid_version": 34,
        "missing_signature": 24, "invalid_signature": 25, "missing_token": 26,
        "invalid_token": (27, "invalid-sessionkey"),
        "rate_limited": (7, "accesscontrol.limited-by-app-access-count"),
    }

    def __init__(self, *, max_order_window: timedelta = api.ORDER_WINDOW, **options: Any) -> None:
        super().__init__(tokens=(SESSION,), **options)
        self.max_order_window = max_order_window
        self.refresh_tokens: set[str] = {REFRESH_TOKEN}

    @property
    def sessions(self) -> set[str]:
        """TOP calls the seller's token a session."""
        return self.tokens

    def first_id(self) -> int:
        return 520_000_000_001  # num_iid, sku_id and tid are longs

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "app_key": APP_KEY, "app_secret": APP_SECRET, "session": SESSION,
                "refresh_token": REFRESH_TOKEN}

    def rate_limited_response(self, req):
        seconds = max(1, math.ceil(self.ban_seconds))
        return self.refused("accesscontrol.limited-by-app-access-count",
                            f"This ban will last for {seconds} more seconds", code=7)

    def handlers(self) -> dict[str, Callable[[dict[str, str]], Response]]:
        return {api.TOKEN_REFRESH: self._refresh, **self.item_handlers(), **self.order_handlers()}

    def needs_token(self, method: str) -> bool:
        return method != api.TOKEN_REFRESH

    # --- envelopes shared by the method handlers -------------------------------------
    def ok(self, method: str, body: dict[str, Any]) -> Response:
        return super().ok(method, {**body, "request_id": secrets.token_hex(6)})

    def missing(self, name: str) -> Response:
        return self.error(40, f"Missing Required Arguments:{name}")

    def invalid(self, name: str, why: str) -> Response:
        return self.error(41, f"Invalid Arguments:{name}", sub_code="isv.invalid-parameter", sub_message=why)

    def refused(self, sub_code: str, sub_msg: str, *, code: int = 15) -> Response:
        """A business refusal: code 15 with an ``isv.*`` sub_code."""
        return self.error(code, sub_code=sub_code, sub_message=sub_msg)

    def required(self, params: dict[str, str], *names: str) -> Response | None:
        for name in names:
            if params.get(name) in (None, ""):
                return self.missing(name)
        return None

    def page(self, params: dict[str, str], default: int, most: int) -> tuple[int, int] | Response:
        """``(page_no, page_size)`` or the error TOP gives for a bad one."""
        paging = self.page_args(params, page_key="page_no", size_key="page_size", default=default, most=most)
        if isinstance(paging, str):
            return self.invalid("page_size" if "size" in paging else "page_no", paging)
        return paging

    # --- auth ---------------------------------------------------------------------
    def _refresh(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "refresh_token")
        if refused:
            return refused
        if params["refresh_token"] not in self.refresh_tokens:
            return self.refused("isv.refresh-token-invalid", "refresh_token is invalid or was already used")
        self.refresh_tokens.discard(params["refresh_token"])
        session, refresh = f"sandbox-session-{secrets.token_hex(8)}", f"sandbox-refresh-{secrets.token_hex(8)}"
        self.tokens.add(session)
        self.refresh_tokens.add(refresh)
        token = {"access_token": session, "refresh_token": refresh, "expires_in": SESSION_LIFETIME,
                 "re_expires_in": SESSION_LIFETIME, "taobao_user_nick": "sandbox-seller"}
        return self.ok(api.TOKEN_REFRESH, {"token_result": json.dumps(token)})
