"""The one retry policy: which errors are retried, how long to wait, when to stop.

Inline calls (polls, listing pages, CLI actions) retry a few times with
tenacity; outbox rows are not retried inline but rescheduled with
``backoff(attempt)`` so that one slow record never blocks the rest.
"""

from __future__ import annotations

import random
from typing import Callable, TypeVar

import tenacity

from channelsync.sdk.errors import (
    TRANSLATION_ERRORS,
    AuthExpired,
    ChannelError,
    ChannelsyncError,
    RateLimited,
    unexpected_payload,
)
from channelsync.sync.ratelimit import TokenBucket

T = TypeVar("T")

_WAIT = tenacity.wait_exponential_jitter(multiplier=0.5, max=300, jitter=1.0)


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1-based) of an outbox row: exponential, jittered."""
    state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = max(1, attempt)
    return float(_WAIT(state))


def wait_for(error: Exception, attempt: int) -> float:
    """How long to wait after ``error``: the platform's own wait wins when it gave one."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error.retry_after + random.uniform(0, 0.25)
    return backoff(attempt)


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, ChannelError) and error.retryable


def guarded(fn: Callable[[], T], where: str = "") -> Callable[[], T]:
    """``fn`` with a translation error (``KeyError``, ``TypeError``, ...) turned into the clear
    ``UnexpectedPayload``: the one place every adapter call's payload guard lives."""
    def run() -> T:
        try:
            return fn()
        except ChannelsyncError:
            raise
        except TRANSLATION_ERRORS as exc:
            raise unexpected_payload(exc, where) from exc
    return run


def call(fn: Callable[[], T], *, refresh_auth: Callable[[], None] | None = None,
         bucket: TokenBucket | None = None, attempts: int = 4,
         sleep: Callable[[float], None] | None = None,
         retry_if: Callable[[BaseException], bool] = is_retryable,
         on_error: Callable[[ChannelError], None] | None = None) -> T:
    """Run ``fn`` with the core's policy.

    ``RateLimited`` pauses the channel's whole budget and lowers its rate (so its
    other calls wait too); ``AuthExpired`` refreshes once and retries at once; other retryable
    errors back off; permanent errors propagate straight away. ``retry_if``
    narrows what is retried inline (the outbox retries only auth inline);
    ``on_error`` sees every failed attempt (the lane counts them by platform code).
    """
    refreshed = False

    def before_sleep(state: tenacity.RetryCallState) -> None:
        nonlocal refreshed
        error = state.outcome.exception()
        if isinstance(error, AuthExpired):
            if refreshed or refresh_auth is None:
                raise error
            refreshed = True
            refresh_auth()
        elif isinstance(error, RateLimited) and bucket is not None:
            bucket.limited(error.retry_after)  # the whole channel slows down, not just this call

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception()
        if isinstance(error, AuthExpired):
            return 0.0
        if isinstance(error, RateLimited) and bucket is not None:
            return 0.0  # the bucket already holds every caller back, at its lowered rate
        return wait_for(error, state.attempt_number)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(retry_if),
        stop=tenacity.stop_after_attempt(attempts),
        wait=wait,
        before_sleep=before_sleep,
        reraise=True,
        **({"sleep": sleep} if sleep else {}),
    )
    guarded_fn = guarded(fn)
    if on_error is None:
        return retrying(guarded_fn)

    def attempt() -> T:
        try:
            return guarded_fn()
        except ChannelError as exc:
            on_error(exc)
            raise

    return retrying(attempt)
