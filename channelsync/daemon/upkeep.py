"""What the daemon's main loop does besides keeping workers: reload the config on SIGHUP and
announce SKUs that went low on stock.

A reload is validated first: a file with any mistake changes nothing, and the log
says every mistake with its key path. A valid file's rules (stock and price
rules, overrides, promotions, reorder points, display names, log level) apply at
once: workers pick the new config up on their next turn, and every listing's stock
and price is re-checked against it. What only a restart can change (the database,
the HTTP port, adding, removing or enabling channels, a channel's plugin or
settings and credentials, the intake and each channel's intake) keeps its running
value, and the log names what waits.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any, Protocol

import structlog

from channelsync import config as config_mod
from channelsync.config.settings import Config
from channelsync.engine import inventory, lowstock, outbox
from channelsync.sdk.plugins import intake_types
from channelsync.store import Store
from channelsync.telemetry import log as log_setup
from channelsync.telemetry import metrics

log = structlog.get_logger("channelsync.daemon")


class Daemon(Protocol):
    """What upkeep needs of ``daemon.run.Daemon`` (named here: run.py imports this module)."""

    config: Config
    pm: Any
    types: dict[str, type]
    workers: dict[str, Any]

    def wake_all(self) -> None: ...


def merge(old: Config, new: Config) -> tuple[Config, list[str]]:
    """``new``'s live rules over ``old``'s restart-only parts; and what waits for a restart."""
    waiting = []
    if new.db_path != old.db_path:
        waiting.append("store.path")
    if (new.daemon.http_host, new.daemon.http_port) != (old.daemon.http_host, old.daemon.http_port):
        waiting.append("daemon.http_host/http_port")
    if new.intake != old.intake:
        waiting.append("intake")
    channels = {}
    for name, cfg in old.channels.items():
        fresh = new.channels.get(name)
        if fresh is None:
            waiting.append(f"channels.{name} (removed)")
            channels[name] = cfg
            continue
        if (fresh.plugin, fresh.enabled, fresh.settings) != (cfg.plugin, cfg.enabled, cfg.settings):
            waiting.append(f"channels.{name} plugin/enabled/settings")
        if (fresh.poll_interval, fresh.reconcile_interval) != (cfg.poll_interval, cfg.reconcile_interval):
            waiting.append(f"channels.{name} poll_interval/reconcile_interval")
        if fresh.intake != cfg.intake:
            waiting.append(f"channels.{name}.intake")
        channels[name] = replace(fresh, plugin=cfg.plugin, enabled=cfg.enabled, settings=cfg.settings,
                                 secret_keys=cfg.secret_keys, poll_interval=cfg.poll_interval,
                                 reconcile_interval=cfg.reconcile_interval, intake=cfg.intake)
    waiting += [f"channels.{name} (added)" for name in new.channels if name not in old.channels]
    merged = replace(new, db_path=old.db_path, channels=channels, intake=old.intake,
                     daemon=replace(new.daemon, http_host=old.daemon.http_host, http_port=old.daemon.http_port))
    return merged, waiting


def _kept_alive(fn):
    """The main loop calls these: a failure (a database locked past its timeout, a bug) is
    logged with its traceback and the daemon goes on; the next SIGHUP or look tries again."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception(f"{fn.__name__}_failed")
            return None
    return guarded


@_kept_alive
def reload_config(daemon: Daemon, store: Store) -> bool:
    """Re-read the config file; apply it when valid. Returns whether it was applied."""
    path = daemon.config.path
    if path is None:
        log.warning("config_reload_rejected", reason="the daemon was started without a config file")
        metrics.CONFIG_RELOADS.labels("rejected").inc()
        return False
    try:
        new = config_mod.load(path, daemon.types, intake_types=intake_types(daemon.pm))
    except config_mod.ConfigError as exc:
        log.error("config_reload_rejected", path=str(path), errors=exc.errors,
                  note="the running config is kept; fix the file and send SIGHUP again")
        metrics.CONFIG_RELOADS.labels("rejected").inc()
        return False
    merged, waiting = merge(daemon.config, new)
    log_setup.register_secrets(v for ch in new.channels.values() for k, v in ch.settings.items()
                               if k in ch.secret_keys)
    log_setup.configure(merged.daemon.log_format, merged.daemon.log_level)
    daemon.config = merged  # workers compare and take it on their next turn
    with store.write():
        listed = [r["sku_code"] for r in store.query("SELECT DISTINCT sku_code FROM listings")]
        stock = inventory.queue_stock(store, merged, listed)
        prices = 0
        for row in store.query("SELECT channel, sku_code FROM listings"):
            if row["channel"] in daemon.workers:
                outbox.queue(store, row["channel"], row["sku_code"], "price")
                prices += 1
    metrics.CONFIG_RELOADS.labels("ok").inc()
    log.info("config_reloaded", path=str(path), stock_pushes_queued=stock, price_checks_queued=prices,
             needs_restart=waiting or None)
    daemon.wake_all()
    return True


@_kept_alive
def announce_low_stock(daemon: Daemon, store: Store) -> int:
    """Fire ``stock_low`` once for each SKU that went low since the last look; returns how many."""
    crossed = lowstock.check(store, daemon.config)
    metrics.LOW_STOCK.set(lowstock.count(store))
    for r in crossed:
        log.warning("stock_low", sku=r["sku"], available=r["available"], reorder_point=r["reorder_point"])
        try:
            daemon.pm.hook.stock_low(sku_code=r["sku"], available=r["available"], reorder_point=r["reorder_point"],
                                     title=r["title"])
        except Exception:  # an integrator's hook must not stop the daemon
            log.exception("stock_low_hook_failed", sku=r["sku"])
    return len(crossed)
