"""Stopping promptly: a shutdown interrupts every wait of a channel's work.

A lane carries a ``Stop`` (the daemon's stop event). Once it is set, a rate
budget wait, a retry's back-off and the next platform call end at once with
``Interrupted``; each caller leaves its work exactly as it was (an outbox row
unchanged, a cursor not moved, a handed-over request back to ``pending``), so
the restart picks it up. A call already on the wire is bounded by the HTTP
timeout; the daemon does not wait for it past its grace (see ``daemon/run.py``).
"""

from __future__ import annotations

import threading

from channelsync.sdk.errors import Transient


class Interrupted(Transient):
    """The daemon is stopping: the work was not done (and not sent), and will be at the next start."""

    def __init__(self) -> None:
        super().__init__("interrupted: the daemon is stopping", code="stopping", maybe_applied=False)


class Stop:
    """A stop event with the waits every lane makes."""

    def __init__(self, event: threading.Event | None = None) -> None:
        self.event = event or threading.Event()

    def is_set(self) -> bool:
        return self.event.is_set()

    def check(self) -> None:
        if self.event.is_set():
            raise Interrupted()

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` that ends with ``Interrupted`` as soon as the stop is set."""
        if self.event.wait(max(0.0, seconds)):
            raise Interrupted()


#: lanes that nobody stops (the CLI, tests): their waits are plain sleeps
NEVER = Stop()
