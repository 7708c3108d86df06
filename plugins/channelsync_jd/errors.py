"""The one table from JD error codes to channelsync's typed errors.

Gateway codes (``error_response.code``, strings) are JD's published list;
business codes come from result objects inside a ``..._responce`` root
(``apiResult``, ``sopjosshipment_result`` and the like). JD's business codes
differ per API and are mostly undocumented: the ``*_NOT_EXIST`` /
``PARAM_ERROR`` ones below are the simulator's stand-ins, and any code not in
the table becomes ``Rejected`` carrying JD's own code and message.
"""

from __future__ import annotations

from channelsync.sdk.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient

# Business codes the simulator uses (and the adapter recognises).
SKU_NOT_EXIST = "SKU_NOT_EXIST"
WARE_NOT_EXIST = "WARE_NOT_EXIST"
ORDER_NOT_EXIST = "ORDER_NOT_EXIST"
ORDER_STATE_ERROR = "ORDER_STATE_ERROR"
PARAM_ERROR = "PARAM_ERROR"
FLOW_CONTROL = "ISP_FLOW_CONTROL_LIMIT"

#: JD publishes no wait for its call limits; its quotas are per second, so
#: one second is the honest guess (the core adds jitter).
RATE_LIMIT_WAIT = 1.0

#: code -> (error class, English description used when JD sent none)
ERRORS: dict[str, tuple[type[ChannelError], str]] = {
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
}


def error_for(code: str, message: str | None) -> ChannelError:
    """The typed error for a JD code, keeping JD's code and wording (never a secret)."""
    code = str(code)
    cls, default = ERRORS.get(code, (Rejected, "JOS error"))
    text = message or default
    if cls is RateLimited:
        return RateLimited(text, retry_after=RATE_LIMIT_WAIT, code=code)
    if cls is Transient:
        return Transient(text, code=code, maybe_applied=True)
    return cls(text, code=code)
