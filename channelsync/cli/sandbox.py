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
@click.option("--port", "ports", multiple=True, metavar="PLUGIN=PORT", help="e.g. taobao=9001 (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--env", "print_env", is_flag=True,
              help="Print `export` lines for the sandbox secrets that config/channelsync.toml reads, and exit.")
@click.option("--intake", "intake_url", default="http://127.0.0.1:9465", show_default=True, metavar="URL",
              help="Send each platform's messages (webhooks, push) to URL/intake/<channel>; 'off' to send none.")
@pass_app
def sandbox_cmd(app: App, ports, host: str, print_env: bool, intake_url: str) -> None:
    """Serve every platform simulator on 127.0.0.1 until stopped (Ctrl-C); buyer actions send the
    platforms' messages to the intake of `channelsync run` (channel names as in config/channelsync.toml)."""
    from channelsync.sdk.plugins import intake_types
    from channelsync.sim import sandbox

    if print_env:
        for name, value in sandbox.secret_exports(app.types, host, intake_types(app.pm)).items():
            click.echo(f"export {name}={shlex.quote(value)}")
        return

    chosen = {}
    for spec in ports:
        plugin, _, port = spec.partition("=")
        if plugin not in sandbox.BUILTIN or not port.isdigit():
            raise click.UsageError(f"--port {spec!r}: expected PLUGIN=PORT with PLUGIN one of {', '.join(sandbox.BUILTIN)}")
        chosen[plugin] = int(port)
    if intake_url != "off" and not intake_url.startswith(("http://", "https://")):
        raise click.UsageError(f"--intake {intake_url!r}: expected an http:// URL or 'off'")
    running = sandbox.start(app.types, ports=chosen, host=host, intake=None if intake_url == "off" else intake_url)
    if not running:
        raise click.ClickException("no platform simulators are installed")
    info = sandbox.describe(running)
    app.emit(info, "\n".join(f"{n:<8} {i['base_url']}  control {i['control_url']}  credentials "
                             + ", ".join(f"{k}={v}" for k, v in i["credentials"].items() if k != "base_url")
                             for n, i in info.items()) + "\nCtrl-C to stop.")
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
