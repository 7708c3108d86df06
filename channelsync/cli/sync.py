"""Commands that run channels or talk to them: run, reload, resync, ship."""

from __future__ import annotations

import os
import signal

import click

from channelsync.cli import progress, table
from channelsync.cli.app import EXIT_PARTIAL, App, pass_app
from channelsync.sdk.errors import ChannelError, ChannelsyncError
from channelsync.sdk.hookspecs import hookimpl

CHANGES_SHOWN = 20


@click.command("run")
@pass_app
def run(app: App) -> None:
    """Run the daemon in the foreground until SIGTERM/SIGINT."""
    from channelsync.daemon import Daemon

    raise SystemExit(Daemon(app.config, app.pm).run())


@click.command("reload")
@pass_app
def reload(app: App) -> None:
    """Check the config file, then have the running daemon apply it (SIGHUP).

    A file with mistakes is refused here, each mistake with its key path, and
    nothing is sent; the daemon checks it again before applying it."""
    config = app.config  # raises ConfigError listing every mistake
    pid = app.store.scalar("SELECT pid FROM daemon WHERE id = 1") if app.daemon_running() else None
    if not pid:
        raise ChannelsyncError(f"no daemon is running on {config.db_path}: the config applies when it starts")
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:  # another host's or another user's process
        raise ChannelsyncError(f"cannot signal the daemon (pid {pid}): {exc.strerror or exc}; "
                               "send it SIGHUP where it runs") from None
    app.emit({"pid": pid, "config": str(config.path)},
             f"config {config.path} is valid; daemon pid {pid} is applying it (its log says what waits for a restart)")


@click.command("resync")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--sku", "skus", multiple=True, help="Only this SKU (repeatable).")
@click.option("--what", "what", multiple=True, type=click.Choice(["stock", "price", "listing"]),
              help="What to compare (repeatable; default all).")
@click.option("--dry-run", is_flag=True, help="List the changes it would make; change nothing.")
@click.option("--all", "all_changes", is_flag=True, help="List every change, not the first 20 per channel.")
@pass_app
def resync(app: App, channels, skus, what, dry_run: bool, all_changes: bool) -> None:
    """Compare channels with the master and queue only the differences."""
    from channelsync.daemon import handoff
    from channelsync.sync import reconcile
    from channelsync.sync.runner import ChannelRunner

    names = app.channel_names(channels)
    for sku in skus:
        from channelsync.engine.catalog import require_sku

        require_sku(app.store, sku)
    args = {"what": list(what or reconcile.WHAT), "skus": list(skus) or None, "dry_run": dry_run,
            "change_limit": None if all_changes else CHANGES_SHOWN}
    reports, failed = {}, []
    via_daemon = app.daemon_running()
    for name in names:
        label = f"{name}: reading listings" + (" (via the running daemon)" if via_daemon else "")
        # the length is an estimate (what the last resync saw, or the catalog's size); the bar clamps
        estimate = max(app.store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ?", (name,)),
                       app.store.scalar("SELECT COUNT(*) FROM skus WHERE status = 'active'"), 1)
        with progress.bar(label, estimate) as bar:
            try:
                if via_daemon:
                    request_id = handoff.submit(app.store, "resync", name, args)
                    reports[name] = handoff.wait(app.store, request_id, bar.update)
                else:
                    lane = app.lane(name)
                    try:
                        reports[name] = reconcile.resync(lane, progress=bar.update, **args).as_dict()
                        if not dry_run:  # no daemon to send what was queued: send it now
                            pushed = ChannelRunner(lane).drain()
                            reports[name]["pushed"] = {"ok": pushed.ok, "retry": pushed.retry,
                                                       "parked": pushed.parked}
                    finally:
                        lane.close()
            except ChannelError as exc:
                failed.append(name)
                reports[name] = {"error": str(exc)}
    app.emit(reports, resync_text(reports, dry_run))
    if failed:
        raise SystemExit(EXIT_PARTIAL if len(failed) < len(names) else 1)


def resync_text(reports: dict, dry_run: bool) -> str:
    """Per channel a summary line, then the changes as a table (SKU, channel, field, from, to)."""
    human, changes, total, shown = [], [], 0, 0
    for name, r in reports.items():
        if "error" in r:
            human.append(f"{name}: FAILED {r['error']}")
            continue
        q = r["queued"]
        pushed = f"; pushed {r['pushed']['ok']}" if "pushed" in r else ""
        human.append(f"{name}: {r['seen']} listings{' (resumed where the last run stopped)' if r.get('resumed') else ''}"
                     f", {r['linked']} linked ({r['new_links']} new), "
                     f"{r['unmatched']} unmatched, {r['drift']} drifted, {r['not_listed']} SKUs not listed; "
                     f"{'would queue' if dry_run else 'queued'} stock {q['stock']}, price {q['price']}, "
                     f"shelf {q['shelf']}, publish {q['publish']}{pushed}")
        changes += r.get("changes", [])
        total += r.get("changes_total", 0)
        shown += len(r.get("changes", []))
    human += ["", ("Changes it would make:" if dry_run else "Changes made:")]
    human.append(table.render(["SKU", "channel", "field", "from", "to"],
                              [[c["sku"], c["channel"], c["field"], "-" if c["from"] is None else c["from"], c["to"]]
                               for c in changes], empty="(none: the channels show what they should)"))
    if total > shown:
        human.append(f"... and {total - shown} more (--all lists every change, --json gives them to a script)")
    if any(r.get("unmatched") for r in reports.values() if "error" not in r):
        human.append("unmatched listings: `channelsync listings unmatched`")
    return "\n".join(human)


@click.command("ship")
@click.argument("order")
@click.option("--carrier", required=True, help="Carrier code, e.g. SF, ZTO, YTO.")
@click.option("--tracking", required=True, help="Tracking (waybill) number.")
@click.option("--line", "lines", multiple=True, metavar="SKU:QTY",
              help="Ship only these units in this parcel (repeatable); default: every unit left to ship.")
@pass_app
def ship(app: App, order: str, carrier: str, tracking: str, lines) -> None:
    """Tell ORDER's channel a parcel left, and turn its reservation into a stock decrease.

    Several parcels per order: ship part with --line, the rest later."""
    from channelsync.cli.returns import sku_qty
    from channelsync.daemon import handoff
    from channelsync.engine.orders import find_order
    from channelsync.sync import shipping

    chosen = sku_qty(click.get_current_context(), None, tuple(lines)) if lines else []
    row = find_order(app.store, order)
    args = {"ref": str(row["id"]), "carrier": carrier, "tracking_no": tracking, "lines": chosen}
    if app.daemon_running():
        result = handoff.wait(app.store, handoff.submit(app.store, "ship", row["channel"], args), timeout=300)
    else:
        lane = app.lane(row["channel"])
        try:
            result = shipping.ship(lane, **args)
        finally:
            lane.close()
    left = f", {result['left_to_ship']} unit(s) left to ship" if result.get("left_to_ship") else ""
    app.emit(result, f"{result['order']} shipped {result.get('units', '')} unit(s) with {carrier} {tracking}; "
                     f"now {result['status']} [{result.get('platform_status')}]{left}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (run, reload, resync, ship):
        cli.add_command(command)
