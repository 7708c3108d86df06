"""The ``channelsync`` command group and the console script.

Commands live in the modules of ``COMMAND_PLUGINS`` and register through the
``register_commands`` hook, exactly as an outside plugin's commands do.
"""

from __future__ import annotations

import importlib
import sys

import click

from channelsync.cli.app import EXIT_OK, App

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
    """The console script: runs the group and turns every error into a message and an exit code
    (``cli/errors.py``); not even an unexpected one reaches the operator as a traceback."""
    from channelsync.cli import errors
    from channelsync.sdk.plugins import make_manager

    args = list(sys.argv[1:] if argv is None else argv)
    json_out = "--json" in args
    try:
        pm = pm or make_manager()
        register_default_plugins(pm)
        pm.hook.register_commands(cli=cli)
        rc = cli.main(args=args, obj=pm, standalone_mode=False)
    except SystemExit as exc:  # a command's own exit code
        rc = exc.code
    except BrokenPipeError:  # `channelsync status | head`: the reader left, nothing to say
        sys.stderr.close()
        rc = EXIT_OK
    except BaseException as exc:  # noqa: BLE001 - the one place every error becomes a message
        rc = errors.report(exc, json_out)
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)
