"""A signed router: the API style Taobao (TOP), JD (JOS) and Pinduoduo share.

One gateway path; the API name is a parameter (``method``, PDD's ``type``);
the app key, the seller's token and a timestamp travel as system parameters;
a signature covers every parameter, sorted by key and concatenated
``key + value``, wrapped in the app secret (MD5) or keyed with it (HMAC),
upper-case hex. Success comes back under a root named after the API, failure
as ``{"error_response": {...}}`` — with HTTP 200 either way.

A platform subclasses ``SignedRouter`` and *declares* what differs: parameter
names, fixed system parameters, the time format, the response root, the error
envelope's field names and its ``ErrorTable``. The same class is the
simulator's reference (``channelsync.sim.router.RouterGateway``), so client and
simulator cannot drift apart. ``execute()`` is exactly one HTTP call: nothing
here retries, sleeps or pages; failures are raised as typed errors and the core
decides what to do with them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import ChannelError, Rejected, Transient
from channelsync.sdk.errortable import ErrorTable

#: ``Channel.call``: one HTTP request, transport failures already typed
Send = Callable[..., httpx.Response]
FORM = "application/x-www-form-urlencoded;charset=utf-8"
SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


def signing_string(params: Mapping[str, object]) -> str:
    """The sorted ``k1v1k2v2...`` text a signature covers: every parameter but
    ``sign``, empty values left out (no router client sends an empty one)."""
    return "".join(f"{key}{value}" for key, value in sorted(params.items())
                   if key != "sign" and value not in (None, ""))


def sign(params: Mapping[str, object], secret: str, sign_method: str = "md5") -> str:
    """The ``sign`` value: ``md5`` = MD5(secret + s + secret); ``hmac`` = HMAC-MD5(secret, s);
    ``hmac-sha256`` = HMAC-SHA256(secret, s); over UTF-8, upper-case hex."""
    text, key = signing_string(params).encode("utf-8"), secret.encode("utf-8")
    if sign_method == "md5":
        return hashlib.md5(key + text + key).hexdigest().upper()
    if sign_method == "hmac":
        return hmac.new(key, text, hashlib.md5).hexdigest().upper()
    if sign_method == "hmac-sha256":
        return hmac.new(key, text, hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unknown sign_method {sign_method!r} (expected {', '.join(SIGN_METHODS)})")


def param_text(value: Any) -> str:
    """A business value as the routers expect it: booleans lower-case, lists and
    objects as compact JSON (PDD's ``sku_price_list``), everything else ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class SignedRouter:
    """The client of one router-style platform. Subclasses declare; ``execute`` does the rest.

    ``send``: the adapter's ``Channel.call``. ``token``: the seller's
    authorisation, or a function answering the current one (``auth.token``: the
    ``TokenAuth`` then renews it shortly before it expires). ``options``: the
    platform's own switches (a timestamp form, where a parameter goes), read by
    the subclass's hooks.
    """

    # --- what a platform declares ---------------------------------------------------
    #: the gateway path under the channel's ``base_url``
    path: ClassVar[str] = "/router"
    #: the platform's error codes; the same table the simulator answers from
    errors: ClassVar[ErrorTable] = ErrorTable("router", {})
    #: system parameter names
    method_key: ClassVar[str] = "method"
    app_key_key: ClassVar[str] = "app_key"
    token_key: ClassVar[str] = "access_token"
    #: sent as ``sign_method`` when set (TOP); None: the platform knows only MD5 and takes no such parameter
    sign_method_key: ClassVar[str | None] = None
    sign_methods: ClassVar[tuple[str, ...]] = ("md5",)
    #: system parameters every call carries as they are (``v``, ``format``, ``data_type``)
    fixed: ClassVar[dict[str, str]] = {}
    #: the parameter carrying the API version, when the gateway checks one
    version_key: ClassVar[str | None] = None
    #: True: every parameter in the form body (PDD); False: system parameters in the
    #: query string, business ones in the body (TOP, JOS), as the official SDKs send them
    all_in_body: ClassVar[bool] = False
    #: the error envelope's field names: code, words, sub-code, sub-code words
    error_fields: ClassVar[tuple[str, str, str, str]] = ("code", "msg", "sub_code", "sub_msg")

    def __init__(self, send: Send, *, app_key: str, secret: str, token: str | Callable[[], str] | None = None,
                 sign_method: str = "md5", clock: Callable[[], datetime] | None = None,
                 **options: Any) -> None:
        if sign_method not in self.sign_methods:
            raise Rejected(f"sign_method must be one of {', '.join(self.sign_methods)}", code="sign_method")
        self.send = send
        self.app_key = app_key
        self._secret = secret
        self.token = token
        self.sign_method = sign_method
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.options = options

    # --- hooks a platform overrides -------------------------------------------------------
    def timestamp(self, now: datetime) -> str:
        """The ``timestamp`` system parameter (default: epoch seconds)."""
        return str(int(now.timestamp()))

    @classmethod
    def parse_timestamp(cls, text: str) -> datetime:
        """A ``timestamp`` as sent; ValueError when it is none the platform accepts (default:
        epoch seconds, or milliseconds when it has 13 digits or more, as several SDKs send)."""
        digits = str(text).strip()
        if not digits.isdigit():
            raise ValueError(f"not an epoch timestamp: {text!r}")
        return datetime.fromtimestamp(int(digits) / (1000 if len(digits) >= 13 else 1), timezone.utc)

    @classmethod
    def response_key(cls, method: str) -> str:
        """The root a success answer of ``method`` sits under (default ``a.b.c`` -> ``a_b_c_response``)."""
        return method.replace(".", "_") + "_response"

    def business(self, params: Mapping[str, Any]) -> dict[str, str]:
        """Business parameters as sent and signed; None values are left out."""
        return {key: param_text(value) for key, value in params.items() if value is not None}

    @classmethod
    def check_root(cls, method: str, root: dict[str, Any]) -> None:
        """Raise the typed error for a failure hidden inside a success root (JD does this)."""

    @classmethod
    def error_of(cls, envelope: Mapping[str, Any]) -> ChannelError:
        """The typed error for one ``error_response`` object, through ``errors``."""
        code, words, sub_code, sub_words = (envelope.get(name) for name in cls.error_fields)
        return cls.errors.error(code, None if words in (None, "") else str(words), sub_code=sub_code,
                                detail=None if sub_words in (None, "") else str(sub_words))

    @classmethod
    def error_envelope(cls, code: object, message: str | None = None, *, sub_code: str | None = None,
                       sub_message: str | None = None, **extra: Any) -> dict[str, Any]:
        """The body a gateway answers ``code`` with (for simulators): ``error_of`` reads it back."""
        code_field, words_field, sub_field, sub_words_field = cls.error_fields
        body: dict[str, Any] = {code_field: code,
                                words_field: message or cls.errors.entry(code)[1] or f"{cls.errors.platform} error"}
        if sub_code:
            body[sub_field] = sub_code
        if sub_message:
            body[sub_words_field] = sub_message
        return {"error_response": {**body, **extra}}

    # --- one call ---------------------------------------------------------------------------
    def system(self, method: str, *, with_token: bool = True) -> dict[str, str]:
        """The unsigned system parameters of one call."""
        params = {self.method_key: method, self.app_key_key: self.app_key,
                  "timestamp": self.timestamp(self.clock()), **self.fixed}
        if self.sign_method_key:
            params[self.sign_method_key] = self.sign_method
        token = (self.token() if callable(self.token) else self.token) if with_token else None
        if token:
            params[self.token_key] = token
        return params

    def signed(self, method: str, params: Mapping[str, Any], *,
               with_token: bool = True) -> tuple[dict[str, str], dict[str, str]]:
        """``(system, business)`` parameters of one call, ``sign`` added to the system ones."""
        business = self.business(params)
        system = self.system(method, with_token=with_token)
        system["sign"] = sign({**system, **business}, self._secret, self.sign_method)
        return system, business

    def placement(self, system: dict[str, str], business: dict[str, str]) -> dict[str, Any]:
        """``httpx`` request arguments: where each parameter goes on the wire."""
        if self.all_in_body:
            return {"content": urlencode({**system, **business}).encode("ascii"), "headers": {"Content-Type": FORM}}
        return {"params": system, "content": urlencode(business).encode("ascii"), "headers": {"Content-Type": FORM}}

    def execute(self, method: str, params: Mapping[str, Any] | None = None, *,
                with_token: bool = True) -> dict[str, Any]:
        """Call ``method`` with business ``params``: the object under its success root.

        Platform failures raise the ``errors`` table's typed errors; an answer that
        is neither success nor error raises ``Transient`` (nothing says it applied).
        """
        system, business = self.signed(method, params or {}, with_token=with_token)
        return self.unwrap(method, self.send("POST", self.path, **self.placement(system, business)))

    def unwrap(self, method: str, response: httpx.Response) -> dict[str, Any]:
        """The success object of ``method``, or the typed error the envelope describes."""
        body = Channel.json(response)
        if not isinstance(body, dict):
            raise Transient(f"{method}: response is not a JSON object", code="envelope")
        error = body.get("error_response")
        if isinstance(error, dict):
            raise self.error_of(error)
        if response.status_code >= 400:
            raise Rejected(f"{method}: HTTP {response.status_code}", code=str(response.status_code))
        key = self.response_key(method)
        root = body.get(key)
        if not isinstance(root, dict):
            # A proxy page or a renamed method: nothing says whether it applied.
            raise Transient(f"{method}: no {key} in the response", code="envelope")
        self.check_root(method, root)
        return root
