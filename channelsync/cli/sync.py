"""Commands that run channels or talk to them: run, resync, ship."""

from __future__ import annotations

import sys

import click

from channelsync.cli.app import EXIT_PARTIAL, App, pass_app
from channelsync.sdk.errors import ChannelError
from channelsync.sdk.hookspecs import hookimpl


@click.command("run")
@pass_app
def run(app: App) -> None:
    """Run the daemon in the foreground until SIGTERM/SIGINT."""
    from channelsync.daemon import Daemon

    raise SystemExit(Daemon(app.config, app.pm).run())


@click.command("resync")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--sku", "skus", multiple=True, help="Only this SKU (repeatable).")
@click.option("--what", "what", multiple=True, type=click.Choice(["stock", "price", "listing"]),
              help="What to compare (repeatable; default all).")
@click.option("--dry-run", is_flag=True, help="Report the differences; change nothing.")
@pass_app
def resync(app: App, channels, skus, what, dry_run: bool) -> None:
    """Compare channels with the master and queue only the differences."""
    from channelsync.daemon import handoff
    from channelsync.sync import reconcile
    from channelsync.sync.runner import ChannelRunner

    names = app.channel_names(channels)
    for sku in skus:
        from channelsync.engine.catalog import require_sku

        require_sku(app.store, sku)
    args = {"what": list(what or reconcile.WHAT), "skus": list(skus) or None, "dry_run": dry_run}
    reports, failed = {}, []
    via_daemon = app.daemon_running()

    def here(name: str, progress) -> dict:
        """The resync in this process: no daemon runs (or it died while we waited)."""
        lane = app.lane(name)
        try:
            report = reconcile.resync(lane, progress=progress, **args).as_dict()
            if not dry_run:  # no daemon to send what was queued: send it now
                pushed = ChannelRunner(lane).drain()
                report["pushed"] = {"ok": pushed.ok, "retry": pushed.retry, "parked": pushed.parked}
            return report
        finally:
            lane.close()

    for name in names:
        label = f"{name}: reading listings" + (" (via the running daemon)" if via_daemon else "")
        # the length is an estimate (what the last resync saw, or the catalog's size); the bar clamps
        estimate = max(app.store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ?", (name,)),
                       app.store.scalar("SELECT COUNT(*) FROM skus WHERE status = 'active'"), 1)
        with click.progressbar(length=estimate, label=label, file=sys.stderr,
                               show_pos=True) as bar:
            try:
                if via_daemon:
                    request_id = handoff.submit(app.store, "resync", name, args)
                    reports[name] = handoff.wait(app.store, request_id, bar.update,
                                                 daemon_alive=lambda: handoff.daemon_alive(app.store),
                                                 daemon_running=app.daemon_running,
                                                 run_here=lambda progress, n=name: here(n, progress))
                else:
                    reports[name] = here(name, bar.update)
            except ChannelError as exc:
                failed.append(name)
                reports[name] = {"error": str(exc)}
    human = []
    for name, r in reports.items():
        if "error" in r:
            human.append(f"{name}: FAILED {r['error']}")
            continue
        q = r["queued"]
        pushed = f"; pushed {r['pushed']['ok']}" if "pushed" in r else ""
        human.append(f"{name}: {r['seen']} listings, {r['linked']} linked ({r['new_links']} new), "
                     f"{r['unmatched']} unmatched, {r['drift']} drifted, {r['not_listed']} SKUs not listed; "
                     f"{'would queue' if dry_run else 'queued'} stock {q['stock']}, price {q['price']}, "
                     f"shelf {q['shelf']}, publish {q['publish']}{pushed}")
    app.emit(reports, "\n".join(human))
    if failed:
        raise SystemExit(EXIT_PARTIAL if len(failed) < len(names) else 1)


@click.command("ship")
@click.argument("order")
@click.option("--carrier", required=True, help="Carrier code, e.g. SF, ZTO, YTO.")
@click.option("--tracking", required=True, help="Tracking (waybill) number.")
@pass_app
def ship(app: App, order: str, carrier: str, tracking: str) -> None:
    """Tell ORDER's channel it shipped, and turn its reservation into a stock decrease."""
    from channelsync.daemon import handoff
    from channelsync.engine.orders import find_order
    from channelsync.sync import shipping

    row = find_order(app.store, order)
    args = {"ref": str(row["id"]), "carrier": carrier, "tracking_no": tracking}

    def here(_progress=None) -> dict:
        lane = app.lane(row["channel"])
        try:
            return shipping.ship(lane, **args)
        finally:
            lane.close()

    if app.daemon_running():
        result = handoff.wait(app.store, handoff.submit(app.store, "ship", row["channel"], args), timeout=300,
                              daemon_alive=lambda: handoff.daemon_alive(app.store),
                              daemon_running=app.daemon_running, run_here=here)
    else:
        result = here()
    app.emit(result, f"{result['order']} shipped with {carrier} {tracking}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (run, resync, ship):
        cli.add_command(command)
