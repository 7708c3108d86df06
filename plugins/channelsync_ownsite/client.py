"""A WooCommerce REST v3 client: authentication per scheme, envelopes, the error table.

One ``request()`` is one HTTP call. Nothing here retries, sleeps or pages:
failures are raised as channelsync's typed errors (``errors.ERRORS``) and the
core decides what to do with them. Secrets never enter an error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable

import httpx

from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import AuthExpired
from channelsync_ownsite import api
from channelsync_ownsite.errors import MSG_BAD_TIMESTAMP, error_for
from channelsync_ownsite.signing import DEFAULT_METHOD, METHODS, basic_header, oauth_params

#: ``Channel.call``: one HTTP request, transport errors, 5xx and 429 already typed
Send = Callable[..., httpx.Response]

#: how the client authenticates: ``auto`` follows WooCommerce (Basic over https, OAuth over http)
AUTH_MODES = ("auto", "oauth", "basic", "query")


@dataclass(frozen=True)
class Reply:
    """A successful response: the JSON body and WooCommerce's paging headers."""

    body: Any
    total: int | None = None
    total_pages: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class WooClient:
    """Signs and sends calls to ``{base_url}/wp-json/wc/v3/...``."""

    def __init__(self, send: Send, *, base_url: str, consumer_key: str, consumer_secret: str,
                 auth: str = "auto", signature_method: str = DEFAULT_METHOD,
                 clock: Callable[[], datetime] | None = None) -> None:
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {auth!r}")
        if signature_method not in METHODS:
            raise ValueError(f"signature_method must be one of {', '.join(METHODS)}, not {signature_method!r}")
        self.send = send
        self.base_url = base_url.rstrip("/")
        self.consumer_key = consumer_key
        self._secret = consumer_secret
        self.auth = auth
        self.signature_method = signature_method
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        #: seconds to add to our clock to get the shop's (learnt from a refused timestamp)
        self.clock_offset = 0.0

    def url(self, path: str) -> str:
        return self.base_url + api.API_PREFIX + path.lstrip("/")

    def scheme(self) -> str:
        """The authentication actually used: WooCommerce only takes Basic over HTTPS."""
        if self.auth != "auto":
            return self.auth
        return "basic" if self.base_url.lower().startswith("https://") else "oauth"

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None) -> Reply:
        """One call; a WooCommerce error object raises its typed error."""
        url = self.url(path)
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        headers: dict[str, str] = {}
        scheme = self.scheme()
        if scheme == "basic":
            headers["Authorization"] = basic_header(self.consumer_key, self._secret)
        elif scheme == "query":
            query |= {"consumer_key": self.consumer_key, "consumer_secret": self._secret}
        else:
            timestamp = int(self.clock().timestamp() + self.clock_offset)
            query = oauth_params(method, url, query, self.consumer_key, self._secret, timestamp=timestamp,
                                 signature_method=self.signature_method)
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if json is not None:
            kwargs["json"] = json
        response = self.send(method, url, **kwargs)
        if response.status_code >= 400:
            raise self._error(response)
        body = Channel.json(response)
        return Reply(body, _int_header(response, api.TOTAL_HEADER), _int_header(response, api.TOTAL_PAGES_HEADER),
                     dict(response.headers))

    def _error(self, response: httpx.Response) -> Exception:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):  # an HTML page from a firewall or proxy
            return error_for(None, f"HTTP {response.status_code} from {response.request.url.path}",
                             response.status_code)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        status = data.get("status") if isinstance(data.get("status"), int) else response.status_code
        error = error_for(body.get("code"), _text(body.get("message")), status)
        if isinstance(error, AuthExpired) and (error.message or "").startswith(MSG_BAD_TIMESTAMP.rstrip(".")):
            self._adopt_server_clock(response)
        return error

    def _adopt_server_clock(self, response: httpx.Response) -> None:
        """Sign with the shop's clock from now on: its ``Date`` header says what it is."""
        try:
            server = parsedate_to_datetime(response.headers.get("Date", ""))
        except (TypeError, ValueError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=timezone.utc)
        self.clock_offset = (server - self.clock()).total_seconds()


def _param(value: Any) -> str:
    if isinstance(value, bool):  # WordPress reads "true"/"false"
        return "true" if value else "false"
    return str(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None
