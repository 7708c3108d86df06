"""The threads beside a channel's worker: its push threads (``Pusher``, woken by a ``Bell``)
and its ``Sweeper``. They share the worker's lane (adapter, rate budget, ``serial`` lock) and
each has a store connection of its own; the worker starts, joins and restarts them (``run.py``).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import structlog

from channelsync.sync.lane import Lane
from channelsync.sync.runner import ChannelRunner

log = structlog.get_logger("channelsync.daemon")

#: push threads per channel: a second (and third) sends what arrives while the first's batch is
#: on the wire. At 1,000 orders a minute and 50 ms round trips two were often both out when a
#: third channel's ingest landed (the top 5 % of the push path's overhead waited ~25 ms for a call)
PUSH_THREADS = 3
#: seconds an extra push thread waits for a wake before looking anyway (the first one ticks)
SPARE_WAIT = 30.0


class Beside(threading.Thread):
    """A thread beside a channel's worker, on the worker's lane: the same adapter and rate
    budget (one budget per channel) and ``serial`` lock, a store connection of its own."""

    role = ""

    def __init__(self, worker: Any, lane: Lane) -> None:  # worker: run.Worker (run imports this module)
        super().__init__(name=f"{self.role}-{worker.channel_name}", daemon=True)
        self.worker = worker
        self.lane = lane

    def run(self) -> None:
        owner = self.worker.owner
        structlog.contextvars.bind_contextvars(channel=self.worker.channel_name, run_id=owner.run_id)
        store = owner.open_store()
        try:
            lane = replace(self.lane, store=store)
            runner = ChannelRunner(lane)
            while not owner.stop.is_set() and not self.worker.ended.is_set():
                if lane.config is not owner.config:  # reloaded on SIGHUP: set before the pushes it queues
                    lane.config, lane.cfg = owner.config, owner.config.channels[self.worker.channel_name]
                self.step(runner)
                self.pause(lane)
        except Exception as exc:  # never silently: the worker re-raises it and the supervisor restarts the run
            log.exception("worker_crashed", channel=self.worker.channel_name, thread=self.role)
            self.worker.helper_error = exc
            self.worker.poke.set()
        finally:
            store.close()  # not the adapter: the worker owns it and closes it after joining us

    def step(self, runner: ChannelRunner) -> None:
        raise NotImplementedError

    def pause(self, lane: Lane) -> None:
        raise NotImplementedError


class Bell:
    """Rings for a channel's push threads: each ring is counted, so a thread that was busy
    when it rang still sees it (it drains again at once) and none is ever lost."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.rung = 0

    def set(self) -> None:
        with self._cond:
            self.rung += 1
            self._cond.notify_all()

    def wait_after(self, seen: int, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for a ring after ``seen``; the count now."""
        with self._cond:
            self._cond.wait_for(lambda: self.rung != seen, timeout)
            return self.rung


class Pusher(Beside):
    """One channel's pushes, apart from its polls: drains the outbox whenever woken (an
    ingest on any channel queued pushes) and every ``tick`` (CLI changes, retries due).
    A channel has ``PUSH_THREADS``; each skips the rows the others have on the wire.

    The first answers every ring. The others only help: one drains when every thread before
    it is busy (a batch on the wire), and otherwise goes back to sleep at once, as the first
    drains what the ring was for anyway. Twelve threads querying the outbox at every ingest
    (four channels, three each) delayed the one that had rows to send."""

    role = "push"

    def __init__(self, worker: Any, lane: Lane, n: int = 0) -> None:
        self.role = "push" if n == 0 else f"push{n + 1}"
        self.n = n
        self.busy = True  # in a round (set before the first)
        self.seen = 0     # the last ring this thread answered
        super().__init__(worker, lane)

    def step(self, runner: ChannelRunner) -> None:
        runner.push_round(self.worker.owner.stop.is_set, check=self.n == 0)

    def pause(self, lane: Lane) -> None:
        worker, owner = self.worker, self.worker.owner
        self.busy = False
        # only the first ticks (CLI changes, retries due): an idle daemon does not pay for the others
        timeout = owner.tick if self.n == 0 else SPARE_WAIT
        while True:
            seen, self.seen = self.seen, worker.wake.wait_after(self.seen, timeout)
            if self.n == 0 or owner.stop.is_set() or worker.ended.is_set():
                break
            if self.seen != seen and all(p.busy for p in worker.pushers[:self.n]):
                break  # rung while every thread before this one is busy: help
        self.busy = True


class Sweeper(Beside):
    """Re-reads the order overlap (late-indexed orders) every ``order_overlap / 20`` seconds,
    at least a poll interval apart, so polls read only what is new since their cursor."""

    role = "sweep"

    def step(self, runner: ChannelRunner) -> None:
        runner.sweep()

    def pause(self, lane: Lane) -> None:
        # on the run's end, not only the daemon's stop: a crashed run joins its sweeper before it
        # restarts, and waiting out order_overlap / 20 (15 s by default) held the restart that long.
        # A stopping daemon ends every run, so this wakes on a stop too.
        self.worker.ended.wait(max(lane.cfg.poll_interval, lane.cfg.order_overlap / 20))
