"""A JOS router imitation over the core ``Simulator`` state.

The gateway checks (app key, method, both timestamp forms and a 6-minute
skew, ``v``, the MD5 signature over query and form parameters, the
``access_token``) are the shared ``RouterGateway``'s, answered with JD's
string codes and bilingual words. Business limits (page sizes, one SKU a
stock call, the order window) answer inside the ``..._responce`` root the way
JD hides business failures there.

Sandbox credentials are fixed so ``channelsync sandbox`` can print them:
app key ``sandbox-jd-key``, app secret ``sandbox-jd-secret``, access token
``sandbox-jd-token``, refresh token ``sandbox-jd-refresh``. The OAuth refresh
endpoint (``/oauth2/refresh_token``) is served on the same host. SKUs and
wares are in ``wares``, orders, shipment and refunds in ``orders``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Callable

from channelsync.sim.router import RouterGateway
from channelsync.sim.simulator import Request, Response
from channelsync_jd import api
from channelsync_jd import router as codes
from channelsync_jd.router import JosRouter
from channelsync_jd.sim.messages import JdMessagesSent
from channelsync_jd.sim.orders import OrderApi
from channelsync_jd.sim.wares import WareApi

APP_KEY = "sandbox-jd-key"
APP_SECRET = "sandbox-jd-secret"
ACCESS_TOKEN = "sandbox-jd-token"
REFRESH_TOKEN = "sandbox-jd-refresh"
#: what the refresh endpoint reports as ``expires_in`` (the simulator does not expire by time)
TOKEN_LIFETIME = 365 * 86400

#: gateway code -> JD's Chinese words (the English ones are the client's error table's)
ZH = {"2": "限制时间内调用失败次数", "4": "缺少版本参数", "5": "不支持的版本号", "7": "缺少时间戳参数",
      "8": "非法的时间戳参数", "11": "缺少签名参数", "12": "无效签名", "14": "缺少方法名参数",
      "15": "不存在的方法名", "18": "缺少access_token参数", "19": "无效access_token", "20": "缺少app_key参数",
      "21": "无效app_key"}


class JdSimulator(WareApi, OrderApi, RouterGateway):
    """JD POP shop behind a JOS router, in memory.

    ``max_skew``: seconds a request timestamp may be off the wall clock (None
    turns the check off, for tests that drive a far-off client clock).
    """

    messages = JdMessagesSent()  # what the platform pushes (intake)

    plugin = "jd"
    protocol = JosRouter
    app_key = APP_KEY
    app_secret = APP_SECRET
    default_max_skew = api.TIMESTAMP_SKEW_SECONDS
    gateway_codes = {
        "missing_app_key": "20", "invalid_app_key": "21", "missing_method": "14", "invalid_method": "15",
        "missing_timestamp": "7", "invalid_timestamp": "8", "missing_version": "4", "invalid_version": "5",
        "missing_signature": "11", "invalid_signature": "12", "missing_token": "18", "invalid_token": "19",
        "rate_limited": "2",
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(tokens=(ACCESS_TOKEN,), **options)
        self.refresh_tokens: set[str] = {REFRESH_TOKEN}

    def first_id(self) -> int:
        return 100_001_000_001  # JD ids are long numbers

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "app_key": APP_KEY, "app_secret": APP_SECRET,
                "access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN, "oauth_url": base_url}

    def gateway_error(self, check: str, detail: str | None = None) -> Response:
        code = str(self.gateway_codes[check])
        return Response(200, JosRouter.error_envelope(code, zh=ZH.get(code)))

    # --- the gateway ------------------------------------------------------------
    def extra_route(self, req: Request) -> Response | None:
        return self._refresh(req) if req.path == api.OAUTH_REFRESH_PATH else None

    def dispatch(self, method: str, params: dict[str, str]) -> Response:
        try:
            business = json.loads(params.get("360buy_param_json") or "{}")
        except ValueError:
            return self.fail(method, codes.PARAM_ERROR, "360buy_param_json is not JSON")
        if not isinstance(business, dict):
            return self.fail(method, codes.PARAM_ERROR, "360buy_param_json must be an object")
        return self.handlers()[method](method, business)

    def handlers(self) -> dict[str, Callable[[str, dict], Response]]:
        return {api.SKU_SEARCH: self.search_skus, api.STOCK_UPDATE: self.update_stock,
                api.STOCK_UPDATE_OLD: self.update_stock, api.STOCK_READ: self.read_stock, api.PRICE_UPDATE: self.update_price,
                api.WARE_UP_OR_DOWN: self.up_or_down, api.WARE_TITLE_UPDATE: self.update_title,
                api.ORDER_SEARCH: self.search_orders, api.ORDER_GET: self.get_order,
                api.ORDER_SHIPMENT: self.shipment, api.REFUND_QUERY: self.query_refunds,
                api.ASC_QUERY: self.query_services}

    # --- envelopes ---------------------------------------------------------------
    def ok(self, method: str, body: dict[str, Any]) -> Response:
        return super().ok(method, {"code": "0", **body})

    @staticmethod
    def fail(method: str, code: str, message: str) -> Response:
        """A business failure in the success root: ``code`` is not "0"."""
        return Response(200, {JosRouter.response_key(method): {"code": code, "en_desc": message, "zh_desc": message}})

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
