"""The simulator side of a signed router (``channelsync.sdk.router``).

``RouterGateway`` is what a real router gateway does before any API runs: it
reads the parameters from the query string and the form body, checks the app
key, the API name, the timestamp (format and clock skew), the version, the
signature and the seller's token, in that order, and answers the first failure
with the platform's own ``error_response`` (HTTP 200). A call that passes is
recorded and dispatched to the platform's handler under the simulator lock.

A platform's simulator declares ``protocol`` (its ``SignedRouter`` subclass:
the same names, signature, envelopes and error table the client uses), its
sandbox ``app_key`` / ``app_secret``, and which of its codes answers each
failed check (``gateway_codes``); then writes only its API handlers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, ClassVar

from channelsync.sdk.router import SignedRouter, sign
from channelsync.sim.simulator import Simulator
from channelsync.sim.types import Request, Response

#: the checks, in the order a gateway makes them; ``gateway_codes`` maps each to a platform code
CHECKS = ("missing_app_key", "invalid_app_key", "missing_method", "invalid_method", "missing_timestamp",
          "invalid_timestamp", "missing_version", "invalid_version", "missing_signature", "invalid_signature",
          "missing_token", "invalid_token", "rate_limited")

#: a ``gateway_codes`` value: the code, or the code and a sub-code (TOP's ``invalid-sessionkey``)
GatewayCode = object | tuple[object, str]


class RouterGateway(Simulator):
    """Base of a router platform's simulator: gateway checks, dispatch, envelopes.

    ``max_skew``: seconds a request timestamp may be off the wall clock (None
    turns the check off, for tests that drive a far-off client clock).
    ``self.tokens``: the seller tokens the gateway accepts (a token-expiry fault
    clears them until the client renews one).
    """

    protocol: ClassVar[type[SignedRouter]] = SignedRouter
    app_key: ClassVar[str] = ""
    app_secret: ClassVar[str] = ""
    #: check name (see ``CHECKS``) -> the platform's code for that failure
    gateway_codes: ClassVar[dict[str, GatewayCode]] = {}
    #: skew a real gateway tolerates, seconds
    default_max_skew: ClassVar[float | None] = 600.0

    def __init__(self, *, max_skew: float | None | object = ..., tokens: tuple[str, ...] = (),
                 **options: Any) -> None:
        super().__init__(**options)
        self.max_skew = self.default_max_skew if max_skew is ... else max_skew
        self.tokens: set[str] = set(tokens)

    # --- what a platform's simulator writes --------------------------------------------
    def handlers(self) -> dict[str, Callable[..., Response]]:
        """API name -> handler; ``dispatch`` decides what a handler receives."""
        raise NotImplementedError

    def dispatch(self, method: str, params: dict[str, str]) -> Response:
        """Run one checked call (default: the handler gets every parameter)."""
        return self.handlers()[method](params)

    def needs_token(self, method: str) -> bool:
        """Whether ``method`` needs the seller's token (token renewal does not)."""
        return True

    def extra_route(self, req: Request) -> Response | None:
        """Paths served beside the router (an OAuth endpoint); None: not one of them."""
        return None

    # --- the gateway ----------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        extra = self.extra_route(req)
        if extra is not None:
            return extra
        if req.path != self.protocol.path:
            return Response(404, {"error": f"no such path {req.path}"})
        params = self.params_of(req)
        refused = self.check(params)
        if refused is not None:
            return refused
        method = params[self.protocol.method_key]
        self.record(method)
        with self.lock:
            return self.dispatch(method, params)

    @staticmethod
    def params_of(req: Request) -> dict[str, str]:
        """Query and form parameters together: SDKs split them differently, the signature covers both."""
        params = dict(req.query)
        if req.method == "POST" and "form" in req.headers.get("content-type", ""):
            params.update(req.form)
        return params

    def check(self, params: dict[str, str]) -> Response | None:
        """The gateway's checks, in ``CHECKS`` order; None when the call may proceed."""
        p = self.protocol
        if not params.get(p.app_key_key):
            return self.gateway_error("missing_app_key")
        if params[p.app_key_key] != self.app_key:
            return self.gateway_error("invalid_app_key")
        if not params.get(p.method_key):
            return self.gateway_error("missing_method")
        if params[p.method_key] not in self.handlers():
            return self.gateway_error("invalid_method")
        refused = self.check_timestamp(params.get("timestamp"))
        if refused is not None:
            return refused
        if p.version_key:
            if not params.get(p.version_key):
                return self.gateway_error("missing_version")
            if params[p.version_key] != p.fixed.get(p.version_key):
                return self.gateway_error("invalid_version")
        if not params.get("sign"):
            return self.gateway_error("missing_signature")
        method = (params.get(p.sign_method_key) if p.sign_method_key else None) or "md5"
        if method not in p.sign_methods:
            return self.gateway_error("invalid_signature", f"unsupported sign_method {method!r}")
        if not secrets.compare_digest(params["sign"].upper(), sign(params, self.app_secret, method)):
            return self.gateway_error("invalid_signature")
        if self.needs_token(params[p.method_key]):
            if not params.get(p.token_key):
                return self.gateway_error("missing_token")
            with self.lock:
                if params[p.token_key] not in self.tokens:
                    return self.gateway_error("invalid_token")
        return None

    def check_timestamp(self, text: str | None) -> Response | None:
        if not text:
            return self.gateway_error("missing_timestamp")
        try:
            sent = self.protocol.parse_timestamp(text)
        except (ValueError, OverflowError, OSError):
            return self.gateway_error("invalid_timestamp", f"timestamp {text!r} is in no accepted form")
        # The client's clock is a real one: compare with the wall clock, not the simulated platform clock.
        off = abs((datetime.now(timezone.utc) - sent).total_seconds())
        if self.max_skew is not None and off > self.max_skew:
            return self.gateway_error("invalid_timestamp", f"timestamp is {off:.0f} s off the server time "
                                                           f"(at most {self.max_skew:.0f} s)")
        return None

    # --- envelopes ----------------------------------------------------------------------------
    def gateway_error(self, check: str, detail: str | None = None) -> Response:
        """The platform's answer to a failed gateway check (HTTP 200, ``error_response``)."""
        declared = self.gateway_codes[check]
        code, sub_code = declared if isinstance(declared, tuple) else (declared, None)
        return self.error(code, sub_code=sub_code, sub_message=detail)

    def error(self, code: object, message: str | None = None, *, sub_code: str | None = None,
              sub_message: str | None = None) -> Response:
        """Any ``error_response`` in the protocol's shape, with a request id as the platforms add."""
        return Response(200, self.protocol.error_envelope(code, message, sub_code=sub_code, sub_message=sub_message,
                                                          request_id=secrets.token_hex(6)))

    def ok(self, method: str, body: dict[str, Any]) -> Response:
        """A success answer under the protocol's root for ``method``."""
        return Response(200, {self.protocol.response_key(method): body})

    def rate_limited_response(self, req: Request) -> Response:
        return self.gateway_error("rate_limited")

    def auth_expired_response(self, req: Request) -> Response:
        return self.gateway_error("invalid_token")

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # --- business helpers every router API needs --------------------------------------------
    def page_args(self, params: dict[str, Any], *, page_key: str, size_key: str, default: int,
                  most: int) -> tuple[int, int] | str:
        """``(page, size)`` from 1-based page parameters, or why they are refused."""
        try:
            page, size = int(params.get(page_key) or 1), int(params.get(size_key) or default)
        except (TypeError, ValueError):
            return f"{page_key} and {size_key} must be numbers"
        if page < 1:
            return f"{page_key} must be at least 1"
        if not 1 <= size <= most:
            return f"{size_key} must be between 1 and {most}"
        return page, size
