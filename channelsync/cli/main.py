"""The ``channelsync`` command group and the console script.

Commands live in the modules of ``COMMAND_PLUGINS`` and register through the
``register_commands`` hook, exactly as an outside plugin's commands do.
"""

from __future__ import annotations

import importlib
import sys

import click

from channelsync.cli.app import EXIT_FAILED, EXIT_OK, EXIT_USAGE, App
from channelsync.sdk.errors import ChannelError, ChannelsyncError, UserError
from channelsync.telemetry import log

#: the built-in command modules, registered as default plugins
COMMAND_PLUGINS = ("channelsync.cli.catalog", "channelsync.cli.sync", "channelsync.cli.status",
                   "channelsync.cli.returns", "channelsync.cli.sandbox", "channelsync.cli.report",
                   "channelsync.cli.prices", "channelsync.cli.listings")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="CHANNELSYNC_CONFIG", type=click.Path(dir_okay=False),
              help="Config file (default config/channelsync.toml; env CHANNELSYNC_CONFIG).")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
@click.version_option(package_name="channelsync")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, json_out: bool) -> None:
    """Keep one master catalog and several online shops consistent."""
    if not isinstance(ctx.obj, App):
        ctx.obj = App(config_path, json_out, pm=ctx.obj)


def register_default_plugins(pm) -> None:
    """Register the built-in command modules on ``pm`` (once) so their hooks run."""
    for name in COMMAND_PLUGINS:
        if pm.get_plugin(name) is None:
            pm.register(importlib.import_module(name), name=name)


def main(argv: list[str] | None = None, pm=None) -> None:
    """The console script: runs the group and turns errors into messages and exit codes."""
    from channelsync.sdk.plugins import make_manager

    try:
        pm = pm or make_manager()
        register_default_plugins(pm)
        pm.hook.register_commands(cli=cli)
        rc = cli.main(args=argv, obj=pm, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        rc = EXIT_FAILED
    except click.ClickException as exc:
        exc.show()
        rc = EXIT_USAGE
    except UserError as exc:
        click.echo(f"error: {log.redact_text(str(exc))}", err=True)
        rc = EXIT_USAGE
    except (ChannelError, ChannelsyncError) as exc:
        click.echo(f"failed: {log.redact_text(str(exc))}", err=True)
        rc = EXIT_FAILED
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)

