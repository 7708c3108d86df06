"""``channelsync run``: one worker thread per channel, schedule-driven.

* a slow or failing channel never stalls the others (each has its thread,
  its connection, its rate budget);
* each channel pushes from a thread of its own (``Pusher``), woken whenever an
  ingest anywhere queues pushes: a push never waits behind a poll, this
  channel's or another's (a slow order API must not delay stock going out);
* CLI changes are picked up within a second (pushers look at the outbox
  every ``tick`` seconds);
* SIGTERM/SIGINT: every wait and the next platform call end at once, workers
  commit what they finished and the process exits 0 within seconds (a call
  still on the wire after ``STOP_GRACE`` is abandoned, as a crash would, and
  re-done at the next start);
* SIGHUP: the config file is re-read, validated, and its rules applied (``upkeep.py``);
* a second daemon on the same database refuses to start.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from typing import Any, Callable

import httpx
import pluggy
import schedule
import structlog

from channelsync.config.settings import Config
from channelsync.config import runtime
from channelsync.daemon import handoff, intake, upkeep
from channelsync.daemon.beside import PUSH_THREADS, Bell, Pusher, Sweeper
from channelsync.daemon.health import HealthServer, health_document
from channelsync.daemon.lock import InstanceLock
from channelsync.daemon.supervisor import describe, supervise
from channelsync.engine import catalog, channels, outbox, pricing
from channelsync.engine.channels import status_rows
from channelsync.sdk.errors import ChannelError
from channelsync.sdk.plugins import channel_types, intake_types
from channelsync.store import Store, ts, utcnow
from channelsync.sync import reconcile
from channelsync.sync.doorbell import Doorbell
from channelsync.sync.lane import Lane, open_lane
from channelsync.sync.runner import ChannelRunner
from channelsync.sync.stopping import Interrupted, Stop
from channelsync.telemetry import metrics

log = structlog.get_logger("channelsync.daemon")

#: seconds SIGTERM waits for workers to reach a stopping point before the process exits anyway
STOP_GRACE = 5.0


class Worker(threading.Thread):
    """One channel's thread: its own store connection and lane, a resync at start, then
    polls on schedule and the CLI's handed-over requests. Its ``Pusher`` sends the
    channel's pushes meanwhile."""

    def __init__(self, owner: "Daemon", name: str) -> None:
        super().__init__(name=f"channel-{name}", daemon=True)
        self.owner = owner  # not "daemon": threading.Thread has a daemon flag
        self.channel_name = name
        self.wake = Bell()  # pushes were queued: the pushers drain now
        self.poke = threading.Event()  # a doorbell rang or the daemon stops: the poll loop looks now
        # platform messages ring it; a second look 5 s later for platforms whose search trails them
        self.doorbell = Doorbell(lag=owner.config.channels[name].order_lag, recheck=5.0)
        self.error: BaseException | None = None  # the last crash, until a run gets through a cycle again
        self.crashes = 0
        self.pushers: list[Pusher] = []
        self.sweeper: Sweeper | None = None
        self.ended = threading.Event()  # this run of _serve is over: its pusher and sweeper stop
        self.helper_error: BaseException | None = None  # a pusher or sweeper crashed: the run restarts

    def run(self) -> None:
        structlog.contextvars.bind_contextvars(channel=self.channel_name, run_id=self.owner.run_id)
        self.crashes = supervise(self.channel_name, self._serve, self.owner.stop,
                                 backoff_max=self.owner.config.daemon.restart_backoff_max, on_crash=self._crashed)

    def _crashed(self, exc: BaseException, pause: float) -> None:
        self.error = exc
        store = self.owner.open_store()
        try:
            with store.write():
                channels.record_worker(store, self.channel_name, f"worker crashed ({describe(exc)}); "
                                                                 f"restarting in {pause:g} s")
        finally:
            store.close()

    def _serve(self) -> None:
        store = self.owner.open_store()
        lane = None
        self.ended.clear()
        self.helper_error = None
        self.pushers, self.sweeper = [], None
        try:
            cfg = self.owner.config.channels[self.channel_name]
            lane = open_lane(self.owner.config, self.channel_name, store, self.owner.types, self.owner.pm,
                             self.owner.transports.get(self.channel_name), on_queued=self.owner.wake_all,
                             stop=Stop(self.owner.stop))
            runner = ChannelRunner(lane)
            stopping = self.owner.stop.is_set
            # two: rows that arrive while one batch is on the wire go at once, not a round trip later
            self.pushers = [Pusher(self, lane, n) for n in range(PUSH_THREADS)]
            for pusher in self.pushers:
                pusher.start()
            jobs = schedule.Scheduler()
            if cfg.drift_check_interval > 0:  # on its own clock: with intake the poll may be minutes apart
                jobs.every(cfg.drift_check_interval).seconds.do(runner.check_stock)
            jobs.every(cfg.reconcile_interval).seconds.do(self._resync, lane)
            self._resync(lane)  # link listings and repair drift before the first cycle (reads the overlap)
            next_poll = time.monotonic() + cfg.poll_interval
            runner.cycle(stopping, push=False, overlap=False)  # the sweeper reads the overlap
            if self.error is not None:  # running again after a crash: the channel is no longer marked
                with store.write():
                    channels.record_worker(store, self.channel_name, None)
                log.info("worker_recovered", channel=self.channel_name)
                self.error = None
            self.sweeper = Sweeper(self, lane)
            self.sweeper.start()
            while not stopping():
                if lane.config is not self.owner.config:  # reloaded on SIGHUP: take the new rules
                    lane.config, lane.cfg = self.owner.config, self.owner.config.channels[self.channel_name]
                if time.monotonic() >= next_poll:
                    # polls start every poll_interval (not that long after the last one ended), so a
                    # sale waits at most one interval; a poll longer than that is followed at once
                    next_poll = max(next_poll + lane.cfg.poll_interval, time.monotonic())
                    runner.cycle(stopping, push=False, overlap=False)  # the sweeper reads the overlap
                jobs.run_pending()
                if self.doorbell.due():  # a verified platform message: poll now, not at the next tick
                    metrics.INTAKE_POLLS.labels(self.channel_name).inc()
                    runner.cycle(stopping, push=False, overlap=False)
                if stopping():
                    break
                handoff.serve_pending(lane, stopping)  # a resync takes the lane's lock page by page
                if self.helper_error is not None:  # the pusher or sweeper crashed: restart the whole run
                    raise self.helper_error
                # sleep until the next poll is due, a doorbell rings, or a tick (handed-over requests)
                self.poke.wait(max(0.0, min(self.owner.tick, next_poll - time.monotonic())))
                self.poke.clear()
        finally:
            self.ended.set()
            self.wake.set()
            for helper in (*self.pushers, self.sweeper):
                if helper is not None and helper.is_alive():
                    helper.join(timeout=60)
            if lane is not None:
                lane.close()
            store.close()

    def _resync(self, lane: Lane) -> None:
        try:
            reconcile.resync(lane)  # takes the lane's lock page by page: pushes go on between pages
        except Interrupted:
            pass
        except ChannelError as exc:  # the channel is down: the next scheduled resync tries again
            log.warning("resync_failed", channel=self.channel_name, error=str(exc))


class Daemon:
    def __init__(self, config: Config, pm: pluggy.PluginManager, *, tick: float = 0.5,
                 transports: dict[str, httpx.BaseTransport] | None = None,
                 serve_http: bool = True, low_stock_every: float = 5.0) -> None:
        self.config = config
        self.pm = pm
        self.types = channel_types(pm)
        self.tick = tick
        self.transports = transports or {}
        self.serve_http = serve_http
        self.low_stock_every = low_stock_every  # seconds between looks for SKUs that went low
        self.stop = threading.Event()
        self.workers: dict[str, Worker] = {}
        self.lock = InstanceLock(config.db_path)
        self.run_id = f"{os.getpid()}-{int(time.time())}"
        self.http_server = None
        self.intake_server: intake.IntakeServer | None = None
        self.started = threading.Event()
        self.reload = threading.Event()  # set by SIGHUP; the main loop reloads (not in the handler)

    def wake_all(self) -> None:
        for worker in self.workers.values():
            worker.wake.set()

    def ring(self, channel: str, bells: list) -> None:
        """A verified platform message for ``channel``: its worker polls as soon as it can."""
        worker = self.workers.get(channel)
        if worker is not None:
            worker.doorbell.ring()
            worker.poke.set()

    def request_reload(self, *_: Any) -> None:
        self.reload.set()

    def request_stop(self, *_: Any) -> None:
        log.info("daemon_stopping")
        self.stop.set()
        self.wake_all()
        for worker in self.workers.values():
            worker.poke.set()

    def run(self, install_signals: bool = True, until: Callable[[], bool] | None = None) -> int:
        """Run until stopped; returns the process exit code."""
        self.lock.acquire()
        try:
            return self._run(install_signals, until)
        finally:
            gc.unfreeze()  # what start-up left is collectable again (tests run many daemons in one process)
            if self.http_server is not None and not self.http_server.thread.is_alive():
                self.http_server.httpd.server_close()  # bound but never served: start-up failed
            self.lock.release()

    def open_store(self) -> Store:
        """A connection of the daemon's: it waits for another process's write lock for ever, saying so."""
        return Store(self.config.db_path, lock_log_every=self.config.store.lock_log_every)

    def _run(self, install_signals: bool, until: Callable[[], bool] | None) -> int:
        if self.serve_http and self.config.daemon.http_port:  # first: a busy port changes nothing
            self.http_server = HealthServer(self.health, self.config.daemon.http_host, self.config.daemon.http_port)
        store = self.open_store()
        catalog.sync_warehouses(store, self.config)
        for warning in runtime.warnings(self.config, lambda sku: bool(
                store.scalar("SELECT 1 FROM skus WHERE code = ?", (sku,)))):
            log.warning("config_warning", message=warning)
        with store.write():
            store.execute("INSERT INTO daemon (id, pid, started_at, heartbeat_at) VALUES (1, ?, ?, ?) "
                          "ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, "
                          "heartbeat_at = excluded.heartbeat_at", (os.getpid(), ts(utcnow()), ts(utcnow())))
        recovered = handoff.recover(store)  # requests a crash left running: resumed or failed, never stuck
        if any(recovered.values()):
            log.warning("requests_recovered", **recovered)
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
            if hasattr(signal, "SIGHUP"):  # not on Windows
                signal.signal(signal.SIGHUP, self.request_reload)
        # before anything else runs: a taken intake port stops the start with one clear message
        self.intake_server = intake.start(self.config, intake_types(self.pm), self.ring)
        if self.http_server is not None:
            self.http_server.start()
        for name, cfg in self.config.channels.items():
            if cfg.enabled:
                self.workers[name] = Worker(self, name)
        log.info("daemon_started", channels=sorted(self.workers), db=str(self.config.db_path))
        # A full collection walks every object the process holds, the modules' and the config's
        # included: one took 57 ms at 1,000 orders a minute, and every thread waited for it (the
        # top of the push path's overhead). What exists now lives as long as the daemon: frozen,
        # the collector no longer walks it.
        gc.collect()
        gc.freeze()
        for worker in self.workers.values():
            worker.start()
        self.started.set()
        last_promo_check = last_low_check = utcnow()
        upkeep.announce_low_stock(self, store)
        while not self.stop.is_set():
            self.stop.wait(1.0)
            if until is not None and until():
                self.request_stop()
            if self.reload.is_set():
                self.reload.clear()
                upkeep.reload_config(self, store)
            now = utcnow()
            if (now - last_low_check).total_seconds() >= self.low_stock_every:
                upkeep.announce_low_stock(self, store)
                last_low_check = now
            if pricing.promotion_boundaries(self.config.promotions, last_promo_check, now):
                self._queue_all_prices(store)
            last_promo_check = now
            with store.write():
                store.execute("UPDATE daemon SET heartbeat_at = ? WHERE id = 1", (ts(now),))
            if self.intake_server is not None:
                self.intake_server.intake.ledger.flush(store)
        # Workers stop at their next wait or call (sync/stopping.py); one stuck in a call on
        # the wire is not waited for past the grace: everything it did is committed or
        # re-done at the next start, exactly as after a crash.
        deadline = time.monotonic() + STOP_GRACE
        for worker in self.workers.values():
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = [w.channel_name for w in self.workers.values() if w.is_alive()]
        if stuck:
            log.warning("workers_abandoned", channels=stuck, grace_seconds=STOP_GRACE,
                        note="a platform call was still on the wire; it is re-done at the next start")
        if self.http_server is not None:
            self.http_server.stop()
        if self.intake_server is not None:
            self.intake_server.stop()
            self.intake_server.intake.ledger.flush(store)
        with store.write():
            store.execute("UPDATE daemon SET pid = NULL WHERE id = 1")
        store.close()
        crashed = {w.channel_name: w.crashes for w in self.workers.values() if w.crashes}
        log.info("daemon_stopped", worker_crashes=crashed)
        return 0  # a channel's trouble is in status and /healthz; the daemon itself stopped cleanly

    def _queue_all_prices(self, store: Store) -> None:
        """A promotion started or ended: every listed SKU's price is due for a check."""
        with store.write():
            for row in store.query("SELECT channel, sku_code FROM listings"):
                if row["channel"] in self.workers:
                    outbox.queue(store, row["channel"], row["sku_code"], "price")
        log.info("promotion_boundary", note="price pushes queued")
        self.wake_all()

    def health(self) -> dict:
        store = Store(self.config.db_path, readonly=True)
        try:
            rows = status_rows(store, self.config)
        finally:
            store.close()
        alive = {n: w.is_alive() for n, w in self.workers.items()}  # a crashed pusher restarts the worker's run
        links = self.intake_server.intake.ledger.links if self.intake_server is not None else {}
        doc = health_document(rows, alive, policy=self.config.daemon.unhealthy_when,
                              stopping=self.stop.is_set(), run_id=self.run_id)
        for name, shown in doc["channels"].items():
            # a lost intake link costs latency, not correctness: shown, not failing
            shown["intake"] = {"enabled": self.config.channels[name].intake.enabled, "connected": links.get(name)}
        return doc
