"""The ``channelsync`` command group, its shared context and exit codes.

Exit codes: 0 success; 1 a platform or runtime failure; 2 bad input (config,
CSV, unknown SKU, usage); 3 partly done (some channels failed, or a
consistency check found differences).
"""

from __future__ import annotations

import json
import sys
from functools import cached_property
from typing import Any

import click

from channelsync import log
from channelsync.errors import ChannelError, ChannelsyncError, UserError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class App:
    """Lazily loaded config, plugins and store for one CLI invocation."""

    def __init__(self, config_path: str | None, json_out: bool, pm=None) -> None:
        self.config_path = config_path
        self.json = json_out
        self._pm = pm

    @cached_property
    def pm(self):
        from channelsync.plugins import make_manager

        return self._pm or make_manager()

    @cached_property
    def types(self):
        from channelsync.plugins import channel_types

        return channel_types(self.pm)

    @cached_property
    def config(self):
        from channelsync import config as config_mod

        cfg = config_mod.load(self.config_path, self.types)
        log.register_secrets(v for ch in cfg.channels.values() for k, v in ch.settings.items() if k in ch.secret_keys)
        log.configure(cfg.daemon.log_format, cfg.daemon.log_level)
        return cfg

    @cached_property
    def store(self):
        from channelsync import catalog
        from channelsync.store import Store

        store = Store(self.config.db_path)
        catalog.sync_warehouses(store, self.config)
        return store

    def channel_names(self, names: tuple[str, ...]) -> list[str]:
        unknown = [n for n in names if n not in self.config.channels]
        if unknown:
            raise UserError(f"unknown channel {', '.join(map(repr, unknown))} "
                            f"(configured: {', '.join(sorted(self.config.channels)) or 'none'})")
        return list(names) or [n for n, c in self.config.channels.items() if c.enabled]

    def runner(self, name: str):
        from channelsync import engine

        channel, bucket = engine.build_channel(self.config.channels[name], self.types, store=self.store)
        return engine.ChannelRunner(self.config, name, self.store, channel, bucket, self.pm)

    def daemon_running(self) -> bool:
        from channelsync.daemon import InstanceLock

        return InstanceLock.held(self.config.db_path)

    def emit(self, data: Any, human: str | None = None) -> None:
        if self.json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            click.echo(human if human is not None else str(data))


pass_app = click.make_pass_decorator(App)


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


def _register_builtin_commands() -> None:
    from channelsync import cli_catalog, cli_sync

    for module in (cli_catalog, cli_sync):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_builtin_commands()


def main(argv: list[str] | None = None, pm=None) -> None:
    """The console script: runs the group and turns errors into messages and exit codes."""
    from channelsync.plugins import make_manager

    try:
        pm = pm or make_manager()
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

