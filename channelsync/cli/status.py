"""Commands that show what is configured and how it is going: status, channels, plugins, check."""

from __future__ import annotations

import click

from channelsync.cli.app import EXIT_ATTENTION, App, pass_app
from channelsync.sdk.errors import ChannelError
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sync import paging, retry


@click.command("status")
@click.option("--channel", "only", multiple=True, help="Only this channel (repeatable).")
@pass_app
def status(app: App, only: tuple[str, ...]) -> None:
    """Per channel: health (poll and push), last poll and push, cursor, queue, parked failures.

    Exits 4 when something needs attention: the daemon is not running, or a channel shown
    is failing, degraded or has parked pushes."""
    from channelsync.engine.channels import status_rows

    wanted = set(app.channel_names(only)) if only else None
    rows = [r for r in status_rows(app.reader, app.config) if wanted is None or r["channel"] in wanted]
    daemon = app.reader.one("SELECT pid, started_at, heartbeat_at FROM daemon WHERE id = 1")
    running = app.daemon_running()
    attention = ([] if running else ["the daemon is not running"]) + [
        f"{r['channel']}: {r['health']}" + (f" ({r['last_error']})" if r["last_error"] else "")
        for r in rows if r["enabled"] and r["health"] not in ("ok", "unknown")]
    data = {"daemon": {"running": running, **(daemon or {})}, "channels": rows, "attention": attention}
    human = [f"daemon: {'running (pid ' + str(daemon['pid']) + ')' if running and daemon else 'not running'}"]
    for r in rows:
        human.append(f"{r['channel']} [{r['plugin']}] {r['health']}{'' if r['enabled'] else ' (disabled)'}: "
                     f"last poll {r['last_poll_ok_at'] or 'never'}, last push {r['last_push_at'] or 'never'}, "
                     f"cursor {r['order_cursor'] or '-'}, queue {r['queue']['pending']} pending / "
                     f"{r['queue']['failed']} parked, {r['listings']} listings, {r['unmatched_listings']} unmatched"
                     + (f", token expires {r['token_expires_at']}" if r["token_expires_at"] else ""))
        human.append(f"    poll {r['poll']['health']}" + (f" ({r['poll']['error']})" if r["poll"]["error"] else "")
                     + f"; push {r['push']['health']}" + (f" ({r['push']['error']})" if r["push"]["error"] else "")
                     + f"; parked {r['push']['parked']}")
        if r["worker_error"]:
            human.append(f"    worker: {r['worker_error']}")
        elif r["last_error"]:
            human.append(f"    last error: {r['last_error']}")
        for f in r["failures"]:
            human.append(f"    parked {f['kind']} {f['sku_code']} after {f['attempts']} tries: {f['last_error']}")
    if attention:
        human.append("needs attention: " + "; ".join(attention))
    app.emit(data, "\n".join(human))
    if attention:
        raise SystemExit(EXIT_ATTENTION)


@click.command("channels")
@pass_app
def channels(app: App) -> None:
    """Configured channels, their plugin and rules (secrets hidden)."""
    from channelsync.config import redacted

    data = [{"name": c.name, "plugin": c.plugin, "enabled": c.enabled, "warehouses": list(c.warehouses),
             "share": str(c.rules.share), "buffer": c.rules.buffer, "max": c.rules.max,
             "zero_below": c.rules.zero_below, "poll_interval": c.poll_interval, "settings": redacted(c)}
            for c in app.config.channels.values()]
    app.emit(data, "\n".join(f"{d['name']:<16} {d['plugin']:<10} {'on ' if d['enabled'] else 'off'} "
                             f"share {d['share']} buffer {d['buffer']} max {d['max']} zero_below {d['zero_below']}"
                             for d in data) or "no channels configured")


@click.command("plugins")
@pass_app
def plugins(app: App) -> None:
    """Loaded plugins, their hooks, and the channel types they provide."""
    from channelsync.sdk.plugins import plugin_list

    rows = plugin_list(app.pm)
    types = {name: f"{cls.__module__}.{cls.__qualname__}" for name, cls in app.types.items()}
    app.emit({"plugins": rows, "channel_types": types},
             "\n".join([f"{r['name']:<12} {r['module']:<28} hooks: {', '.join(r['hooks'])}" for r in rows]
                       + [f"channel type {n} -> {c}" for n, c in sorted(types.items())]))


@click.command("check")
@click.option("--offline", is_flag=True, help="Only validate the config and the database path; call no platform.")
@pass_app
def check(app: App, offline: bool) -> None:
    """Validate the config (every mistake with its key path), the database path, and each channel's credentials."""
    from channelsync.config import runtime
    from channelsync.store import StoreError

    config = app.config  # raises ConfigError listing every mistake
    problem = _db_path_problem(config.db_path)
    if problem:
        raise StoreError(f"store.path: {problem}")
    try:
        reader = app.reader
        warnings = runtime.warnings(config, lambda sku: bool(reader.scalar("SELECT 1 FROM skus WHERE code = ?",
                                                                          (sku,))))
    except StoreError as exc:
        raise StoreError(f"store.path: {exc}") from None
    results = {}
    if not offline:
        for name in app.channel_names(()):
            lane = app.lane(name)
            try:
                retry.call(lambda: next(paging.pages(lane.adapter.list_listings)), attempts=2,
                           refresh_auth=lane.adapter.refresh_auth)
                results[name] = "ok"
            except ChannelError as exc:
                results[name] = f"failed: {exc}"
            finally:
                lane.close()
    human = [f"config {config.path}: ok ({len(config.channels)} channels), database {config.db_path}"]
    human += [f"warning: {w}" for w in warnings]
    human += [f"{n}: credentials {r}" for n, r in results.items()]
    app.emit({"config": str(config.path), "database": str(config.db_path), "warnings": warnings,
              "channels": results}, "\n".join(human))
    if any(r != "ok" for r in results.values()):
        raise SystemExit(1)


def _db_path_problem(path) -> str | None:
    """Why the daemon could not create or write the database at ``path`` (None: it can)."""
    import os
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        return f"{path} is a directory (expected the database file's path)"
    if path.exists():
        return None if os.access(path, os.R_OK | os.W_OK) else f"{path} is not writable by this user"
    parent = next((p for p in [path.parent, *path.parent.parents] if p.exists()), None)
    if parent is None or not parent.is_dir():
        return f"{path} cannot be created: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{path} cannot be created: {parent} is not writable by this user"
    return None


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (status, channels, plugins, check):
        cli.add_command(command)
