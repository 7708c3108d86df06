"""cli/main.py: the built-in commands register through ``register_commands``, as a plugin's would."""

from __future__ import annotations

import importlib

import click
import pytest

from channelsync.cli import catalog, sandbox, status, sync
from channelsync.cli.main import COMMAND_PLUGINS, register_default_plugins
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sdk.plugins import make_manager

BUILT_IN = {"catalog", "stock", "orders", "run", "reload", "resync", "ship", "status", "channels", "plugins",
            "check", "sandbox", "demo", "report", "price", "listings", "returns"}


@pytest.fixture
def pm():
    pm = make_manager(load_entry_points=False)
    register_default_plugins(pm)
    return pm


def test_the_command_modules_are_default_plugins(pm):
    assert COMMAND_PLUGINS == ("channelsync.cli.catalog", "channelsync.cli.sync", "channelsync.cli.status",
                               "channelsync.cli.returns", "channelsync.cli.sandbox", "channelsync.cli.report",
                               "channelsync.cli.prices", "channelsync.cli.listings")
    assert pm.get_plugin("channelsync.cli.catalog") is catalog
    assert pm.get_plugin("channelsync.cli.sync") is sync
    assert pm.get_plugin("channelsync.cli.status") is status
    assert pm.get_plugin("channelsync.cli.sandbox") is sandbox
    for name in COMMAND_PLUGINS:
        assert pm.get_plugin(name) is importlib.import_module(name)


def test_a_bare_manager_has_no_commands():
    group = click.Group()
    make_manager(load_entry_points=False).hook.register_commands(cli=group)
    assert group.commands == {}


def test_register_commands_adds_every_built_in_command(pm):
    group = click.Group()
    pm.hook.register_commands(cli=group)
    assert set(group.commands) == BUILT_IN
    assert group.commands["catalog"] is catalog.catalog_group
    assert group.commands["run"] is sync.run
    assert group.commands["check"] is status.check
    assert group.commands["demo"] is sandbox.demo_cmd
    assert {"import", "export"} <= set(group.commands["catalog"].commands)


def test_registering_twice_is_harmless(pm):
    plugins = set(pm.get_plugins())
    register_default_plugins(pm)  # no "plugin already registered" error
    assert set(pm.get_plugins()) == plugins
    group = click.Group()
    pm.hook.register_commands(cli=group)  # each module's hook runs once
    assert set(group.commands) == BUILT_IN


def test_an_outside_plugins_commands_register_alongside(pm):
    @click.command("hello")
    def hello() -> None:
        pass

    class Outside:
        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            cli.add_command(hello)

    pm.register(Outside())
    group = click.Group()
    pm.hook.register_commands(cli=group)
    assert set(group.commands) == BUILT_IN | {"hello"}
