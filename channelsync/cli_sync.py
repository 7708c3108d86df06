"""Operator commands that run or talk to channels: run, resync, ship, status, check."""

from __future__ import annotations

import sys

import click

from channelsync import paging, retry
from channelsync.cli import EXIT_PARTIAL, App, pass_app
from channelsync.errors import ChannelError


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
    from channelsync import handoff, reconcile

    names = app.channel_names(channels)
    for sku in skus:
        from channelsync.catalog import require_sku

        require_sku(app.store, sku)
    args = {"what": list(what or reconcile.WHAT), "skus": list(skus) or None, "dry_run": dry_run}
    reports, failed = {}, []
    via_daemon = app.daemon_running()
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
                    reports[name] = handoff.wait(app.store, request_id, bar.update)
                else:
                    runner = app.runner(name)
                    try:
                        reports[name] = reconcile.resync(runner, progress=bar.update, **args).as_dict()
                        if not dry_run:  # no daemon to send what was queued: send it now
                            pushed = runner.drain()
                            reports[name]["pushed"] = {"ok": pushed.ok, "retry": pushed.retry,
                                                       "parked": pushed.parked}
                    finally:
                        runner.close()
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
    from channelsync import handoff, shipping

    row = shipping.find_order(app.store, order)
    args = {"ref": str(row["id"]), "carrier": carrier, "tracking_no": tracking}
    if app.daemon_running():
        result = handoff.wait(app.store, handoff.submit(app.store, "ship", row["channel"], args), timeout=300)
    else:
        runner = app.runner(row["channel"])
        try:
            result = shipping.ship(runner, **args)
        finally:
            runner.close()
    app.emit(result, f"{result['order']} shipped with {carrier} {tracking}")


@click.command("status")
@pass_app
def status(app: App) -> None:
    """Per channel: health, last poll and push, cursor, queue, parked failures."""
    from channelsync.engine import status_rows

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
    from channelsync.plugins import plugin_list

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
            runner = app.runner(name)
            try:
                retry.call(lambda: next(paging.pages(runner.channel.list_listings)), attempts=2,
                           refresh_auth=runner.channel.refresh_auth)
                results[name] = "ok"
            except ChannelError as exc:
                results[name] = f"failed: {exc}"
            finally:
                runner.close()
    human = [f"config {config.path}: ok ({len(config.channels)} channels)"]
    human += [f"{n}: credentials {r}" for n, r in results.items()]
    app.emit({"config": str(config.path), "channels": results}, "\n".join(human))
    if any(r != "ok" for r in results.values()):
        raise SystemExit(1)


COMMANDS = (run, resync, ship, status, channels, plugins, check)


@click.command("sandbox")
@click.option("--port", "ports", multiple=True, metavar="PLUGIN=PORT", help="e.g. taobao=9001 (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--env", "print_env", is_flag=True,
              help="Print `export` lines for the sandbox secrets that config/channelsync.toml reads, and exit.")
@pass_app
def sandbox_cmd(app: App, ports, host: str, print_env: bool) -> None:
    """Serve every platform simulator on 127.0.0.1 until stopped (Ctrl-C)."""
    import shlex
    import signal
    import threading

    from channelsync import sandbox

    if print_env:
        for name, value in sandbox.secret_exports(app.types, host).items():
            click.echo(f"export {name}={shlex.quote(value)}")
        return

    chosen = {}
    for spec in ports:
        plugin, _, port = spec.partition("=")
        if plugin not in sandbox.BUILTIN or not port.isdigit():
            raise click.UsageError(f"--port {spec!r}: expected PLUGIN=PORT with PLUGIN one of {', '.join(sandbox.BUILTIN)}")
        chosen[plugin] = int(port)
    running = sandbox.start(app.types, ports=chosen, host=host)
    if not running:
        raise click.ClickException("no platform simulators are installed")
    info = sandbox.describe(running)
    app.emit(info, "\n".join(f"{n:<8} {i['base_url']}  control {i['control_url']}  credentials "
                             + ", ".join(f"{k}={v}" for k, v in i["credentials"].items() if k != "base_url")
                             for n, i in info.items()) + "\nCtrl-C to stop.")
    import sys

    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop(running)


@click.command("demo")
@click.option("--duration", type=float, default=30.0, show_default=True, help="Seconds of buying.")
@click.option("--rate", type=float, default=2.0, show_default=True, help="Buyer orders a second, per channel.")
@click.option("--burst", is_flag=True, help="11.11: scarce SKUs, five times the rate.")
@click.option("--seed", type=int, help="Random seed, for a repeatable run.")
@click.option("--fake", "use_fakes", is_flag=True, help="Fake channels instead of the platform simulators.")
@click.pass_context
def demo_cmd(ctx: click.Context, duration: float, rate: float, burst: bool, seed: int | None, use_fakes: bool) -> None:
    """Seed a catalog, start the sandbox and the daemon, and let buyers order on every channel."""
    from channelsync import log
    from channelsync.demo import Demo, Options

    app: App = ctx.obj
    log.configure("json", "warning")
    say = (lambda s: click.echo(s, err=True)) if app.json else click.echo
    summary = Demo(Options(duration=duration, rate=rate, burst=burst, seed=seed, use_fakes=use_fakes), say).run()
    human = [f"consistency check: {'PASSED' if summary['consistent'] else 'FAILED'}",
             f"oversold units: {summary['oversold_units']}, duplicate orders: {summary['duplicate_orders']}, "
             f"settled in {summary['settled_in_seconds']} s"]
    human += [f"  {n}: placed {c['orders_placed']}, ingested {c['orders_ingested']}, refused at zero "
              f"{c['refused_at_zero']}, cancelled {c['cancelled']}, shipped {c['shipped']}, "
              f"off target {c['quantities_off_target']}" for n, c in summary["channels"].items()]
    human += [f"  problem: {p}" for p in summary["problems"]]
    app.emit(summary, "\n".join(human))
    if not summary["consistent"]:
        raise SystemExit(EXIT_PARTIAL)


COMMANDS = COMMANDS + (sandbox_cmd, demo_cmd)
