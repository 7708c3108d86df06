"""The one table from WeChat ``errcode`` values to channelsync's typed errors.

Every WeChat answer carries ``errcode`` (0 = OK) and ``errmsg``, mostly with
HTTP 200. A few codes mean something else on the token call than on a business
call: there, 40001 "invalid credential" means the appid/secret pair is wrong
(nothing to refresh), so ``Rule.at_token`` overrides the class. A code missing
from the table becomes ``Rejected`` with WeChat's own code and words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from channelsync.sdk.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.times import BEIJING

#: 45011 "minute quota reached ... retry next minute": at most this long, until the next whole minute
MINUTE_QUOTA_WAIT = 60.0
#: 10020112 "SKU stock updated too often": short; the core coalesces pushes meanwhile
SKU_TOO_OFTEN_WAIT = 2.0


@dataclass(frozen=True)
class Rule:
    """How one errcode is raised.

    ``retry_after``: seconds for ``RateLimited`` ("minute" = until the next whole minute,
    "daily" = until Beijing midnight, when WeChat resets daily quotas). ``at_token``: the class on the token call,
    where it differs. ``maybe_applied``: for ``Transient``, whether the call may
    have taken effect.
    """

    error: type[ChannelError]
    retry_after: float | str | None = None
    at_token: type[ChannelError] | None = None
    maybe_applied: bool = True


ERRORS: dict[int, Rule] = {
    -1: Rule(Transient),  # system busy, try again later
    40001: Rule(AuthExpired, at_token=Rejected),  # invalid credential / token not the latest; at token time: bad secret
    40002: Rule(Rejected),  # invalid grant_type
    40013: Rule(Rejected),  # invalid appid
    40014: Rule(AuthExpired),  # invalid access_token
    40066: Rule(Rejected),  # invalid url (no such API)
    40097: Rule(Rejected),  # invalid args
    40125: Rule(Rejected),  # invalid appsecret (what stable_token answers for a wrong secret)
    40164: Rule(Rejected),  # caller IP not in the app's API IP whitelist
    40243: Rule(Rejected),  # AppSecret frozen in the back office
    41001: Rule(AuthExpired),  # access_token missing: fetch one
    41002: Rule(Rejected),  # appid missing
    41004: Rule(Rejected),  # appsecret missing
    42001: Rule(AuthExpired),  # access_token expired
    43002: Rule(Rejected),  # require POST method
    44002: Rule(Rejected),  # empty post data
    45009: Rule(RateLimited, retry_after="daily"),  # daily quota reached (also forced token refreshes)
    45011: Rule(RateLimited, retry_after="minute"),  # minute quota reached: "retry next minute"
    47001: Rule(Rejected),  # data format error (body is not the JSON expected)
    48001: Rule(Rejected),  # api unauthorized: the app lacks the permission set
    10020004: Rule(Rejected),  # invalid time range (order list > 7 days, after-sales > 24 h)
    10020052: Rule(NotFound),  # product does not exist
    10020112: Rule(RateLimited, retry_after=SKU_TOO_OFTEN_WAIT),  # this SKU's stock was updated too often
    # Insufficient stock to subtract: the platform shows fewer units than the core
    # expects, because of sales not ingested yet (or a seller-centre edit). Nothing
    # was applied; retried later the core computes the delta afresh from
    # ``expected``, which those orders lower once ingested (reconciliation repairs
    # a seller-centre edit). Rejected would park the push until a resync.
    10020219: Rule(Transient, maybe_applied=False),
    10020289: Rule(Rejected),  # the product was never listed (listing/delisting refused)
}


def seconds_to_next_minute(now: datetime) -> float:
    """Seconds until the next whole minute, when WeChat's minute quotas reset ("retry next minute")."""
    return max(1.0, MINUTE_QUOTA_WAIT - (now.second + now.microsecond / 1e6))


def seconds_to_beijing_midnight(now: datetime) -> float:
    """Seconds until the next 00:00 in Beijing, when WeChat's daily quotas reset."""
    local = now.astimezone(BEIJING)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())


def error_for(errcode: int, errmsg: str, *, path: str, token_call: bool = False,
              clock: Callable[[], datetime] | None = None) -> ChannelError:
    """The typed error for one WeChat error answer, keeping its code and words.

    ``path`` names the API in the message; the access token is never part of it.
    """
    rule = ERRORS.get(int(errcode), Rule(Rejected))
    cls = (rule.at_token or rule.error) if token_call else rule.error
    message = f"{path}: {errmsg or 'WeChat error'} (errcode {errcode})"
    code = str(errcode)
    if cls is RateLimited:
        wait = rule.retry_after
        if wait == "minute":
            wait = seconds_to_next_minute((clock or (lambda: datetime.now(timezone.utc)))())
        if wait == "daily":
            wait = seconds_to_beijing_midnight((clock or (lambda: datetime.now(timezone.utc)))())
        return RateLimited(message, retry_after=float(wait) if wait is not None else None, code=code)
    if cls is Transient:
        return Transient(message, code=code, maybe_applied=rule.maybe_applied)
    return cls(message, code=code)
