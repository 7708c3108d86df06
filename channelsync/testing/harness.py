"""A whole channelsync in one process, for tests: config, store, runners, platforms.

    shop = Shop(tmp_path, {"a": {}, "b": {"share": Decimal("0.5")}})
    shop.import_csv("product_code,sku_code,price,stock:main\\nP1,A,10.00,5\\n")
    shop.resync_all(); shop.settle()
    shop.platform("a").place_order([("A", 1)]); shop.settle()

Channels default to the fake plugin (each gets its own ``FakePlatform``);
pass ``plugin``/``settings``/``transport`` to run a real plugin against its simulator.
"""

from __future__ import annotations

import io
import socket
import threading
from contextlib import contextmanager
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Iterator

import httpx

from channelsync.config.settings import ChannelConfig, Config, DaemonConfig, PriceRules, StockRules
from channelsync.daemon import Daemon
from channelsync.engine import catalog, listings
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import fake
from channelsync.store import Store, ts, utcnow
from channelsync.sync import reconcile
from channelsync.sync.lane import Lane, open_lane
from channelsync.sync.runner import ChannelRunner
from channelsync.sync.stopping import NEVER, Stop

#: seconds a stopped daemon's thread gets to end (a worker stuck on the wire is let go after the grace)
STOP_JOIN = 60.0

_RULE_KEYS = {f.name for f in fields(StockRules)}
_CHANNEL_KEYS = {f.name for f in fields(ChannelConfig)}


def free_port() -> int:
    """A port free on 127.0.0.1 now, for a server that reads 0 as "off" (the daemon's health port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoWaits(Stop):
    """A lane stop whose waits (a retry's back-off, the rate budget's) end at once.

    For model tests that drive every step themselves (the state machines): what they check
    does not depend on the clock, and an inline retry's back-off (0.5-1.5 s after an injected
    fault) was more than half their time. Never for a test of waiting or of rates."""

    def sleep(self, seconds: float) -> None:
        self.check()


class Shop:
    def __init__(self, tmp_path: Path, channels: dict[str, dict[str, Any]],
                 warehouses: dict[str, str] | None = None, promotions: tuple = (), db_name: str = "shop.db",
                 plugins: tuple = (), waits: bool = True) -> None:
        """``waits=False``: the lanes' back-off and rate waits end at once (``NoWaits``)."""
        self.stop = NEVER if waits else NoWaits()
        self.pm = make_manager(extra=[fake, *plugins], load_entry_points=True)
        self.types = channel_types(self.pm)
        self.transports: dict[str, httpx.BaseTransport | None] = {}
        cfgs = {}
        for name, opts in channels.items():
            opts = dict(opts)
            self.transports[name] = opts.pop("transport", None)
            rules = StockRules(**{k: opts.pop(k) for k in list(opts) if k in _RULE_KEYS})
            plugin = opts.pop("plugin", "fake")
            settings = opts.pop("settings", None)
            if settings is None:
                settings = {"platform": name, "token": "fake-token", "stock_mode": opts.pop("stock_mode", "increment"),
                            "idempotency_keys": opts.pop("idempotency_keys", True),
                            "read_stock": opts.pop("read_stock", True)}
                fake.FakePlatform(name)  # a fresh platform per test
            unknown = set(opts) - _CHANNEL_KEYS
            assert not unknown, f"unknown channel options {unknown}"
            opts.setdefault("price", PriceRules())
            cfgs[name] = ChannelConfig(name=name, plugin=plugin, rules=rules, settings=settings, **opts)
        self.config = Config(path=None, db_path=Path(tmp_path) / db_name,
                             warehouses=warehouses or {"main": "Main"}, channels=cfgs, promotions=promotions)
        self.open()

    def open(self) -> None:
        """(Re)open the store and runners, as a restarted daemon would."""
        self.store = Store(self.config.db_path)
        catalog.sync_warehouses(self.store, self.config)
        self.lanes: dict[str, Lane] = {
            name: open_lane(self.config, name, self.store, self.types, self.pm, self.transports.get(name),
                            stop=self.stop)
            for name in self.config.channels}
        self.runners = {name: ChannelRunner(lane) for name, lane in self.lanes.items()}

    def restart(self) -> None:
        self.close()
        self.open()

    def close(self) -> None:
        for runner in self.runners.values():
            runner.close()
        self.store.close()

    def platform(self, name: str) -> fake.FakePlatform:
        return fake.FakePlatform.named(self.config.channels[name].settings["platform"])

    def import_csv(self, text: str) -> catalog.ImportReport:
        return catalog.import_csv(self.store, self.config, io.StringIO(text), publish_channels=self.config.channels)

    def resync_all(self, **kwargs: Any) -> dict[str, reconcile.ResyncReport]:
        return {name: reconcile.resync(lane, **kwargs) for name, lane in self.lanes.items()}

    def poll_all(self) -> None:
        for runner in self.runners.values():
            runner.poll()

    def drain_all(self) -> None:
        for runner in self.runners.values():
            runner.drain()

    def check_all(self, force: bool = False) -> None:
        """Each channel's drift check (``force``: read as if its interval had passed)."""
        for runner in self.runners.values():
            runner.check_stock(force=force)

    def settle(self, rounds: int = 10) -> None:
        """Poll, check and push until nothing is due and no push waits for a read
        (back-offs are not waited for; a push held for a read is looked at again)."""
        for _ in range(rounds):
            self.poll_all()
            self.check_all()
            self.drain_all()
            if self.store.scalar("SELECT COUNT(*) FROM listings WHERE check_holds = 1"):
                continue  # the next round reads, settles and releases them
            if not self.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND next_at <= ?",
                                       (ts(utcnow()),)):
                return

    def expected(self, channel: str, sku: str) -> int | None:
        return listings.expected(self.store, channel, sku)

    @contextmanager
    def running_daemon(self, config: Config | None = None, *, tick: float = 0.05,
                       **daemon_opts: Any) -> Iterator[Daemon]:
        """A daemon over this shop, run in a thread (health port 0 unless ``config`` says otherwise).

        Yields the daemon; on exit stops it, joins its thread and fails the test if the thread
        did not end, if ``run`` raised or if it returned an exit code other than 0. Wait on
        ``daemon.started`` or on what the test expects, never on a fixed sleep."""
        config = config or replace(self.config, daemon=DaemonConfig(http_port=0))
        daemon = Daemon(config, self.pm, tick=tick, **daemon_opts)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["rc"] = daemon.run(install_signals=False)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread below
                outcome["error"] = exc

        thread = threading.Thread(target=run, name="daemon", daemon=True)
        thread.start()
        try:
            yield daemon
        finally:
            daemon.request_stop()
            thread.join(timeout=STOP_JOIN)
        assert not thread.is_alive(), f"the daemon's thread did not end within {STOP_JOIN} s of the stop"
        if "error" in outcome:
            raise outcome["error"]
        assert outcome.get("rc") == 0, f"the daemon exited with {outcome.get('rc')}"
