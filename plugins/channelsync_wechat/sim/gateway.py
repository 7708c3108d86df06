"""A WeChat channels/ec imitation over the core ``Simulator`` state.

What it checks, as the platform does: the token call (``POST
/cgi-bin/stable_token`` with grant_type, appid, secret; a wrong secret is
40125, a 21st forced refresh in one Beijing day is 45009), then on every
channels/ec call: POST only (43002), ``access_token`` present (41001), known
(40001) and not expired (42001), a JSON object body (47001). Answers are HTTP
200 with ``errcode`` / ``errmsg`` (errmsg ends with a request id, ``rid``, as
WeChat's do). Business limits (page sizes, the 7-day order and 24-hour
after-sale windows, one SKU a stock call, stock never subtracted below 0)
answer the same way. Products are in ``products``, orders, delivery and
after-sales in ``orders``.

Tokens: 7200 s on the simulator clock. The normal token call returns the
current token until its last five minutes, then issues the next one (both
valid until each expires); a forced refresh issues a new token at once and
leaves the old one five more minutes. A token-expiry fault invalidates every
token.

WeChat requests carry no timestamp and no signature (the token is the only
proof), so there is no clock-skew check to make.

Sandbox credentials are fixed so ``channelsync sandbox`` can print them:
appid ``sandbox-wechat-appid``, secret ``sandbox-wechat-secret``.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta
from typing import Any, Callable

from channelsync.sdk.times import BEIJING
from channelsync.sim.simulator import Request, Response, Simulator
from channelsync_wechat import api
from channelsync_wechat.sim.messages import WechatPushMessages
from channelsync_wechat.sim.orders import OrdersApi
from channelsync_wechat.sim.products import ProductsApi

APPID = "sandbox-wechat-appid"
SECRET = "sandbox-wechat-secret"

#: errcode -> the words WeChat answers with
MESSAGES = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40066: "invalid url",
    40097: "invalid args",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    42001: "access_token expired",
    43002: "require POST method",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    10020004: "invalid time range",
    10020052: "product not exist",
    10020112: "sku stock update too frequently",
    10020219: "stock not enough to subtract",
}


def wx_error(errcode: int, detail: str | None = None, status: int = 200) -> Response:
    """WeChat's error answer: ``errcode`` and ``errmsg`` (plus a request id), HTTP 200."""
    words = MESSAGES.get(errcode, "error") + (f": {detail}" if detail else "")
    return Response(status, {"errcode": errcode, "errmsg": f"{words} rid: {secrets.token_hex(4)}-{secrets.token_hex(6)}"})


def wx_ok(**fields: Any) -> Response:
    return Response(200, {"errcode": 0, "errmsg": "ok", **fields})


class WechatSimulator(ProductsApi, OrdersApi, Simulator):
    """A WeChat Channels shop in memory.

    ``sku_update_interval``: seconds (simulator clock) one SKU's stock must rest
    between ``stock/update`` calls, else 10020112; WeChat publishes no figure,
    so it is off unless given. ``forced_refresh_per_day``: forced token
    refreshes allowed per Beijing day.
    """

    messages = WechatPushMessages()  # what the platform pushes (intake)

    plugin = "wechat"

    def __init__(self, *, sku_update_interval: float | None = None,
                 forced_refresh_per_day: int = api.FORCED_REFRESH_PER_DAY, **options: Any) -> None:
        super().__init__(**options)
        self.sku_update_interval = sku_update_interval
        self.forced_refresh_per_day = forced_refresh_per_day
        self.tokens: dict[str, datetime] = {}  # token -> expires at (simulator clock)
        self.stable: str | None = None  # the token the normal stable_token call hands out
        self.forced: dict[date, int] = {}  # forced refreshes per Beijing day
        self.stock_updated: dict[str, datetime] = {}  # sku_id -> last stock/update

    def first_id(self) -> int:
        return 10_000_000_000_001  # product, SKU and order ids are long numbers sent as strings

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "appid": APPID, "secret": SECRET}

    def rate_limited_response(self, req: Request) -> Response:
        return wx_error(45011)

    def auth_expired_response(self, req: Request) -> Response:
        return wx_error(42001)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.stable = None

    # --- dispatch -------------------------------------------------------------------
    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Response]]:
        return {**self.product_handlers(), **self.order_handlers()}

    def handle(self, req: Request) -> Response:
        if req.path == api.STABLE_TOKEN:
            return self._stable_token(req)
        if req.path == api.LEGACY_TOKEN:
            return self._legacy_token(req)
        handler = self.handlers().get(req.path)
        if handler is None:
            return wx_error(40066, req.path, status=404)
        if req.method != "POST":
            return wx_error(43002)
        refused = self.check_token(req.query.get("access_token"))
        if refused is not None:
            return refused
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body else None
        except (UnicodeDecodeError, ValueError):
            return wx_error(47001)
        if body is None:
            return wx_error(44002)
        if not isinstance(body, dict):
            return wx_error(47001)
        self.record(req.path)
        with self.lock:
            return handler(body)

    def check_token(self, token: str | None) -> Response | None:
        """None when ``token`` may call; else WeChat's refusal."""
        if not token:
            return wx_error(41001)
        with self.lock:
            expires_at = self.tokens.get(token)
        if expires_at is None:
            return wx_error(40001)
        if expires_at <= self.now():
            return wx_error(42001)
        return None

    # --- tokens ------------------------------------------------------------------------
    def _stable_token(self, req: Request) -> Response:
        if req.method != "POST":
            return wx_error(43002)
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body else None
        except (UnicodeDecodeError, ValueError):
            return wx_error(47001)
        if not isinstance(body, dict):
            return wx_error(44002 if body is None else 47001)
        refused = self._app(body.get("grant_type"), body.get("appid"), body.get("secret"))
        if refused is not None:
            return refused
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            return wx_error(40097, "force_refresh must be true or false")
        self.record(api.STABLE_TOKEN)
        with self.lock:
            now = self.now()
            if force:
                day = now.astimezone(BEIJING).date()
                if self.forced.get(day, 0) >= self.forced_refresh_per_day:
                    return wx_error(45009, f"force_refresh is limited to {self.forced_refresh_per_day} a day")
                self.forced[day] = self.forced.get(day, 0) + 1
                if self.stable in self.tokens:  # the old token lives five more minutes
                    self.tokens[self.stable] = min(self.tokens[self.stable], now + timedelta(seconds=api.TOKEN_OVERLAP))
                self.stable = self._issue(now)
            else:
                expires_at = self.tokens.get(self.stable or "")
                if expires_at is None or (expires_at - now).total_seconds() <= api.TOKEN_OVERLAP:
                    self.stable = self._issue(now)  # the old one, if any, keeps its own expiry
            remaining = int((self.tokens[self.stable] - now).total_seconds())
            return Response(200, {"access_token": self.stable, "expires_in": remaining})

    def _legacy_token(self, req: Request) -> Response:
        """``GET /cgi-bin/token``: a new token on every call, independent of the stable one."""
        refused = self._app(req.query.get("grant_type"), req.query.get("appid"), req.query.get("secret"))
        if refused is not None:
            return refused
        self.record(api.LEGACY_TOKEN)
        with self.lock:
            token = self._issue(self.now())
            return Response(200, {"access_token": token, "expires_in": api.TOKEN_LIFETIME})

    def _app(self, grant_type: Any, appid: Any, secret: Any) -> Response | None:
        if grant_type != api.GRANT_TYPE:
            return wx_error(40002)
        if not appid:
            return wx_error(41002)
        if appid != APPID:
            return wx_error(40013)
        if not secret:
            return wx_error(41004)
        if not secrets.compare_digest(str(secret), SECRET):
            return wx_error(40125)
        return None

    def _issue(self, now: datetime) -> str:
        token = f"sandbox-token-{secrets.token_urlsafe(24)}"
        self.tokens[token] = now + timedelta(seconds=api.TOKEN_LIFETIME)
        return token

    # --- envelopes shared by the method handlers ------------------------------------------
    @staticmethod
    def invalid(detail: str) -> Response:
        return wx_error(40097, detail)

    @staticmethod
    def ok(**fields: Any) -> Response:
        return wx_ok(**fields)

    @staticmethod
    def error(errcode: int, detail: str | None = None) -> Response:
        return wx_error(errcode, detail)

    @staticmethod
    def epoch(moment: datetime) -> int:
        return int(moment.timestamp())

    def page(self, body: dict[str, Any], most: int, default: int | None = None) -> tuple[int, int] | Response:
        """``(offset, page_size)`` from ``page_size`` and ``next_key``, or the refusal."""
        size = body.get("page_size", default)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= most:
            return self.invalid(f"page_size must be between 1 and {most}")
        key = body.get("next_key") or ""
        if not key:
            return 0, size
        try:
            return int(json.loads(bytes.fromhex(str(key)).decode())["offset"]), size
        except (ValueError, KeyError, TypeError):
            return self.invalid("next_key is not one this API returned")

    @staticmethod
    def next_key(offset: int) -> str:
        """An opaque paging key (hex of a small JSON object)."""
        return json.dumps({"offset": offset}).encode().hex()
