"""Commands that show what is configured and how it is going: status, channels, plugins, check."""

from __future__ import annotations

import sys

import click

from channelsync.cli import progress, table
from channelsync.cli.app import EXIT_ATTENTION, App, pass_app
from channelsync.sdk.errors import ChannelError
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sync import paging, retry


@click.command("status")
@click.option("--channel", "only", multiple=True, help="Details of this channel (repeatable).")
@pass_app
def status(app: App, only: tuple[str, ...]) -> None:
    """Per channel: health, last poll and push, queue, parked failures; low stock; --channel for details.

    Read-only. Exits 4 when something needs attention: the daemon is not running, or a
    channel shown is failing, degraded (pushes retried or parked) or its worker crashed."""
    from channelsync.daemon.intake_ledger import intake_rows
    from channelsync.engine import lowstock
    from channelsync.engine.channels import status_rows

    names = app.channel_names(only) if only else None
    rows = [r for r in status_rows(app.reader, app.config) if names is None or r["channel"] in names]
    seen = intake_rows(app.reader)
    for r in rows:
        r["intake"] = {"enabled": app.config.channels[r["channel"]].intake.enabled,
                       **seen.get(r["channel"], {"accepted": 0, "rejected": {}})}
    daemon = app.reader.one("SELECT pid, started_at, heartbeat_at FROM daemon WHERE id = 1")
    running = app.daemon_running()
    low = lowstock.levels(app.reader, app.config, only_low=True)
    attention = ([] if running else ["the daemon is not running"]) + [
        f"{r['channel']}: {r['health']}" + (f" ({r['last_error']})" if r["last_error"] else "")
        for r in rows if r["enabled"] and r["health"] not in ("ok", "unknown")]
    data = {"daemon": {"running": running, **(daemon or {})}, "channels": rows,
            "low_stock": [{k: r[k] for k in ("sku", "available", "reorder_point")} for r in low],
            "attention": attention}
    if "*" in seen:
        data["intake_unknown_channel"] = seen["*"]["rejected"]
    text = status_text(app, rows, daemon if running else None, low, details=bool(only))
    lines = [text] + intake_text(rows, seen.get("*"), sys.stdout.isatty())
    app.emit(data, "\n".join(lines + (["needs attention: " + "; ".join(attention)] if attention else [])))
    if attention:
        raise SystemExit(EXIT_ATTENTION)


def intake_text(rows: list[dict], unknown: dict | None, colour: bool) -> list[str]:
    """Platform messages per channel (when any channel takes them): on/off, last verified, refused by reason."""
    if not any(r["intake"]["enabled"] or r["intake"]["accepted"] or r["intake"]["rejected"] for r in rows):
        return []
    body = []
    for r in rows:
        i = r["intake"]
        state = "on" if i["enabled"] else "off"
        if i.get("connected") is not None:
            state += ", connected" if i["connected"] else f", {table.paint('NOT connected', colour)}"
        body.append([r["channel"], state, table.age(i.get("last_verified_at")), i["accepted"],
                     ", ".join(f"{n} {k}" for k, n in sorted(i["rejected"].items())) or "-"])
    out = [table.render(["intake", "messages", "last verified", "accepted", "rejected"], body, right=(3,))]
    if unknown:
        out.append(f"intake for no known channel: {sum(unknown['rejected'].values())} rejected")
    return out


def _expiry(stamp: str | None, colour: bool) -> str:
    """"in 20 h"; an expired token stands out: "EXPIRED 3 h ago"."""
    if not stamp:
        return "-"
    shown = table.age(stamp)
    return shown if shown.startswith("in ") else f"{table.paint('EXPIRED', colour)} {shown}"


def status_text(app: App, rows: list[dict], daemon: dict | None, low: list[dict], details: bool) -> str:
    """The status table; one column per fact so new facts (poll/push health, ...) fit as columns."""
    from channelsync.engine.channels import resync_cursor

    colour = sys.stdout.isatty()
    out = [f"daemon: running (pid {daemon['pid']}, started {table.age(daemon['started_at'])}, "
           f"heartbeat {table.age(daemon['heartbeat_at'])})" if daemon else "daemon: not running"]
    body = []
    for r in rows:
        cfg = app.config.channels[r["channel"]]
        health = r["health"] if r["enabled"] else "disabled"
        shown = f"{cfg.display_name} ({r['channel']})" if cfg.display_name else r["channel"]  # --channel takes the key
        body.append([shown, r["plugin"], table.paint(health, colour),
                     table.age(r["last_poll_ok_at"]), table.age(r["last_push_at"]), r["queue"]["pending"],
                     r["queue"]["failed"], r["listings"], r["unmatched_listings"], r["drift"]["count"],
                     _expiry(r["token_expires_at"], colour)])
    out.append(table.render(["channel", "plugin", "health", "last poll ok", "last push", "queued", "parked",
                             "listings", "unmatched", "drift", "token expires"], body, right=(5, 6, 7, 8, 9),
                            empty="(no channels configured)"))
    for r in rows:
        # poll and push apart (issue 11); a plain line until the table gives them columns
        out.append(f"{r['channel']}: poll {r['poll']['health']}, push {r['push']['health']}, "
                   f"parked {r['push']['parked']}" + (f"; worker: {r['worker_error']}" if r["worker_error"] else ""))
        if r["last_error"]:
            out.append(f"{r['channel']}: last error: {r['last_error'] if details else r['last_error'][:100]}")
        if details:
            out.append(f"{r['channel']}: order cursor {r['order_cursor'] or '-'} ({table.age(r['order_cursor'])})")
            stopped = resync_cursor(app.reader, r["channel"])
            if stopped:
                out.append(f"{r['channel']}: resync interrupted after {stopped['report']['seen']} listings "
                           f"(started {table.age(stopped['started_at'])}); the next resync goes on from there")
            if r["failures"]:
                out.append(table.render(["parked", "SKU", "tries", "since", "error"],
                                        [[f["kind"], f["sku_code"], f["attempts"], table.age(f["updated_at"]),
                                          f["last_error"]] for f in r["failures"]], right=(2,)))
        elif r["queue"]["failed"]:
            out.append(f"{r['channel']}: {r['queue']['failed']} parked push(es): see `status --channel "
                       f"{r['channel']}`; `resync` retries them")
        out.extend(_drift_lines(r, details))
    if low:
        shown = ", ".join(f"{x['sku']} ({x['available']} <= {x['reorder_point']})" for x in low[:8])
        out.append(f"{table.paint('LOW', colour)} stock: {len(low)} SKU(s) at or below their reorder point: {shown}"
                   + (" ..." if len(low) > 8 else "") + "; see `stock low`")
    return "\n".join(out)


def _drift_lines(r: dict, details: bool) -> list[str]:
    """Drift the channel showed (found by the drift check or resync, and repaired): the
    latest one, or with details each of the latest, as SKU, value seen, value expected."""
    drift = r["drift"]
    if not drift["count"]:
        return []
    shown = [f"{d['sku']} showed {d['seen']}, expected {d['expected']} ({table.age(d['found_at'])})"
             for d in drift["latest"][:None if details else 1]]
    return [f"{r['channel']}: drift found and repaired: {drift['count']} (latest: {'; '.join(shown)})"]


@click.command("channels")
@pass_app
def channels(app: App) -> None:
    """Configured channels, their plugin and rules (secrets hidden)."""
    from channelsync.config import redacted

    data = [{"name": c.name, "plugin": c.plugin, "enabled": c.enabled, "warehouses": list(c.warehouses),
             "share": str(c.rules.share), "buffer": c.rules.buffer, "max": c.rules.max,
             "zero_below": c.rules.zero_below, "poll_interval": c.poll_interval, "settings": redacted(c),
             "intake": c.intake.enabled}
            for c in app.config.channels.values()]
    app.emit(data, table.render(
        ["channel", "name", "plugin", "enabled", "warehouses", "share", "buffer", "max", "zero below", "poll every",
         "intake"],
        [[d["name"], app.config.channels[d["name"]].display_name or "", d["plugin"], "yes" if d["enabled"] else "no",
          ", ".join(d["warehouses"]) or "all", d["share"], d["buffer"], "none" if d["max"] is None else d["max"],
          d["zero_below"], f"{d['poll_interval']:g} s", "on" if d["intake"] else "off"] for d in data],
        right=(5, 6, 7, 8, 9),
        empty="no channels configured"))


@click.command("plugins")
@pass_app
def plugins(app: App) -> None:
    """Loaded plugins, their hooks, and the channel types they provide."""
    from channelsync.sdk.plugins import plugin_list

    rows = plugin_list(app.pm)
    types = {name: f"{cls.__module__}.{cls.__qualname__}" for name, cls in app.types.items()}
    app.emit({"plugins": rows, "channel_types": types},
             table.render(["plugin", "module", "hooks"], [[r["name"], r["module"], ", ".join(r["hooks"])] for r in rows])
             + "\n\n" + table.render(["channel type", "class"], sorted(types.items())))


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
    names = [] if offline else app.channel_names(())
    with progress.bar("checking credentials", len(names)) as bar:
        for name in names:
            lane = app.lane(name)
            try:
                retry.call(lambda: next(paging.pages(lane.adapter.list_listings)), attempts=2,
                           refresh_auth=lane.adapter.refresh_auth)
                results[name] = "ok"
            except ChannelError as exc:
                results[name] = f"failed: {exc}"
            finally:
                lane.close()
                bar.update(1)
    human = [f"config {config.path}: ok ({len(config.channels)} channels), database {config.db_path}"]
    human += [f"warning: {w}" for w in warnings]
    human += [f"{n}: credentials {r}" for n, r in results.items()]
    intake_on = [n for n, c in config.channels.items() if c.intake.enabled]
    base = config.intake.public_url or f"http://{config.intake.host}:{config.intake.port}"
    if intake_on:  # the loader checked each [channels.NAME.intake]; say where platforms must post
        human += [f"intake on {config.intake.host}:{config.intake.port}"
                  + ("" if config.intake.public_url else " (no public_url: platforms need the proxy's address)")]
        human += [f"{n}: intake at {base}/intake/{n}" for n in intake_on]
    app.emit({"config": str(config.path), "database": str(config.db_path), "warnings": warnings, "channels": results,
              "intake": {n: f"{base}/intake/{n}" for n in intake_on}}, "\n".join(human))
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
