"""A WeChat channels/ec client: the stable access token, the request and the answer envelopes.

Every business call is a JSON POST to ``{base_url}/channels/ec/...`` with the
access token in the query string (``?access_token=``); every answer carries
``errcode`` / ``errmsg``. The token comes from ``POST /cgi-bin/stable_token``
and is cached here until shortly before it expires.

Nothing here retries, sleeps or pages: one method is one HTTP call (the token
call aside, made first when no usable token is cached), failures are raised as
channelsync's typed errors (``errors.ERRORS``) and the core decides what to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx

from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import AuthExpired, Rejected, Transient
from channelsync_wechat import api
from channelsync_wechat.errors import error_for

#: ``Channel.call``: one HTTP request, transport failures, 5xx and 429 already typed
Send = Callable[..., httpx.Response]
JSON = "application/json;charset=utf-8"


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working."""

    value: str
    expires_at: datetime


class WechatClient:
    """Holds the app's credentials and its cached access token; sends channels/ec calls.

    ``refresh_margin``: seconds before expiry at which a new token is fetched.
    The platform hands out the next token in the last five minutes of the old
    one's life (both stay valid meanwhile), so a normal call then gets a fresh one.
    """

    def __init__(self, send: Send, *, appid: str, secret: str, refresh_margin: float = api.TOKEN_OVERLAP,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.send = send
        self.appid = appid
        self._secret = secret
        self.refresh_margin = refresh_margin
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._token: Token | None = None
        #: the token the platform last refused, so a refresh does not accept it back
        self._refused: str | None = None

    # --- the token ------------------------------------------------------------------
    @property
    def token(self) -> Token | None:
        return self._token

    def fetch_token(self, force_refresh: bool = False) -> Token:
        """One ``stable_token`` call; the answer replaces the cached token.

        ``force_refresh`` makes the platform issue a new token at once (at most
        20 times a day per app); the normal mode returns the current one.
        """
        body = {"grant_type": api.GRANT_TYPE, "appid": self.appid, "secret": self._secret,
                "force_refresh": force_refresh}
        response = self.send("POST", api.STABLE_TOKEN, content=_encode(body), headers={"Content-Type": JSON})
        answer = self.unwrap(api.STABLE_TOKEN, response, token_call=True)
        try:
            value = str(answer["access_token"])
            expires_in = min(int(answer["expires_in"]), api.TOKEN_LIFETIME)
        except (KeyError, TypeError, ValueError) as exc:
            raise Transient(f"{api.STABLE_TOKEN}: no access_token/expires_in in the answer", code="envelope") from exc
        self._token = Token(value, self.clock() + timedelta(seconds=expires_in))
        return self._token

    def valid_token(self) -> str:
        """The cached token, or a new one when none is cached or it is about to expire."""
        token = self._token
        if token is None or self.clock() >= token.expires_at - timedelta(seconds=self.refresh_margin):
            token = self.fetch_token(force_refresh=False)
        return token.value

    def refresh(self) -> Token:
        """A token other than the refused one, spending a forced refresh only when needed.

        After 40001/40014/42001 the platform usually already has a newer token
        (it expired, or another process refreshed it): the normal call returns
        it. Only when that call hands back the very token just refused is the
        refresh forced, so the 20-a-day budget of forced refreshes lasts.
        """
        refused = self._refused
        token = self.fetch_token(force_refresh=False)
        if refused is not None and token.value == refused:
            token = self.fetch_token(force_refresh=True)
        self._refused = None
        return token

    # --- business calls --------------------------------------------------------------
    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path`` with the access token; the answer, or a typed error."""
        token = self.valid_token()
        response = self.send("POST", path, params={"access_token": token}, content=_encode(body),
                             headers={"Content-Type": JSON})
        try:
            return self.unwrap(path, response)
        except AuthExpired:
            # The next call fetches a token instead of sending the refused one again.
            self._refused, self._token = token, None
            raise

    def unwrap(self, path: str, response: httpx.Response, *, token_call: bool = False) -> dict[str, Any]:
        """The answer object, or the typed error its ``errcode`` names."""
        body = Channel.json(response)
        if not isinstance(body, dict):
            raise Transient(f"{path}: the answer is not a JSON object", code="envelope")
        errcode = body.get("errcode", 0)
        try:
            errcode = int(errcode)
        except (TypeError, ValueError):
            raise Transient(f"{path}: unreadable errcode {errcode!r}", code="envelope") from None
        if errcode != 0:
            raise error_for(errcode, str(body.get("errmsg") or ""), path=path, token_call=token_call,
                            clock=self.clock)
        if response.status_code >= 400:
            raise Rejected(f"{path}: HTTP {response.status_code}", code=str(response.status_code))
        return body


def _encode(body: dict[str, Any]) -> bytes:
    # UTF-8 as it is: WeChat stores ``\\uXXXX`` escapes in some text fields literally.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
