"""The retry policy: what is retried inline, how long it waits, when it gives up."""

from __future__ import annotations

import random

import pytest

from channelsync.sdk.errors import (
    AuthExpired,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
    UnexpectedPayload,
)
from channelsync.sync import retry


class Script:
    """A platform call that raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class FakeBucket:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)

    def limited(self, retry_after: float | None = None) -> None:
        """What the core tells the budget on a rate-limited answer (it pauses and slows)."""
        self.pauses.append(retry_after)


@pytest.fixture
def no_jitter(monkeypatch):
    """Jitter drawn as its lower bound, so waits are exact."""
    monkeypatch.setattr(random, "uniform", lambda a, b: a)


def test_success_first_time_neither_sleeps_nor_retries():
    fn, sleeps = Script(), Sleeps()
    assert retry.call(fn, sleep=sleeps) == "ok"
    assert fn.calls == 1 and sleeps.waits == []


def test_retryable_errors_are_retried_with_backoff(no_jitter):
    fn, sleeps = Script(Transient("502"), Transient("timeout")), Sleeps()
    assert retry.call(fn, sleep=sleeps, attempts=4) == "ok"
    assert fn.calls == 3
    assert sleeps.waits == [0.5, 1.0]  # backoff(1), backoff(2)


def test_gives_up_after_attempts_and_raises_the_last_error():
    errors = [Transient(f"busy {i}") for i in range(5)]
    fn, sleeps = Script(*errors), Sleeps()
    with pytest.raises(Transient) as info:
        retry.call(fn, sleep=sleeps, attempts=3)
    assert info.value is errors[2]
    assert fn.calls == 3 and len(sleeps.waits) == 2


@pytest.mark.parametrize("error", [Rejected("bad value"), NotFound("gone"), RuntimeError("adapter bug")])
def test_permanent_errors_propagate_at_once(error):
    fn, sleeps = Script(error), Sleeps()
    with pytest.raises(type(error)) as info:
        retry.call(fn, sleep=sleeps)
    assert info.value is error
    assert fn.calls == 1 and sleeps.waits == []


@pytest.mark.parametrize("error", [KeyError("items"), TypeError("'NoneType' object is not subscriptable"),
                                   ValueError("invalid literal for int()")])
def test_a_translation_error_is_an_unexpected_payload_retried_like_a_transient(error):
    fn, sleeps = Script(error, error, error, error), Sleeps()
    with pytest.raises(UnexpectedPayload) as info:
        retry.call(fn, sleep=sleeps)
    assert str(info.value).startswith("[payload] unexpected payload (") and type(error).__name__ in str(info.value)
    assert info.value.__cause__ is error and fn.calls == 4


def test_a_payload_that_comes_right_on_the_retry_succeeds():
    fn, sleeps = Script(KeyError("order")), Sleeps()
    assert retry.call(fn, sleep=sleeps) == "ok" and fn.calls == 2


def test_auth_expired_refreshes_once_and_retries_without_waiting():
    refreshed: list[bool] = []
    fn, sleeps = Script(AuthExpired("token expired")), Sleeps()
    assert retry.call(fn, refresh_auth=lambda: refreshed.append(True), sleep=sleeps) == "ok"
    assert refreshed == [True]
    assert fn.calls == 2
    assert sum(sleeps.waits) == 0


def test_a_second_auth_expired_propagates():
    refreshed: list[bool] = []
    second = AuthExpired("still expired")
    fn, sleeps = Script(AuthExpired("expired"), second), Sleeps()
    with pytest.raises(AuthExpired) as info:
        retry.call(fn, refresh_auth=lambda: refreshed.append(True), sleep=sleeps, attempts=5)
    assert info.value is second
    assert refreshed == [True] and fn.calls == 2


def test_a_second_auth_expired_propagates_even_after_other_retries():
    refreshed: list[bool] = []
    fn = Script(AuthExpired("expired"), Transient("busy"), AuthExpired("again"))
    with pytest.raises(AuthExpired):
        retry.call(fn, refresh_auth=lambda: refreshed.append(True), sleep=Sleeps(), attempts=10)
    assert refreshed == [True] and fn.calls == 3


def test_auth_expired_without_a_refresh_propagates_at_once():
    fn = Script(AuthExpired("expired"))
    with pytest.raises(AuthExpired):
        retry.call(fn, sleep=Sleeps())
    assert fn.calls == 1


def test_a_failing_refresh_propagates_its_own_error():
    def refresh():
        raise Rejected("refresh token revoked")

    fn = Script(AuthExpired("expired"))
    with pytest.raises(Rejected, match="revoked"):
        retry.call(fn, refresh_auth=refresh, sleep=Sleeps())
    assert fn.calls == 1


def test_rate_limited_with_retry_after_pauses_the_bucket_and_does_not_sleep_itself():
    bucket, sleeps = FakeBucket(), Sleeps()
    fn = Script(RateLimited(retry_after=7))
    assert retry.call(fn, bucket=bucket, sleep=sleeps) == "ok"
    assert bucket.pauses == [7]
    assert sum(sleeps.waits) == 0  # the bucket holds this caller back along with every other
    assert fn.calls == 2


def test_rate_limited_with_retry_after_and_no_bucket_sleeps_that_long():
    sleeps = Sleeps()
    assert retry.call(Script(RateLimited(retry_after=7)), sleep=sleeps) == "ok"
    assert len(sleeps.waits) == 1 and 7 <= sleeps.waits[0] <= 7.25


def test_rate_limited_without_retry_after_slows_the_bucket_which_paces_the_retry(no_jitter):
    bucket, sleeps = FakeBucket(), Sleeps()
    assert retry.call(Script(RateLimited()), bucket=bucket, sleep=sleeps) == "ok"
    assert bucket.pauses == [None]  # the budget lowers its rate and paces this caller with every other
    assert sleeps.waits == [0.0]


def test_rate_limited_without_a_bucket_backs_off(no_jitter):
    sleeps = Sleeps()
    assert retry.call(Script(RateLimited()), sleep=sleeps) == "ok"
    assert sleeps.waits == [0.5]


def test_retry_if_narrows_what_is_retried():
    only_auth = lambda e: isinstance(e, AuthExpired)
    fn = Script(Transient("busy"))
    with pytest.raises(Transient):
        retry.call(fn, sleep=Sleeps(), retry_if=only_auth)
    assert fn.calls == 1

    refreshed: list[bool] = []
    fn = Script(AuthExpired("expired"))
    assert retry.call(fn, refresh_auth=lambda: refreshed.append(True), sleep=Sleeps(), retry_if=only_auth) == "ok"
    assert refreshed == [True]


def test_is_retryable():
    assert retry.is_retryable(Transient())
    assert retry.is_retryable(RateLimited())
    assert retry.is_retryable(AuthExpired())
    assert not retry.is_retryable(Rejected())
    assert not retry.is_retryable(NotFound())
    assert not retry.is_retryable(TimeoutError())  # only the adapters' own errors: they decide what is transient


def test_wait_for_honours_retry_after():
    for _ in range(50):
        assert 3 <= retry.wait_for(RateLimited(retry_after=3), attempt=9) <= 3.25


def test_wait_for_backs_off_otherwise(no_jitter):
    assert retry.wait_for(Transient(), attempt=3) == 2.0
    assert retry.wait_for(RateLimited(), attempt=1) == 0.5


def test_backoff_grows_exponentially_and_is_bounded(no_jitter):
    assert [retry.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert retry.backoff(0) == retry.backoff(1)  # attempts are 1-based; 0 is treated as the first
    assert retry.backoff(11) == 300.0
    assert retry.backoff(5000) == 300.0  # no overflow


def test_backoff_jitter_is_at_most_a_second():
    for n in range(1, 12):
        base = min(300.0, 0.5 * 2 ** (n - 1))
        for _ in range(20):
            assert base <= retry.backoff(n) <= min(300.0, base + 1.0)
