"""A TOP router client: signing, the request envelope and the response envelopes.

One ``execute()`` is one HTTP call: a form-encoded POST to ``/router/rest``
with the system parameters in the query string and the business parameters in
the body, as the official SDKs send them (the signature covers both). Nothing
here retries, sleeps or pages: failures are raised as channelsync's typed
errors (``errors.ERRORS``) and the core decides what to do with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlencode

import httpx

from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import Rejected, Transient
from channelsync_taobao import api
from channelsync_taobao.errors import error_for
from channelsync_taobao.signing import format_millis, format_time, sign

#: ``Channel.call``: one HTTP request, transport failures already typed
Send = Callable[..., httpx.Response]
FORM = "application/x-www-form-urlencoded;charset=utf-8"


@dataclass(frozen=True)
class Grant:
    """What ``taobao.top.auth.token.refresh`` returned."""

    session: str
    refresh_token: str | None
    expires_at: datetime | None


class TopClient:
    """Signs and sends TOP calls; returns the object inside the ``..._response`` root.

    ``timestamp_format``: "datetime" sends ``yyyy-MM-dd HH:mm:ss`` in GMT+8 (the
    documented form), "millis" epoch milliseconds (the official Python SDK).
    """

    def __init__(self, send: Send, *, app_key: str, app_secret: str, session: str,
                 sign_method: str = "md5", timestamp_format: str = "datetime",
                 partner_id: str | None = None, clock: Callable[[], datetime] | None = None) -> None:
        if sign_method not in api.SIGN_METHODS:
            raise Rejected(f"sign_method must be one of {', '.join(api.SIGN_METHODS)}", code="sign_method")
        self.send = send
        self.app_key = app_key
        self._secret = app_secret
        self.session = session
        self.sign_method = sign_method
        self.timestamp_format = timestamp_format
        self.partner_id = partner_id
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def system_params(self, method: str, *, with_session: bool = True) -> dict[str, str]:
        """The unsigned system parameters of one call."""
        now = self.clock()
        params = {"method": method, "app_key": self.app_key, "format": api.FORMAT, "v": api.API_VERSION,
                  "sign_method": self.sign_method,
                  "timestamp": format_millis(now) if self.timestamp_format == "millis" else format_time(now)}
        if with_session:
            params["session"] = self.session
        if self.partner_id:
            params["partner_id"] = self.partner_id
        return params

    def execute(self, method: str, params: dict[str, Any], *, with_session: bool = True) -> dict[str, Any]:
        """Call ``method`` with business ``params``; TOP failures raise typed errors."""
        business = {key: _text(value) for key, value in params.items() if value is not None}
        system = self.system_params(method, with_session=with_session)
        system["sign"] = sign({**system, **business}, self._secret, self.sign_method)
        response = self.send("POST", api.ROUTER_PATH, params=system,
                             content=urlencode(business).encode("ascii"), headers={"Content-Type": FORM})
        return unwrap(method, response)

    def refresh(self, refresh_token: str) -> Grant:
        """Trade the refresh token for a new session (service-market apps only).

        TOP answers ``token_result`` as a JSON *string*; each refresh retires
        the old refresh token, so the new one is kept for the next time.
        """
        root = self.execute(api.TOKEN_REFRESH, {"refresh_token": refresh_token}, with_session=False)
        try:
            token = json.loads(root["token_result"]) if isinstance(root.get("token_result"), str) \
                else root["token_result"]
            session = str(token["access_token"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Transient(f"{api.TOKEN_REFRESH}: unreadable token_result", code="envelope") from exc
        expires_in = token.get("expires_in")
        expires_at = self.clock() + timedelta(seconds=int(expires_in)) if expires_in else None
        self.session = session
        return Grant(session, token.get("refresh_token"), expires_at)


def unwrap(method: str, response: httpx.Response) -> dict[str, Any]:
    """The success object of ``method``, or the typed error TOP's envelope describes."""
    body = Channel.json(response)
    if not isinstance(body, dict):
        raise Transient(f"{method}: response is not a JSON object", code="envelope")
    error = body.get("error_response")
    if isinstance(error, dict):
        raise error_for(error)
    if response.status_code >= 400:
        raise Rejected(f"{method}: HTTP {response.status_code}", code=str(response.status_code))
    root = body.get(api.response_key(method))
    if not isinstance(root, dict):
        # Neither success nor error: a proxy page or a renamed method; nothing says it applied or not.
        raise Transient(f"{method}: no {api.response_key(method)} in the response", code="envelope")
    return root


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
