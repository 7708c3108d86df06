"""A JOS router imitation over the core ``Simulator`` state.

What it checks, as JD's gateway does: ``app_key``, ``v``, ``method``, the
timestamp (both formats, at most 6 minutes off the wall clock), the MD5
signature over the query and form parameters, and the ``access_token``;
each failure answers with JD's ``error_response`` and string code. Business
limits (page sizes, one SKU a stock call, the order window) answer inside the
``..._responce`` root the way JD hides business failures there.

Sandbox credentials are fixed so ``channelsync sandbox`` can print them:
app key ``sandbox-jd-key``, app secret ``sandbox-jd-secret``, access token
``sandbox-jd-token``, refresh token ``sandbox-jd-refresh``. The OAuth refresh
endpoint (``/oauth2/refresh_token``) is served on the same host. SKUs and
wares are in ``wares``, orders, shipment and refunds in ``orders``.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any, Callable

from channelsync.sim.simulator import Request, Response, Simulator
from channelsync_jd import api
from channelsync_jd import errors as codes
from channelsync_jd.signing import parse_timestamp, sign
from channelsync_jd.sim.orders import OrderApi
from channelsync_jd.sim.wares import WareApi
from channelsync_jd.sim.messages import JdMessagesSent

APP_KEY = "sandbox-jd-key"
APP_SECRET = "sandbox-jd-secret"
ACCESS_TOKEN = "sandbox-jd-token"
REFRESH_TOKEN = "sandbox-jd-refresh"
#: what the refresh endpoint reports as ``expires_in`` (the simulator does not expire by time)
TOKEN_LIFETIME = 365 * 86400

#: gateway error code -> (中文, English), as JD words them
GATEWAY = {
    "2": ("限制时间内调用失败次数", "App Call Limited"),
    "4": ("缺少版本参数", "Missing Version"),
    "5": ("不支持的版本号", "Unsupported Version"),
    "7": ("缺少时间戳参数", "Missing Timestamp"),
    "8": ("非法的时间戳参数", "Invalid Timestamp"),
    "11": ("缺少签名参数", "Missing Signature"),
    "12": ("无效签名", "Invalid Signature"),
    "14": ("缺少方法名参数", "Missing Method"),
    "15": ("不存在的方法名", "Invalid Method"),
    "18": ("缺少access_token参数", "Missing Access Token"),
    "19": ("无效access_token", "Invalid access_token"),
    "20": ("缺少app_key参数", "Missing App Key"),
    "21": ("无效app_key", "Invalid App Key"),
}


def gateway_error(code: str) -> Response:
    """JD's gateway error envelope (HTTP 200, string code)."""
    zh, en = GATEWAY[code]
    return Response(200, {"error_response": {"code": code, "zh_desc": zh, "en_desc": en}})


class JdSimulator(WareApi, OrderApi, Simulator):
    """JD POP shop behind a JOS router, in memory.

    ``max_skew``: seconds a request timestamp may be off the wall clock (None
    turns the check off, for tests that drive a far-off client clock).
    """

    messages = JdMessagesSent()  # what the platform pushes (intake)

    plugin = "jd"

    def __init__(self, *, max_skew: float | None = api.TIMESTAMP_SKEW_SECONDS, **options: Any) -> None:
        super().__init__(**options)
        self.max_skew = max_skew
        self.tokens: set[str] = {ACCESS_TOKEN}
        self.refresh_tokens: set[str] = {REFRESH_TOKEN}

    def first_id(self) -> int:
        return 100_001_000_001  # JD ids are long numbers

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "app_key": APP_KEY, "app_secret": APP_SECRET,
                "access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN, "oauth_url": base_url}

    def rate_limited_response(self, req: Request) -> Response:
        return gateway_error("2")

    def auth_expired_response(self, req: Request) -> Response:
        return gateway_error("19")

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # --- the gateway ------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path == api.OAUTH_REFRESH_PATH:
            return self._refresh(req)
        if req.path != api.ROUTER_PATH:
            return Response(404, {"error": f"no such path {req.path}"})
        params = dict(req.query)
        if req.method == "POST" and "form" in req.headers.get("content-type", ""):
            params.update(req.form)  # some SDKs send 360buy_param_json in the body
        refused = self.check(params)
        if refused is not None:
            return refused
        method = params["method"]
        self.record(method)
        try:
            business = json.loads(params.get("360buy_param_json") or "{}")
        except ValueError:
            return self.fail(method, codes.PARAM_ERROR, "360buy_param_json is not JSON")
        if not isinstance(business, dict):
            return self.fail(method, codes.PARAM_ERROR, "360buy_param_json must be an object")
        with self.lock:
            return self.handlers()[method](method, business)

    def check(self, params: dict[str, str]) -> Response | None:
        """The gateway's checks, in order; None when the call may proceed."""
        if not params.get("app_key"):
            return gateway_error("20")
        if params["app_key"] != APP_KEY:
            return gateway_error("21")
        if not params.get("v"):
            return gateway_error("4")
        if params["v"] != api.API_VERSION:
            return gateway_error("5")
        if not params.get("method"):
            return gateway_error("14")
        if params["method"] not in self.handlers():
            return gateway_error("15")
        if not params.get("timestamp"):
            return gateway_error("7")
        try:
            sent = parse_timestamp(params["timestamp"])
        except ValueError:
            return gateway_error("8")
        # The client's clock is a real one: compare with the wall clock, not the simulated platform clock.
        if self.max_skew is not None and abs((datetime.now(timezone.utc) - sent).total_seconds()) > self.max_skew:
            return gateway_error("8")
        if not params.get("sign"):
            return gateway_error("11")
        if not secrets.compare_digest(params["sign"].upper(), sign(params, APP_SECRET)):
            return gateway_error("12")
        if not params.get("access_token"):
            return gateway_error("18")
        with self.lock:
            if params["access_token"] not in self.tokens:
                return gateway_error("19")
        return None

    def handlers(self) -> dict[str, Callable[[str, dict], Response]]:
        return {api.SKU_SEARCH: self.search_skus, api.STOCK_UPDATE: self.update_stock,
                api.STOCK_UPDATE_OLD: self.update_stock, api.STOCK_READ: self.read_stock, api.PRICE_UPDATE: self.update_price,
                api.WARE_UP_OR_DOWN: self.up_or_down, api.WARE_TITLE_UPDATE: self.update_title,
                api.ORDER_SEARCH: self.search_orders, api.ORDER_GET: self.get_order,
                api.ORDER_SHIPMENT: self.shipment, api.REFUND_QUERY: self.query_refunds,
                api.ASC_QUERY: self.query_services}

    # --- envelopes ---------------------------------------------------------------
    @staticmethod
    def ok(method: str, body: dict[str, Any]) -> Response:
        return Response(200, {api.response_key(method): {"code": "0", **body}})

    @staticmethod
    def fail(method: str, code: str, message: str) -> Response:
        """A business failure in the success root: ``code`` is not "0"."""
        return Response(200, {api.response_key(method): {"code": code, "en_desc": message, "zh_desc": message}})

    # --- OAuth ---------------------------------------------------------------------
    def _refresh(self, req: Request) -> Response:
        q = req.query
        self.record("oauth2.refresh_token")
        # Stand-in codes: JD's OAuth error codes are not in platforms.md.
        if q.get("app_key") != APP_KEY or q.get("app_secret") != APP_SECRET:
            return Response(200, {"code": 401, "msg": "invalid app_key or app_secret"})
        if q.get("grant_type") != "refresh_token" or q.get("refresh_token") not in self.refresh_tokens:
            return Response(200, {"code": 402, "msg": "invalid or expired refresh_token"})
        token = "sim-" + secrets.token_hex(12)
        with self.lock:
            self.tokens.add(token)
        return Response(200, {"code": 0, "access_token": token, "expires_in": TOKEN_LIFETIME,
                              "refresh_token": q["refresh_token"], "token_type": "bearer",
                              "time": int(self.now().timestamp() * 1000)})
