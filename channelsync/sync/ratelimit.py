"""The rate budget of one channel: a token bucket that learns the platform's real limit.

The bucket starts at the declared (or configured) rate and burst. A
rate-limited answer (``limited()``) means the platform allows less than we
sent: the channel pauses as long as the platform said, and its rate is cut to
``CUT`` (a little under half; never below ``floor``) with the burst cut to one
call — or, refused again just under a limit it already learnt, by a fifth only —
so a limit at half the default costs a refusal or two, not one per call. The
rate then climbs back slowly — ``step`` of the declared rate per
``recover_every`` (30) seconds without a refusal — but only up to 90 % of the
rate that was refused (the platform's
learnt ceiling), which is forgotten after ``forget_after`` quiet seconds in
case the platform's limit was a passing one. After a pause the bucket holds
only what accrued since the pause began: never a full burst.
"""

from __future__ import annotations

import threading
import time


#: a refused rate is cut to this share: half, with a tenth of margin, so a limit at exactly half
#: the declared rate (a common case) is not met again at once by timing jitter
CUT = 0.45
#: refused again just under a learnt limit: a smaller cut is enough
NEAR_CUT = 0.8


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up, adapting to refusals. Thread-safe."""

    def __init__(self, rate: float, burst: int = 1, clock=time.monotonic, sleep=time.sleep, *,
                 floor: float | None = None, step: float = 0.1, recover_every: float = 30.0,
                 forget_after: float = 600.0) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.declared = float(rate)
        self.declared_burst = max(1, burst)
        self.rate = float(rate)
        self.burst = self.declared_burst
        self.floor = floor if floor is not None else min(self.declared, 0.2)
        self.step = step
        self.recover_every = recover_every
        self.forget_after = forget_after
        #: the highest rate the platform is believed to allow (None: not learnt yet)
        self.ceiling: float | None = None
        #: refusals seen, for metrics and tests
        self.refusals = 0
        self._tokens = float(self.burst)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._last_refusal: float | None = None
        self._last_raise = 0.0
        #: moves on every change of rate or ceiling, so the owner knows when to keep them
        self.version = 0

    def pause(self, seconds: float) -> None:
        """The platform said "wait N seconds": nobody on this channel calls before then,
        and afterwards only what accrues from now on is there (not what was saved before)."""
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            self._tokens = 0.0
            self._last = now

    def limited(self, retry_after: float | None = None) -> None:
        """A rate-limited answer: pause (the platform's wait, else one call's interval at the
        lowered rate), halve the rate, cut the burst to one and remember the ceiling."""
        with self._lock:
            now = self._clock()
            self.refusals += 1
            refused = self.rate
            # far above what is known to pass (or nothing known yet): halve; refused again just
            # under a learnt limit (timing jitter at the edge): a smaller step is enough
            near = self.ceiling is not None and refused < self.ceiling
            self.ceiling = refused if self.ceiling is None else min(self.ceiling, refused)
            self.rate = max(self.floor, refused * (NEAR_CUT if near else CUT))
            self.burst = 1
            self.version += 1
            self._last_refusal = now
            self._last_raise = now
        self.pause(retry_after if retry_after is not None else 1.0 / self.rate)

    def _recover(self, now: float) -> None:
        """Called under the lock: climb back slowly while the platform stays quiet."""
        if self._last_refusal is None:
            return
        if self.ceiling is not None and now - self._last_refusal >= self.forget_after:
            self.ceiling = None  # a passing limit: the declared rate is allowed again
        top = self.declared if self.ceiling is None else min(self.declared, self.ceiling * 0.9)
        while now - self._last_raise >= self.recover_every and self.rate < top:
            self.rate = min(top, self.rate + self.step * self.declared)
            self._last_raise += self.recover_every
            self.version += 1
        if self.rate >= self.declared:
            self.burst = self.declared_burst
            self._last_refusal = None
            self.version += 1

    def learnt(self) -> tuple[float, float | None, float | None]:
        """(rate, ceiling, seconds since the last refusal or None): what to keep across a restart."""
        with self._lock:
            since = None if self._last_refusal is None else self._clock() - self._last_refusal
            return self.rate, self.ceiling, since

    def restore(self, rate: float, ceiling: float | None, since_refusal: float) -> None:
        """Start from what an earlier process learnt ``since_refusal`` seconds ago, so a restart
        does not meet the platform's limit again at the declared rate."""
        with self._lock:
            if since_refusal >= self.forget_after or rate >= self.declared:
                return
            now = self._clock()
            self.rate = max(self.floor, min(self.declared, rate))
            self.ceiling = ceiling
            self.burst = 1
            self._tokens = min(self._tokens, 1.0)
            self._last_refusal = now - since_refusal
            self._last_raise = now
    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._recover(now)
                if now >= self._paused_until:
                    self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                    self._last = now
                delay = max(0.0, self._paused_until - now)
                if delay == 0.0 and self._tokens >= 1.0 - 1e-9:  # float dust is not a wait
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return waited
                if delay == 0.0:
                    delay = (1.0 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay
