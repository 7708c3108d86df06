"""A WeChat channels/ec client: the stable access token, the request and the answer envelopes.

Every business call is a JSON POST to ``{base_url}/channels/ec/...`` with the
access token in the query string (``?access_token=``); every answer carries
``errcode`` / ``errmsg``. The token comes from ``POST /cgi-bin/stable_token``.

Nothing here retries, sleeps or pages: one method is one HTTP call (the token
call aside, made first by ``TokenAuth`` when no usable token is cached), failures are raised as
channelsync's typed errors (``errors.ERRORS``) and the core decides what to do.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx

from channelsync.sdk import Credential, TokenAuth
from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import AuthExpired, Rejected, Transient
from channelsync_wechat import api
from channelsync_wechat.errors import error_for

#: ``Channel.call``: one HTTP request, transport failures, 5xx and 429 already typed
Send = Callable[..., httpx.Response]
JSON = "application/json;charset=utf-8"


class WechatClient:
    """Holds the app's credentials and sends channels/ec calls with the channel's access token.

    The token's life (cache, renewal in the last five minutes, a forced refresh only
    when the platform hands back the refused token) is the kit's ``TokenAuth``, set
    by the channel as ``auth``; this client makes its one ``stable_token`` call.
    """

    def __init__(self, send: Send, *, appid: str, secret: str,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.send = send
        self.appid = appid
        self._secret = secret
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.auth: TokenAuth | None = None

    def fetch_token(self, force_refresh: bool = False) -> Credential:
        """One ``stable_token`` call. ``force_refresh`` makes the platform issue a new token at
        once (at most 20 times a day per app); the normal mode returns the current one."""
        body = {"grant_type": api.GRANT_TYPE, "appid": self.appid, "secret": self._secret,
                "force_refresh": force_refresh}
        response = self.send("POST", api.STABLE_TOKEN, content=_encode(body), headers={"Content-Type": JSON})
        answer = self.unwrap(api.STABLE_TOKEN, response, token_call=True)
        expires_in = min(int(answer["expires_in"]), api.TOKEN_LIFETIME)
        return Credential(str(answer["access_token"]), self.clock() + timedelta(seconds=expires_in))

    # --- business calls --------------------------------------------------------------
    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path`` with the access token; the answer, or a typed error."""
        assert self.auth is not None, "the channel sets the client's TokenAuth"
        token = self.auth.token()
        response = self.send("POST", path, params={"access_token": token}, content=_encode(body),
                             headers={"Content-Type": JSON})
        try:
            return self.unwrap(path, response)
        except AuthExpired:
            self.auth.refused(token)  # the next call renews instead of sending it again
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
