"""TOP, Taobao's router, declared on the shared signed router (platforms.md, "Taobao / Tmall").

System parameters in the query string, business ones in the form body (the
official SDKs), ``sign_method`` md5 | hmac | hmac-sha256, timestamps
``yyyy-MM-dd HH:mm:ss`` GMT+8 (or epoch milliseconds, as the official Python
SDK sends them), success under ``<method without "taobao.">_response``.
"""

from __future__ import annotations

from datetime import datetime

from channelsync.sdk import times
from channelsync.sdk.errors import (
    AuthExpired,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
)
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.router import SIGN_METHODS, SignedRouter
from channelsync.sdk.times import BEIJING

#: ``code`` or ``sub_code`` (prefix) -> error. The sub-code is the specific reason
#: (code 15 "Remote service error" covers a missing item and a backend timeout alike).
ERRORS = ErrorTable("TOP", {
    "isv.item-not-exist": NotFound,  # isv.item-not-exist:invalid-numIid-or-iid
    "isv.item-is-delete": NotFound,
    "isv.sku-not-exist": NotFound,
    "isv.trade-not-exist": NotFound,
    "isv.": Rejected,  # any other business refusal (invalid parameter, wrong state, ...)
    "isp.": Transient,  # TOP's own backends: timeouts, unavailable
    "accesscontrol.": RateLimited,  # accesscontrol.limited-by-app-access-count and kin
    "invalid-sessionkey": AuthExpired,
    "sessionkey-expired": AuthExpired,
    "1": (Transient, "Unknown Error"),
    "7": (RateLimited, "App Call Limited"),
    "10": (Transient, "Service Currently Unavailable"),
    "11": (Rejected, "Insufficient ISV Permissions"),
    "12": (Rejected, "Insufficient User Permissions"),
    "15": (Rejected, "Remote service error"),  # without a sub_code we know
    "21": (Rejected, "Missing Method"),
    "22": (Rejected, "Invalid Method"),
    "24": (Rejected, "Missing Signature"),
    "25": (Rejected, "Invalid Signature"),
    "26": (Rejected, "Missing Session"),  # a configuration mistake, not an expiry
    "27": (AuthExpired, "Invalid Session"),
    "28": (Rejected, "Missing App Key"),
    "29": (Rejected, "Invalid App Key"),
    "30": (Rejected, "Missing Timestamp"),  # unconfirmed number
    "31": (Rejected, "Invalid Timestamp"),  # also clock skew; unconfirmed number
    "32": (Rejected, "Missing Version"),
    "34": (Rejected, "Unsupported Version"),
    "40": (Rejected, "Missing Required Arguments"),
    "41": (Rejected, "Invalid Arguments"),
    "43": (Rejected, "Parameter Error"),
}, rate_limit_wait=5.0, wait_pattern=r"ban will last for (\d+(?:\.\d+)?) more seconds?")


class TopRouter(SignedRouter):
    """TOP's gateway. Option ``timestamp_format``: "datetime" (documented) or "millis"."""

    path = "/router/rest"
    errors = ERRORS
    token_key = "session"
    sign_method_key = "sign_method"
    sign_methods = SIGN_METHODS
    fixed = {"format": "json", "v": "2.0"}
    version_key = "v"

    def timestamp(self, now: datetime) -> str:
        if self.options.get("timestamp_format") == "millis":
            return format_millis(now)
        return format_time(now)

    @classmethod
    def parse_timestamp(cls, text: str) -> datetime:
        return parse_time(text)

    @classmethod
    def response_key(cls, method: str) -> str:
        """``taobao.items.onsale.get`` -> ``items_onsale_get_response``."""
        return super().response_key(method.removeprefix("taobao."))


def format_time(moment: datetime) -> str:
    """``2016-01-01 12:00:00`` in Beijing time: timestamps and business times alike."""
    return times.format_time(moment, BEIJING)


def format_millis(moment: datetime) -> str:
    """Epoch milliseconds, as the official Python SDK sends ``timestamp``."""
    return str(int(moment.timestamp() * 1000))


def parse_time(text: str) -> datetime:
    """A TOP time: ``yyyy-MM-dd HH:mm:ss`` (Beijing) or epoch milliseconds. ValueError otherwise."""
    text = str(text).strip()
    return times.parse_time(int(text) / 1000 if text.isdigit() else text, BEIJING)
