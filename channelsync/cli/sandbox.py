"""Commands for trying channelsync without a shop: sandbox and demo."""

from __future__ import annotations

import shlex
import signal
import sys
import threading

import click

from channelsync.cli.app import EXIT_PARTIAL, App, pass_app
from channelsync.sdk.hookspecs import hookimpl


@click.command("sandbox")
@click.option("--instance", "wanted", multiple=True, metavar="NAME=PLUGIN",
              help="Serve a simulator named NAME for channel type PLUGIN (repeatable: two shops of one "
                   "platform are two instances). Default: one per installed plugin with a simulator.")
@click.option("--port", "ports", multiple=True, metavar="NAME=PORT", help="e.g. taobao=9001 (repeatable).")
@click.option("--free-ports", is_flag=True, help="Listen on free ports (printed) instead of the fixed ones.")
@click.option("--rate-limit", "limits", multiple=True, metavar="[NAME=]CALLS",
              help="Calls a second each simulator allows before answering its platform's rate-limit error "
                   "(all, or NAME=CALLS for one; repeatable).")
@click.option("--seed", "seed_file", type=click.File("r", encoding="utf-8-sig"), metavar="CATALOG.csv",
              help="Put the SKUs of a catalog CSV (the `catalog import` format) on every simulator.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--env", "print_env", is_flag=True,
              help="Print `export` lines for the sandbox secrets that config/channelsync.toml reads, and exit.")
@click.option("--intake", "intake_url", default="http://127.0.0.1:9465", show_default=True, metavar="URL",
              help="Send each platform's messages (webhooks, push) to URL/intake/<channel>; 'off' to send none.")
@pass_app
def sandbox_cmd(app: App, wanted, ports, free_ports: bool, limits, seed_file, host: str, print_env: bool,
                intake_url: str) -> None:
    """Serve every installed platform simulator on 127.0.0.1 until stopped (Ctrl-C); buyer actions send the
    platforms' messages to the intake of `channelsync run` (channel names as in config/channelsync.toml)."""
    from channelsync.sdk.plugins import intake_types
    from channelsync.sim import sandbox

    if print_env:
        for name, value in sandbox.secret_exports(app.types, host, intake_types(app.pm)).items():
            click.echo(f"export {name}={shlex.quote(value)}")
        return
    chosen = [sandbox.Instance(*_pair(spec, "--instance", "NAME=PLUGIN")) for spec in wanted] or None
    by_port = {}
    for spec in ports:
        name, port = _pair(spec, "--port", "NAME=PORT")
        if not port.isdigit() or int(port) > 65535:
            raise click.UsageError(f"--port {spec!r}: PORT must be a number from 0 to 65535")
        by_port[name] = int(port)
    every, by_limit = None, {}
    for spec in limits:
        name, _, value = spec.rpartition("=")
        try:
            rate = float(value)
            if not rate > 0:
                raise ValueError
        except ValueError:
            raise click.UsageError(f"--rate-limit {spec!r}: expected CALLS (a positive number) or NAME=CALLS") from None
        if name:
            by_limit[name] = rate
        else:
            every = rate
    rows = sandbox.read_seed(seed_file, seed_file.name) if seed_file is not None else []
    if intake_url != "off" and not intake_url.startswith(("http://", "https://")):
        raise click.UsageError(f"--intake {intake_url!r}: expected an http:// URL or 'off'")
    plan = sandbox.instances(app.types, chosen, by_port, by_limit, every, free_ports)
    if not plan:
        raise click.ClickException("no platform simulators are installed")
    running = sandbox.start(app.types, host=host, intake=None if intake_url == "off" else intake_url, serve=plan)
    sandbox.seed(running, rows)
    info = sandbox.describe(running)
    app.emit(info, "\n".join(f"{n:<12} {i['plugin']:<9} {i['base_url']}  control {i['control_url']}"
                             + (f"  limit {i['rate_limit']:g}/s" if i["rate_limit"] else "") + "  credentials "
                             + ", ".join(f"{k}={v}" for k, v in i["credentials"].items() if k != "base_url")
                             for n, i in info.items())
             + (f"\nseeded {len(rows)} SKUs on each" if rows else "") + "\nCtrl-C to stop.")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop(running)


def _pair(spec: str, option: str, shape: str) -> tuple[str, str]:
    name, eq, value = spec.partition("=")
    if not eq or not name.strip() or not value.strip():
        raise click.UsageError(f"{option} {spec!r}: expected {shape}")
    return name.strip(), value.strip()


@click.command("demo")
@click.option("--duration", type=float, default=30.0, show_default=True, help="Seconds of buying.")
@click.option("--rate", type=float, default=2.0, show_default=True, help="Buyer orders a second, per channel.")
@click.option("--burst", is_flag=True, help="11.11: scarce SKUs, five times the rate.")
@click.option("--seed", type=int, help="Random seed, for a repeatable run.")
@click.option("--fake", "use_fakes", is_flag=True, help="Fake channels instead of the platform simulators.")
@click.option("--no-intake", "no_intake", is_flag=True,
              help="Platforms send no messages: orders come by polling only (every second) — to compare.")
@click.pass_context
def demo_cmd(ctx: click.Context, duration: float, rate: float, burst: bool, seed: int | None, use_fakes: bool,
             no_intake: bool) -> None:
    """Seed a catalog, start the sandbox and the daemon, and let buyers order on every channel."""
    from channelsync.demo import Demo, Options
    from channelsync.telemetry import log

    app: App = ctx.obj
    log.configure("json", "warning")
    say = (lambda s: click.echo(s, err=True)) if app.json else click.echo
    summary = Demo(Options(duration=duration, rate=rate, burst=burst, seed=seed, use_fakes=use_fakes,
                           intake=not no_intake), say).run()
    human = [f"consistency check: {'PASSED' if summary['consistent'] else 'FAILED'}",
             f"oversold units: {summary['oversold_units']}, duplicate orders: {summary['duplicate_orders']}, "
             f"settled in {summary['settled_in_seconds']} s"]
    seen = summary["order_seen_seconds"]
    if seen["orders"]:
        human.append(f"orders reached channelsync p50 {seen['p50']} s, p99 {seen['p99']} s after the buyer "
                     + ("(intake on: platform messages, poll every 30 s)" if summary["intake"] else
                        "(intake off: polling every second)"))
    human += [f"  {n}: placed {c['orders_placed']}, ingested {c['orders_ingested']}, refused at zero "
              f"{c['refused_at_zero']}, cancelled {c['cancelled']}, shipped {c['shipped']}, "
              f"off target {c['quantities_off_target']}" for n, c in summary["channels"].items()]
    human += [f"  problem: {p}" for p in summary["problems"]]
    app.emit(summary, "\n".join(human))
    if not summary["consistent"]:
        raise SystemExit(EXIT_PARTIAL)


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (sandbox_cmd, demo_cmd):
        cli.add_command(command)
