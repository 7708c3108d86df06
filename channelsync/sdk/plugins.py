"""The one factory that builds the plugin manager.

Built-in channels are found through the ``channelsync`` entry-point group,
exactly like third-party plugins. ``CHANNELSYNC_LOAD_PLUGINS=taobao,jd``
restricts which entry points load (empty: none); ``CHANNELSYNC_TRACE_PLUGINS=1``
prints every hook call to stderr.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from typing import Iterable

import pluggy

from channelsync.sdk import hookspecs
from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import UserError

GROUP = "channelsync"

#: core modules that implement hooks, loaded like any plugin
DEFAULT_PLUGINS: tuple[str, ...] = ()


def make_manager(extra: Iterable[object] = (), load_entry_points: bool = True) -> pluggy.PluginManager:
    """Build a plugin manager: hook specs, default plugins, entry points, ``extra``."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entry_points:
        _load_entry_points(pm, os.environ.get("CHANNELSYNC_LOAD_PLUGINS"))
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()
    if os.environ.get("CHANNELSYNC_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda message: sys.stderr.write(message))
        pm.enable_tracing()
    return pm


def _load_entry_points(pm: pluggy.PluginManager, only: str | None) -> None:
    allowed = None if only is None else {n.strip() for n in only.split(",") if n.strip()}
    for ep in importlib.metadata.entry_points(group=GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        pm.register(ep.load(), name=ep.name)


def channel_types(pm: pluggy.PluginManager) -> dict[str, type[Channel]]:
    """Collect the channel types every plugin registers (name -> adapter class)."""
    return _registered(pm.hook.register_channels, Channel, "channel type {}", "the channel type {}")


def plugin_list(pm: pluggy.PluginManager) -> list[dict]:
    """What is loaded, for ``channelsync plugins``."""
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda p: p[0]):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append({"name": name, "module": getattr(plugin, "__name__", repr(plugin)), "hooks": hooks})
    return rows


def intake_types(pm: pluggy.PluginManager) -> dict[str, type]:
    """Collect the message receivers plugins register (channel type name -> ``Receiver`` subclass)."""
    from channelsync.sdk.intake import Receiver

    return _registered(pm.hook.register_intake, Receiver, "intake for {}", "intake for the channel type {}")


def _registered(hook, base: type, what: str, twice: str) -> dict[str, type]:
    """Call a ``register_*`` hook with a ``register(name, cls)`` that keeps subclasses of
    ``base`` by name; refuses anything else, and two classes under one name (``what`` and
    ``twice``: the refusals' words, the name put in at ``{}``)."""
    types: dict[str, type] = {}

    def register(name: str, cls: type) -> None:
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise UserError(f"plugin registered {what.format(repr(name))} that is not a "
                            f"channelsync.{base.__name__} subclass")
        if name in types and types[name] is not cls:
            raise UserError(f"two plugins register {twice.format(repr(name))}")
        types[name] = cls

    hook(register=register)
    return types
