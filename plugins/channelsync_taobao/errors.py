"""The one table from TOP error codes to channelsync's typed errors.

TOP answers errors with HTTP 200 and an ``error_response`` carrying a numeric
``code`` and, for most, a ``sub_code``. The ``sub_code`` says more (code 15
"Remote service error" covers everything from a missing item to a backend
timeout), so it is looked up first, by prefix, and the ``code`` second. A code
in neither becomes ``Rejected`` with TOP's own code and words.
"""

from __future__ import annotations

import re

from channelsync.sdk.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient

#: a ban of unknown length: TOP states one in ``sub_msg`` almost always
DEFAULT_BAN_SECONDS = 5.0
_BAN = re.compile(r"ban will last for (\d+(?:\.\d+)?) more seconds?", re.IGNORECASE)

#: key: a ``sub_code`` prefix (checked first, longest match wins) or a ``code``
ERRORS: dict[str, type[ChannelError]] = {
    # sub_codes
    "isv.item-not-exist": NotFound,  # isv.item-not-exist:invalid-numIid-or-iid
    "isv.item-is-delete": NotFound,  # isv.item-is-delete:invalid-numIid-or-iid
    "isv.sku-not-exist": NotFound,
    "isv.trade-not-exist": NotFound,
    "isv.": Rejected,  # any other business refusal (invalid parameter, wrong state, ...)
    "isp.": Transient,  # TOP's own backends: timeouts, unavailable
    "accesscontrol.": RateLimited,  # accesscontrol.limited-by-app-access-count and kin
    "invalid-sessionkey": AuthExpired,
    "sessionkey-expired": AuthExpired,
    # codes
    "1": Transient,  # Unknown Error
    "7": RateLimited,  # App Call Limited
    "10": Transient,  # Service Currently Unavailable
    "11": Rejected,  # Insufficient ISV Permissions
    "12": Rejected,  # Insufficient User Permissions
    "13": Rejected,  # Insufficient Partner Permissions
    "15": Rejected,  # Remote Service Error without a sub_code we know
    "21": Rejected,  # Missing Method
    "22": Rejected,  # Invalid Method
    "23": Rejected,  # Invalid Format
    "24": Rejected,  # Missing Signature
    "25": Rejected,  # Invalid Signature
    "26": Rejected,  # Missing Session: a configuration mistake, not an expiry
    "27": AuthExpired,  # Invalid Session
    "28": Rejected,  # Missing App Key
    "29": Rejected,  # Invalid App Key
    "30": Rejected,  # Missing Timestamp (unconfirmed number)
    "31": Rejected,  # Invalid Timestamp, also clock skew (unconfirmed number)
    "32": Rejected,  # Missing Version
    "34": Rejected,  # Unsupported Version
    "40": Rejected,  # Missing Required Arguments
    "41": Rejected,  # Invalid Arguments
    "43": Rejected,  # Parameter Error
}


def classify(code: str, sub_code: str | None) -> type[ChannelError]:
    """The error class for a TOP ``code`` / ``sub_code`` pair."""
    if sub_code:
        prefixes = [key for key in ERRORS if not key.isdigit() and sub_code.startswith(key)]
        if prefixes:
            return ERRORS[max(prefixes, key=len)]
    return ERRORS.get(str(code), Rejected)


def ban_seconds(sub_msg: str | None) -> float:
    """The wait in "This ban will last for N more seconds", or a default."""
    match = _BAN.search(sub_msg or "")
    return float(match.group(1)) if match else DEFAULT_BAN_SECONDS


def error_for(error: dict) -> ChannelError:
    """The typed error for one ``error_response`` object, keeping TOP's code and words.

    ``code`` on the error is the ``sub_code`` when TOP sent one (it is the
    specific reason), else the numeric code; the message carries both.
    """
    code = str(error.get("code", ""))
    sub_code = str(error["sub_code"]) if error.get("sub_code") else None
    sub_msg = str(error["sub_msg"]) if error.get("sub_msg") else None
    words = str(error.get("msg") or "TOP error")
    message = f"{words} (code {code})" + (f": {sub_msg}" if sub_msg else "")
    cls = classify(code, sub_code)
    kept = sub_code or code
    if cls is RateLimited:
        return RateLimited(message, retry_after=ban_seconds(sub_msg), code=kept)
    if cls is Transient:
        return Transient(message, code=kept, maybe_applied=True)
    return cls(message, code=kept)
