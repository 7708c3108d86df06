"""Test kit for channelsync and its plugins: fake channel, simulator base, conformance suite, harness."""

from __future__ import annotations

import time
from typing import Callable


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition",
             interval: float = 0.05) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout`` seconds.

    The default is generous on purpose: a wait that normally ends in milliseconds costs nothing
    more, and a loaded CI machine does not turn it into a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
