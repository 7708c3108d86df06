"""Keeping a channel's worker alive: a worker that raises is logged, its channel marked
failing (with the error), and run again after a pause that doubles with each crash
in a row, up to ``restart_backoff_max``. A channel's problem never ends the process.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import structlog

log = structlog.get_logger("channelsync.daemon")

FIRST_PAUSE = 1.0
HEALTHY_AFTER = 60.0  # a run this long resets the pause to FIRST_PAUSE


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def supervise(name: str, body: Callable[[], None], stop: threading.Event, *, backoff_max: float,
              on_crash: Callable[[BaseException, float], None]) -> int:
    """Run ``body`` until it returns (the daemon is stopping) or ``stop`` is set; returns the
    number of crashes. ``on_crash(error, pause)`` marks the channel; its own failure is logged."""
    pause, crashes = FIRST_PAUSE, 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            body()
            return crashes
        except Exception as exc:  # noqa: BLE001 - whatever a channel raises, the daemon lives on
            crashes += 1
            if time.monotonic() - started >= HEALTHY_AFTER:
                pause = FIRST_PAUSE
            log.error("worker_crashed", channel=name, error=describe(exc), restart_in_s=pause, crashes=crashes,
                      exc_info=exc)
            try:
                on_crash(exc, pause)
            except Exception as mark_exc:  # noqa: BLE001 - e.g. the database itself is the problem
                log.error("worker_crash_not_recorded", channel=name, error=describe(mark_exc))
        stop.wait(pause)
        pause = min(pause * 2, backoff_max)
    return crashes
