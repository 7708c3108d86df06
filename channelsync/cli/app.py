"""What every command shares: the lazily built config, plugins and store, and the exit codes.

Exit codes: 0 success; 1 a platform or runtime failure (and an unexpected error,
whose details go to a log file); 2 bad input (config, CSV, unknown SKU, usage);
3 partly done (some channels failed, or a consistency check found differences);
4 ``status``: something needs attention (the daemon is not running, a channel is
failing or degraded, pushes are parked); 130 interrupted.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import click

from channelsync.sdk.errors import UserError
from channelsync.telemetry import log

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL, EXIT_ATTENTION = 0, 1, 2, 3, 4


class App:
    """Lazily loaded config, plugins and store for one CLI invocation."""

    def __init__(self, config_path: str | None, json_out: bool, pm=None) -> None:
        self.config_path = config_path
        self.json = json_out
        self._pm = pm

    @cached_property
    def pm(self):
        from channelsync.sdk.plugins import make_manager

        return self._pm or make_manager()

    @cached_property
    def types(self):
        from channelsync.sdk.plugins import channel_types

        return channel_types(self.pm)

    @cached_property
    def config(self):
        from channelsync import config as config_mod

        from channelsync.sdk.plugins import intake_types

        cfg = config_mod.load(self.config_path, self.types, intake_types=intake_types(self.pm))
        log.register_secrets(v for ch in cfg.channels.values() for k, v in ch.settings.items() if k in ch.secret_keys)
        log.register_secrets(v for ch in cfg.channels.values() for k, v in ch.intake.settings.items()
                             if k in ch.intake.secret_keys and v)
        log.configure(cfg.daemon.log_format, cfg.daemon.log_level)
        return cfg

    @cached_property
    def store(self):
        from channelsync.engine import catalog
        from channelsync.store import Store

        settings = self.config.store
        store = Store(self.config.db_path, lock_timeout=settings.lock_timeout, lock_log_every=settings.lock_log_every)
        catalog.sync_warehouses(store, self.config)
        return store

    @cached_property
    def reader(self):
        """The database opened read-only: what commands that only look use (never writes, not
        even on opening, so they work on a read-only copy and beside a busy writer)."""
        from channelsync.store import Store

        return Store(self.config.db_path, readonly=True, lock_log_every=self.config.store.lock_log_every)

    def channel_names(self, names: tuple[str, ...]) -> list[str]:
        unknown = [n for n in names if n not in self.config.channels]
        if unknown:
            raise UserError(f"unknown channel {', '.join(map(repr, unknown))} "
                            f"(configured: {', '.join(sorted(self.config.channels)) or 'none'})")
        return list(names) or [n for n, c in self.config.channels.items() if c.enabled]

    def warehouse(self, given: str | None, ask: str = "say which with --warehouse") -> str:
        """``given``, else the one warehouse configured; with several, a usage error that
        lists them (``ask``: how the command's option names one)."""
        if given:
            return given
        if len(self.config.warehouses) == 1:
            return next(iter(self.config.warehouses))
        raise click.UsageError(f"several warehouses are configured; {ask} "
                               f"({', '.join(sorted(self.config.warehouses))})")

    def lane(self, name: str):
        """Channel ``name``'s lane on this process's store (the caller closes it)."""
        from channelsync.sync.lane import open_lane

        return open_lane(self.config, name, self.store, self.types, self.pm)

    def daemon_running(self) -> bool:
        from channelsync.daemon import InstanceLock

        return InstanceLock.held(self.config.db_path)

    def emit(self, data: Any, human: str | None = None) -> None:
        if self.json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            click.echo(human if human is not None else str(data))


pass_app = click.make_pass_decorator(App)
