"""The one table from WeChat ``errcode`` values to channelsync's typed errors.

Every WeChat answer carries ``errcode`` (0 = OK) and ``errmsg``, mostly with
HTTP 200. A few codes mean something else on the token call than on a business
call: there, 40001 "invalid credential" means the appid/secret pair is wrong
(nothing to refresh), so ``TOKEN_ERRORS`` overrides the class. A code missing
from the table becomes ``Rejected`` with WeChat's own code and words. The waits
of its rate limits depend on the clock (``WAITS``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from channelsync.sdk.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.times import BEIJING

#: 45011 "minute quota reached ... retry next minute": at most this long, until the next whole minute
MINUTE_QUOTA_WAIT = 60.0
#: 10020112 "SKU stock updated too often": short; the core coalesces pushes meanwhile
SKU_TOO_OFTEN_WAIT = 2.0

ERRORS = ErrorTable("WeChat", {
    -1: Transient,  # system busy, try again later
    40001: AuthExpired,  # invalid credential / token not the latest (at token time: bad secret, TOKEN_ERRORS)
    40002: Rejected,  # invalid grant_type
    40013: Rejected,  # invalid appid
    40014: AuthExpired,  # invalid access_token
    40066: Rejected,  # invalid url (no such API)
    40097: Rejected,  # invalid args
    40125: Rejected,  # invalid appsecret (what stable_token answers for a wrong secret)
    40164: Rejected,  # caller IP not in the app's API IP whitelist
    40243: Rejected,  # AppSecret frozen in the back office
    41001: AuthExpired,  # access_token missing: fetch one
    41002: Rejected,  # appid missing
    41004: Rejected,  # appsecret missing
    42001: AuthExpired,  # access_token expired
    43002: Rejected,  # require POST method
    44002: Rejected,  # empty post data
    45009: RateLimited,  # daily quota reached (also forced token refreshes): until Beijing midnight
    45011: RateLimited,  # minute quota reached: "retry next minute"
    47001: Rejected,  # data format error (body is not the JSON expected)
    48001: Rejected,  # api unauthorized: the app lacks the permission set
    10020004: Rejected,  # invalid time range (order list > 7 days, after-sales > 24 h)
    10020052: NotFound,  # product does not exist
    10020112: RateLimited,  # this SKU's stock was updated too often
    # Insufficient stock to subtract: the platform shows fewer units than the core
    # expects, because of sales not ingested yet (or a seller-centre edit). Nothing
    # was applied (``unapplied``); retried later the core computes the delta afresh from
    # ``expected``, which those orders lower once ingested (reconciliation repairs
    # a seller-centre edit). Rejected would park the push until a resync.
    10020219: Transient,
    10020289: Rejected,  # the product was never listed (listing/delisting refused)
}, rate_limit_wait=None, unapplied=("10020219",))

#: the token call: 40001 there means the appid/secret pair is wrong, nothing to refresh
TOKEN_ERRORS = ERRORS.merged({"40001": Rejected})


def seconds_to_next_minute(now: datetime) -> float:
    """Seconds until the next whole minute, when WeChat's minute quotas reset ("retry next minute")."""
    return max(1.0, MINUTE_QUOTA_WAIT - (now.second + now.microsecond / 1e6))


def seconds_to_beijing_midnight(now: datetime) -> float:
    """Seconds until the next 00:00 in Beijing, when WeChat's daily quotas reset."""
    local = now.astimezone(BEIJING)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())


#: errcode -> the wait its ``RateLimited`` carries, from now
WAITS: dict[str, Callable[[datetime], float]] = {
    "45009": seconds_to_beijing_midnight,
    "45011": seconds_to_next_minute,
    "10020112": lambda now: SKU_TOO_OFTEN_WAIT,
}


def error_for(errcode: int, errmsg: str, *, path: str, token_call: bool = False,
              clock: Callable[[], datetime] | None = None) -> ChannelError:
    """The typed error for one WeChat error answer, keeping its code and words.

    ``path`` names the API in the message; the access token is never part of it.
    """
    wait = WAITS.get(str(errcode))
    return (TOKEN_ERRORS if token_call else ERRORS).error(
        errcode, f"{path}: {errmsg or 'WeChat error'} (errcode {errcode})",
        retry_after=wait((clock or (lambda: datetime.now(timezone.utc)))()) if wait else None)
