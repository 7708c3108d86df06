"""PDD's router gateway over the core ``Simulator`` state.

The gateway checks (client id, ``type``, epoch timestamp and skew, MD5
signature over every form and query parameter, ``access_token``) are the
shared ``RouterGateway``'s, answered with PDD's ``error_response``. Business
refusals answer the same way with the codes in ``channelsync_pdd.router``.

Sandbox credentials are fixed so ``channelsync sandbox`` can print them:
client id ``sandbox-pdd-client``, client secret ``sandbox-pdd-secret``,
access token ``sandbox-pdd-token``, refresh token ``sandbox-pdd-refresh``.
A token-expiry fault invalidates every access token until the client renews
one with ``pdd.pop.auth.token.refresh``; a refresh token works once.
"""

from __future__ import annotations

import secrets
from typing import Any, Callable

from channelsync.sim.router import RouterGateway
from channelsync.sim.simulator import Response
from channelsync_pdd import api
from channelsync_pdd.router import PopRouter
from channelsync_pdd.sim.goods import GoodsApi
from channelsync_pdd.sim.orders import OrdersApi

CLIENT_ID = "sandbox-pdd-client"
CLIENT_SECRET = "sandbox-pdd-secret"
ACCESS_TOKEN = "sandbox-pdd-token"
REFRESH_TOKEN = "sandbox-pdd-refresh"
TOKEN_LIFETIME = 86400  # a PDD access token lasts about a day (unconfirmed)


class PddSimulator(GoodsApi, OrdersApi, RouterGateway):
    """A Pinduoduo shop behind PDD's router, in memory.

    ``max_skew``: seconds a timestamp may be off the wall clock (None: no check).
    """

    plugin = "pdd"
    protocol = PopRouter
    app_key = CLIENT_ID
    app_secret = CLIENT_SECRET
    default_max_skew = 600  # seconds; unconfirmed
    gateway_codes = {
        "missing_app_key": "10001", "invalid_app_key": "10016", "missing_method": "10001",
        "invalid_method": "10021", "missing_timestamp": "10001", "invalid_timestamp": "10020",
        "missing_signature": "10001", "invalid_signature": "10017", "missing_token": "10018",
        "invalid_token": ("10019", "access_token_invalid"), "rate_limited": "70031",
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(tokens=(ACCESS_TOKEN,), **options)
        self.refresh_tokens: set[str] = {REFRESH_TOKEN}
        self.single_prices: dict[str, int] = {}  # sku id -> single-buy price, fen
        self.shipments: dict[str, str] = {}  # order_sn -> logistics_id

    def first_id(self) -> int:
        return 300_000_000_001  # goods_id, sku_id are longs

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN}

    def handlers(self) -> dict[str, Callable[[dict[str, str]], Response]]:
        return {api.TOKEN_REFRESH: self._refresh, **self.goods_handlers(), **self.order_handlers()}

    def needs_token(self, method: str) -> bool:
        return method != api.TOKEN_REFRESH

    # --- envelopes shared by the API handlers ------------------------------------------
    def fail(self, code: str, why: str) -> Response:
        return self.error(code, sub_message=why)

    def required(self, params: dict[str, str], *names: str) -> Response | None:
        missing = [name for name in names if params.get(name) in (None, "")]
        return self.fail("10001", f"missing {', '.join(missing)}") if missing else None

    def page(self, params: dict[str, str], most: int) -> tuple[int, int] | Response:
        paging = self.page_args(params, page_key="page", size_key="page_size", default=most, most=most)
        return self.fail("10000", paging) if isinstance(paging, str) else paging

    def number(self, params: dict[str, str], name: str) -> int | Response:
        try:
            return int(params[name])
        except (KeyError, ValueError):
            return self.fail("10000", f"{name} must be a whole number")

    # --- auth -----------------------------------------------------------------------------
    def _refresh(self, params: dict[str, str]) -> Response:
        refused = self.required(params, "refresh_token")
        if refused:
            return refused
        if params["refresh_token"] not in self.refresh_tokens:
            return self.fail("10000", "refresh_token is invalid or was already used")
        self.refresh_tokens.discard(params["refresh_token"])
        token, refresh = f"sandbox-token-{secrets.token_hex(8)}", f"sandbox-refresh-{secrets.token_hex(8)}"
        self.tokens.add(token)
        self.refresh_tokens.add(refresh)
        return self.ok(api.TOKEN_REFRESH, {"access_token": token, "expires_in": TOKEN_LIFETIME,
                                           "refresh_token": refresh, "refresh_token_expires_in": 30 * 86400,
                                           "owner_id": "sandbox-mall", "scope": ["pdd.goods", "pdd.order"]})
