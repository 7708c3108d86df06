"""JOS, JD's router, declared on the shared signed router (platforms.md, "JD — JOS router API").

What differs from the base: business parameters travel as one JSON string,
``360buy_param_json`` (signed like any other parameter, where it sorts first),
in the form body or — option ``param_json_in="query"`` — the query string;
timestamps ``yyyy-MM-dd HH:mm:ss.SSS+0800``; success under
``<method>_responce`` (sic); gateway errors carry a string ``code`` and
English and Chinese words; business failures hide inside a success root.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from channelsync.sdk import times
from channelsync.sdk.errors import (
    AuthExpired,
    ChannelError,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
)
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.router import FORM, SignedRouter
from channelsync.sdk.times import BEIJING, PLAIN

# Business codes the simulator uses (and the adapter recognises): JD's own
# business codes differ per API and are mostly undocumented.
SKU_NOT_EXIST = "SKU_NOT_EXIST"
WARE_NOT_EXIST = "WARE_NOT_EXIST"
ORDER_NOT_EXIST = "ORDER_NOT_EXIST"
ORDER_STATE_ERROR = "ORDER_STATE_ERROR"
PARAM_ERROR = "PARAM_ERROR"
FLOW_CONTROL = "ISP_FLOW_CONTROL_LIMIT"  # unconfirmed

#: JD publishes no wait for its call limits; its quotas are per second, so one
#: second is the honest guess (the core adds jitter). Unknown codes: Rejected.
ERRORS = ErrorTable("JOS", {
    "2": (RateLimited, "App Call Limited"),
    FLOW_CONTROL: (RateLimited, "flow control limit"),
    "4": (Rejected, "Missing Version"),
    "5": (Rejected, "Unsupported Version"),
    "7": (Rejected, "Missing Timestamp"),
    "8": (Rejected, "Invalid Timestamp"),  # also clock skew beyond 6 minutes
    "11": (Rejected, "Missing Signature"),
    "12": (Rejected, "Invalid Signature"),
    "14": (Rejected, "Missing Method"),
    "15": (Rejected, "Invalid Method"),
    "18": (Rejected, "Missing access_token"),  # a configuration mistake, not an expiry
    "19": (AuthExpired, "Invalid access_token"),
    "20": (Rejected, "Missing App Key"),
    "21": (Rejected, "Invalid App Key"),
    "24": (Rejected, "Insufficient permissions"),
    "66": (Transient, "backend service unavailable"),  # unconfirmed code
    "67": (Transient, "backend service timeout"),  # unconfirmed code
    SKU_NOT_EXIST: (NotFound, "SKU does not exist"),
    WARE_NOT_EXIST: (NotFound, "ware does not exist"),
    ORDER_NOT_EXIST: (NotFound, "order does not exist"),
    ORDER_STATE_ERROR: (Rejected, "order state does not allow this"),
    PARAM_ERROR: (Rejected, "invalid parameter"),
}, rate_limit_wait=1.0)


class JosRouter(SignedRouter):
    """JD's gateway. Option ``param_json_in``: "body" (the Java SDK) or "query"."""

    path = "/routerjson"
    errors = ERRORS
    fixed = {"v": "2.0"}
    version_key = "v"

    def timestamp(self, now: datetime) -> str:
        return format_timestamp(now)

    @classmethod
    def parse_timestamp(cls, text: str) -> datetime:
        return parse_timestamp(text)

    @classmethod
    def response_key(cls, method: str) -> str:
        """``jingdong.pop.order.search`` -> ``jingdong_pop_order_search_responce`` (sic)."""
        return method.replace(".", "_") + "_responce"

    def business(self, params: Mapping[str, Any]) -> dict[str, str]:
        return {"360buy_param_json": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":"))}

    def placement(self, system: dict[str, str], business: dict[str, str]) -> dict[str, Any]:
        if self.options.get("param_json_in") == "query":
            return {"params": {**system, **business}}
        return {"params": system, "content": urlencode(business).encode("ascii"), "headers": {"Content-Type": FORM}}

    @classmethod
    def error_of(cls, envelope: Mapping[str, Any]) -> ChannelError:
        return ERRORS.error(str(envelope.get("code", "")), message(envelope))

    @classmethod
    def error_envelope(cls, code: object, text: str | None = None, *, sub_code: str | None = None,
                       sub_message: str | None = None, zh: str | None = None, **extra: Any) -> dict[str, Any]:
        english = text or ERRORS.entry(code)[1] or "JOS error"
        return {"error_response": {"code": str(code), "zh_desc": zh or english, "en_desc": english}}

    @classmethod
    def check_root(cls, method: str, root: dict[str, Any]) -> None:
        """JD hides business failures inside a 200 success root: surface them.

        Checked: the root's ``code`` (``"0"`` is success), ``apiResult.success``
        in any result object, and ``success: false`` on the root or a result object.
        """
        code = root.get("code")
        if code is not None and str(code) != "0":
            raise ERRORS.error(str(code), message(root))
        for candidate in (root, *(v for v in root.values() if isinstance(v, dict))):
            result = candidate.get("apiResult")
            if isinstance(result, dict) and result.get("success") is False:
                raise ERRORS.error(str(first(result, "numberCode", "englishErrCode") or "apiResult"), message(result))
            if candidate.get("success") is False:
                raise ERRORS.error(str(first(candidate, "error_code", "errorCode", "resultCode", "code") or "failed"),
                                   message(candidate))


def first(mapping: Mapping[str, Any], *keys: str) -> Any:
    return next((mapping[key] for key in keys if mapping.get(key) not in (None, "")), None)


def message(mapping: Mapping[str, Any]) -> str | None:
    """JD's wording, English and Chinese when both are there."""
    english = first(mapping, "en_desc", "english_err_code", "englishErrCode", "errorMessage", "message", "msg")
    chinese = first(mapping, "zh_desc", "chinese_err_code", "chineseErrCode")
    if english and chinese and english != chinese:
        return f"{english} ({chinese})"
    return english or chinese


def format_timestamp(moment: datetime) -> str:
    """``2021-05-07 09:20:39.683+0800``: the SDKs' form, in Beijing time."""
    local = moment.astimezone(BEIJING)
    return local.strftime(f"{PLAIN}.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def parse_timestamp(text: str) -> datetime:
    """Either accepted form (with or without milliseconds and zone); a time without a zone
    is Beijing time. ValueError otherwise."""
    return times.parse_time(str(text), BEIJING)
