"""Commands that show what is configured and how it is going: status, channels, plugins, check."""

from __future__ import annotations

import click

from channelsync.cli.app import App, pass_app
from channelsync.sdk.errors import ChannelError
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sync import paging, retry


@click.command("status")
@pass_app
def status(app: App) -> None:
    """Per channel: health, last poll and push, cursor, queue, parked failures."""
    from channelsync.engine.channels import status_rows

    rows = status_rows(app.store, app.config)
    daemon = app.store.one("SELECT pid, started_at, heartbeat_at FROM daemon WHERE id = 1")
    running = app.daemon_running()
    data = {"daemon": {"running": running, **(daemon or {})}, "channels": rows}
    human = [f"daemon: {'running (pid ' + str(daemon['pid']) + ')' if running and daemon else 'not running'}"]
    for r in rows:
        human.append(f"{r['channel']} [{r['plugin']}] {r['health']}{'' if r['enabled'] else ' (disabled)'}: "
                     f"last poll {r['last_poll_ok_at'] or 'never'}, last push {r['last_push_at'] or 'never'}, "
                     f"cursor {r['order_cursor'] or '-'}, queue {r['queue']['pending']} pending / "
                     f"{r['queue']['failed']} parked, {r['listings']} listings, {r['unmatched_listings']} unmatched"
                     + (f", token expires {r['token_expires_at']}" if r["token_expires_at"] else ""))
        if r["last_error"]:
            human.append(f"    last error: {r['last_error']}")
        for f in r["failures"]:
            human.append(f"    parked {f['kind']} {f['sku_code']} after {f['attempts']} tries: {f['last_error']}")
        if r["drift"]["count"]:
            latest = "; ".join(f"{d['sku']} showed {d['seen']}, expected {d['expected']} ({d['found_at']})"
                               for d in r["drift"]["latest"])
            human.append(f"    drift found and repaired: {r['drift']['count']} (latest: {latest})")
    app.emit(data, "\n".join(human))


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
@click.option("--offline", is_flag=True, help="Only validate the config; do not call the platforms.")
@pass_app
def check(app: App, offline: bool) -> None:
    """Validate the config (every mistake with its key path) and each channel's credentials."""
    config = app.config  # raises ConfigError listing every mistake
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
    human = [f"config {config.path}: ok ({len(config.channels)} channels)"]
    human += [f"{n}: credentials {r}" for n, r in results.items()]
    app.emit({"config": str(config.path), "channels": results}, "\n".join(human))
    if any(r != "ok" for r in results.values()):
        raise SystemExit(1)


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (status, channels, plugins, check):
        cli.add_command(command)
