"""A channel's doorbell: platform messages ask for a poll now; a burst asks once.

The intake endpoint rings; the channel's worker asks ``due()`` on every turn of
its loop and polls when it says so. Rings that arrive before the poll starts
are answered by that one poll. A ring is due ``lag`` seconds after it came
(the channel's ``order_lag``: its order search lags that much behind its
messages), and polls answering rings are at least ``min_gap`` seconds apart,
so a flood of valid messages cannot turn into a flood of platform calls.

``recheck``: one more poll that many seconds after the rings were answered.
Platforms index orders for search a little after they send the message (and
an operator may leave ``order_lag`` at 0), so the first poll can come too
early; the second look keeps such an order from waiting for the next
scheduled poll. A ring during the wait makes it a normal ring again.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class Doorbell:
    def __init__(self, lag: float = 0.0, min_gap: float = 1.0, recheck: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lag = lag
        self.min_gap = min_gap
        self.recheck = recheck
        self.clock = clock
        self._lock = threading.Lock()
        self._first: float | None = None  # when the oldest unanswered ring is due
        self._last: float | None = None   # when the newest one is
        self._recheck_at: float | None = None  # the second look, once the rings are answered
        self._polled_at = float("-inf")
        self.rings = 0
        self.polls = 0

    def ring(self) -> None:
        with self._lock:
            due = self.clock() + self.lag
            self._first = due if self._first is None else min(self._first, due)
            self._last = due if self._last is None else max(self._last, due)
            self._recheck_at = None  # answering this ring schedules the second look afresh
            self.rings += 1

    def due(self) -> bool:
        """True when a poll should start now; that poll answers every ring due by now."""
        with self._lock:
            now = self.clock()
            rings_due = self._first is not None and self._first <= now
            recheck_due = self._recheck_at is not None and self._recheck_at <= now
            if not (rings_due or recheck_due) or now - self._polled_at < self.min_gap:
                return False
            self.polls += 1
            if not rings_due:
                self._recheck_at = None  # the second look does not hold back the next ring's poll
                return True
            self._polled_at = now
            if self._last is not None and self._last > now:
                self._first = self._last  # rings still in their lag: one more poll, when the last is due
            else:
                self._first = self._last = None
                self._recheck_at = now + self.recheck if self.recheck else None
            return True

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._first is not None or self._recheck_at is not None
