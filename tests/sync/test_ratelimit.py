"""TokenBucket with a fake clock: no real sleeping."""

from __future__ import annotations

import threading
import time

import pytest

from channelsync.sync.ratelimit import CUT, NEAR_CUT, TokenBucket


class FakeTime:
    """A clock that only moves when someone sleeps (or the test says so)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the bucket must never sleep for nothing"
        self.sleeps.append(seconds)
        self.now += seconds

    def bucket(self, rate: float, burst: int = 1) -> TokenBucket:
        return TokenBucket(rate, burst, clock=self.clock, sleep=self.sleep)


def test_a_burst_is_free_then_calls_come_at_the_rate():
    t = FakeTime()
    b = t.bucket(rate=2, burst=3)
    assert [b.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert t.sleeps == []
    assert [b.acquire() for _ in range(4)] == [0.5, 0.5, 0.5, 0.5]
    assert t.now == pytest.approx(1002.0)


def test_idle_time_refills_but_never_more_than_burst():
    t = FakeTime()
    b = t.bucket(rate=1, burst=2)
    b.acquire(), b.acquire()
    t.now += 3600  # an hour idle saves up only `burst` tokens
    assert [b.acquire() for _ in range(2)] == [0.0, 0.0]
    assert b.acquire() == 1.0


def test_a_partly_refilled_bucket_waits_only_for_the_rest():
    t = FakeTime()
    b = t.bucket(rate=1, burst=1)
    b.acquire()
    t.now += 0.25
    assert b.acquire() == pytest.approx(0.75)


def test_pause_holds_every_caller_until_it_ends():
    t = FakeTime()
    b = t.bucket(rate=4, burst=4)
    b.acquire()
    b.pause(5)
    assert b.acquire() == pytest.approx(5.0)  # tokens were saved up, yet nobody goes before the pause ends
    assert t.now == pytest.approx(1005.0)


def test_pause_empties_the_bucket_right_after_a_call():
    t = FakeTime()
    b = t.bucket(rate=1, burst=10)
    b.acquire()  # 9 tokens left
    b.pause(2)
    waits = [b.acquire() for _ in range(3)]
    # after the pause only what accrued during it (2 tokens) is there, not the 9 saved before
    assert waits == [pytest.approx(2.0), 0.0, pytest.approx(1.0)]


def test_pause_after_idle_time_still_empties_the_bucket():
    t = FakeTime()
    b = t.bucket(rate=1, burst=10)
    t.now += 30  # idle (or one slow call in flight): the bucket is full
    b.pause(0.5)
    waits = [b.acquire() for _ in range(2)]
    # 0.5 s of pause accrues half a token: the first caller waits the pause and half a second more
    assert waits == [pytest.approx(1.0), pytest.approx(1.0)]


def test_a_shorter_pause_does_not_cut_a_longer_one():
    t = FakeTime()
    b = t.bucket(rate=10, burst=1)
    b.pause(10)
    b.pause(1)
    assert b.acquire() == pytest.approx(10.0)


def test_acquire_returns_the_total_wait_over_several_sleeps():
    t = FakeTime()
    b = t.bucket(rate=1, burst=1)
    b.acquire()
    b.pause(0.5)
    waited = b.acquire()  # sleeps out the pause, then for the rest of the token
    assert len(t.sleeps) == 2
    assert waited == pytest.approx(sum(t.sleeps)) == pytest.approx(1.0)


def test_rate_must_be_positive_and_burst_at_least_one():
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(-1)
    t = FakeTime()
    b = t.bucket(rate=1, burst=0)
    assert b.burst == 1
    assert b.acquire() == 0.0
    assert b.acquire() == 1.0


def test_threads_together_never_beat_the_rate():
    rate, burst, threads, each = 1000.0, 5, 4, 25
    b = TokenBucket(rate, burst)
    errors: list[Exception] = []

    def worker():
        try:
            for _ in range(each):
                b.acquire()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=5)
    elapsed = time.monotonic() - started
    assert not errors and not any(th.is_alive() for th in pool)
    # 100 tokens with 5 saved up take at least 95 / 1000 s, however the threads interleave
    assert elapsed >= (threads * each - burst) / rate * 0.95


# --- the adaptive budget: a refusal lowers the rate, recovery is slow and stays under the ceiling --------------------

def test_a_refusal_cuts_the_rate_a_little_under_half_cuts_the_burst_and_pauses_as_told():
    t = FakeTime()
    b = t.bucket(rate=4, burst=4)
    b.limited(retry_after=2.0)
    assert (b.rate, b.burst, b.ceiling, b.refusals) == (pytest.approx(4 * CUT), 1, 4.0, 1)
    assert b.acquire() == pytest.approx(2.0)  # the platform's wait; what accrued meanwhile is one call (burst 1)
    assert [b.acquire() for _ in range(2)] == [pytest.approx(1 / (4 * CUT))] * 2  # then the lowered rate


def test_without_a_wait_from_the_platform_the_pause_is_one_call_at_the_lowered_rate():
    t = FakeTime()
    b = t.bucket(rate=4, burst=4)
    b.limited()
    assert [b.acquire() for _ in range(2)] == [pytest.approx(1 / (4 * CUT))] * 2


def test_repeated_refusals_never_go_below_the_floor():
    t = FakeTime()
    b = t.bucket(rate=5, burst=5)
    for _ in range(40):
        b.limited(0)
    assert b.rate == pytest.approx(0.2) and b.refusals == 40


def test_recovery_is_slow_and_never_past_the_rate_the_platform_refused():
    t = FakeTime()
    b = t.bucket(rate=5, burst=5)
    b.limited(0)  # refused at 5/s: ceiling 5, rate 2.25
    rates = []
    for _ in range(6):
        t.now += 30
        b.acquire()
        rates.append(round(b.rate, 2))
    assert rates == [2.75, 3.25, 3.75, 4.25, 4.5, 4.5]  # +10 % of the declared rate per quiet 30 s, up to 90 % of 5
    assert b.burst == 1, "no burst while the platform's limit is below the declared rate"


def test_a_passing_limit_is_forgotten_after_a_long_quiet_spell():
    t = FakeTime()
    b = t.bucket(rate=5, burst=5)
    b.limited(0)
    t.now += 600
    b.acquire()
    assert (b.rate, b.burst, b.ceiling) == (5.0, 5, None)


def test_a_second_refusal_just_under_the_learnt_limit_lowers_the_ceiling_by_a_smaller_step():
    t = FakeTime()
    b = t.bucket(rate=4, burst=2)
    b.limited(0)  # 4 -> 1.8, ceiling 4
    t.now += 30
    b.acquire()  # 2.2
    b.limited(0)  # refused under the ceiling: timing at the edge, not a far overshoot
    assert b.ceiling == pytest.approx(2.2) and b.rate == pytest.approx(2.2 * NEAR_CUT)


def test_what_was_learnt_survives_a_restart_and_is_forgotten_when_old():
    t = FakeTime()
    b = t.bucket(rate=5, burst=5)
    b.limited(0)
    t.now += 3
    rate, ceiling, since = b.learnt()
    assert (rate, ceiling, since) == (pytest.approx(5 * CUT), 5.0, pytest.approx(3.0))
    restarted = t.bucket(rate=5, burst=5)
    restarted.restore(rate, ceiling, since)
    assert (restarted.rate, restarted.burst, restarted.ceiling) == (rate, 1, 5.0)
    assert [restarted.acquire() for _ in range(2)] == [0.0, pytest.approx(1 / rate)]  # no saved-up burst
    stale = t.bucket(rate=5, burst=5)
    stale.restore(rate, ceiling, 601)
    assert (stale.rate, stale.burst) == (5.0, 5)
