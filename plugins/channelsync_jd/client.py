"""A JOS router client: signing, the request envelope and the response envelopes.

One ``execute()`` is one HTTP call. Nothing here retries, sleeps or pages:
failures are raised as channelsync's typed errors (``errors.ERRORS``) and the
core decides what to do with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx

from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import Rejected, Transient
from channelsync_jd import api
from channelsync_jd.errors import error_for
from channelsync_jd.signing import format_timestamp, sign

#: ``Channel.call``: one HTTP request, transport failures already typed
Send = Callable[..., httpx.Response]


@dataclass(frozen=True)
class Grant:
    """What an OAuth refresh returned."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


class JdClient:
    """Signs and sends JOS calls; returns the body inside the ``..._responce`` root.

    ``param_json_in``: "body" sends ``360buy_param_json`` as a form field (the
    Java SDK), "query" puts it in the query string with an empty body (other
    SDKs). Both are signed the same way.
    """

    def __init__(self, send: Send, *, app_key: str, app_secret: str, access_token: str,
                 param_json_in: str = "body", clock: Callable[[], datetime] | None = None) -> None:
        self.send = send
        self.app_key = app_key
        self._secret = app_secret
        self.access_token = access_token
        self.param_json_in = param_json_in
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def execute(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call ``method`` with business ``params``; JD failures raise typed errors."""
        param_json = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
        system = {"method": method, "app_key": self.app_key, "access_token": self.access_token,
                  "timestamp": format_timestamp(self.clock()), "v": api.API_VERSION}
        system["sign"] = sign({**system, "360buy_param_json": param_json}, self._secret)
        if self.param_json_in == "query":
            response = self.send("POST", api.ROUTER_PATH, params={**system, "360buy_param_json": param_json})
        else:
            response = self.send("POST", api.ROUTER_PATH, params=system, data={"360buy_param_json": param_json})
        return unwrap(method, response)

    def refresh(self, oauth_url: str, refresh_token: str) -> Grant:
        """Trade the seller's refresh token for a new access token (JD OAuth 2)."""
        response = self.send("GET", oauth_url.rstrip("/") + api.OAUTH_REFRESH_PATH, params={
            "app_key": self.app_key, "app_secret": self._secret,
            "grant_type": "refresh_token", "refresh_token": refresh_token})
        body = Channel.json(response)
        if isinstance(body, dict) and isinstance(body.get("error_response"), dict):  # e.g. the call limit
            raise error_for(str(body["error_response"].get("code", "")), _message(body["error_response"]))
        code = str(body.get("code", "0")) if isinstance(body, dict) else "?"
        if response.status_code >= 400 or code != "0" or not body.get("access_token"):
            # A refused refresh needs a person to authorise the app again: permanent.
            raise Rejected(f"token refresh refused: {body.get('msg', 'no access_token') if isinstance(body, dict) else ''}",
                           code=code if code != "0" else str(response.status_code))
        self.access_token = body["access_token"]
        expires_in = body.get("expires_in")
        expires_at = self.clock() + timedelta(seconds=int(expires_in)) if expires_in else None
        return Grant(body["access_token"], body.get("refresh_token"), expires_at)


def unwrap(method: str, response: httpx.Response) -> dict[str, Any]:
    """The success body of ``method``, or the typed error JD's envelope describes."""
    body = Channel.json(response)
    if not isinstance(body, dict):
        raise Transient(f"{method}: response is not a JSON object", code="envelope")
    gateway = body.get("error_response")
    if isinstance(gateway, dict):
        raise error_for(str(gateway.get("code", "")), _message(gateway))
    if response.status_code >= 400:
        raise Rejected(f"{method}: HTTP {response.status_code}", code=str(response.status_code))
    root = body.get(api.response_key(method))
    if not isinstance(root, dict):
        # Neither success nor error: a proxy or a renamed method. Nothing says it applied or not.
        raise Transient(f"{method}: no {api.response_key(method)} in the response", code="envelope")
    raise_business_failure(root)
    return root


def raise_business_failure(root: dict[str, Any]) -> None:
    """JD hides business failures inside a 200 success root: surface them.

    Checked: the root's ``code`` (``"0"`` is success), ``apiResult.success``
    in any result object, and ``success: false`` on the root or a result object.
    """
    code = root.get("code")
    if code is not None and str(code) != "0":
        raise error_for(str(code), _message(root))
    for candidate in (root, *(v for v in root.values() if isinstance(v, dict))):
        result = candidate.get("apiResult")
        if isinstance(result, dict) and result.get("success") is False:
            raise error_for(str(result.get("numberCode") or result.get("englishErrCode") or "apiResult"),
                            _message(result))
        if candidate.get("success") is False:
            raise error_for(str(_first(candidate, "error_code", "errorCode", "resultCode", "code") or "failed"),
                            _message(candidate))


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def _message(mapping: dict[str, Any]) -> str | None:
    """JD's wording, English and Chinese when both are there."""
    english = _first(mapping, "en_desc", "english_err_code", "englishErrCode", "errorMessage", "message", "msg")
    chinese = _first(mapping, "zh_desc", "chinese_err_code", "chineseErrCode")
    if english and chinese and english != chinese:
        return f"{english} ({chinese})"
    return english or chinese
