"""The ``[intake]`` table and each channel's ``[channels.NAME.intake]``, checked like the rest.

Called by the loader's checker (passed in as ``check``: it records errors with
key paths and resolves secret references), so every mistake is reported in the
same one pass. Kept apart from the loader because it is one feature's rules.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from channelsync.config.settings import ChannelIntake, Config, IntakeConfig

GLOBAL_RULES = {"host": ("str", lambda s: s != "", "a host name or address"),
                "port": ("int", lambda n: 0 <= n <= 65535, "a port between 0 and 65535"),
                "public_url": ("str", lambda s: s.startswith(("http://", "https://")),
                               "an http:// or https:// URL")}
CHANNEL_RULES = {"enabled": ("bool", lambda b: True, "true or false"),
                 "max_age": ("seconds", lambda x: 0 < x <= 86400, "a number of seconds between 0 and 86400")}


def attach(check: Any, config: Config, data: Any, receivers: Mapping[str, type]) -> Config:
    """``config`` with ``[intake]`` and every ``[channels.NAME.intake]`` read from ``data``;
    ``receivers``: channel type -> its registered ``Receiver`` subclass."""
    if not isinstance(data, dict):
        return config
    raw_channels = data.get("channels") if isinstance(data.get("channels"), dict) else {}
    channels = {}
    for name, cfg in config.channels.items():
        raw = raw_channels.get(name)
        known = cfg.plugin if cfg.plugin in check.types else None  # an unknown plugin is reported already
        found = channel_intake(check, ("channels", name, "intake"), raw.get("intake") if isinstance(raw, dict) else None,
                               known, receivers.get(known) if known else None)
        channels[name] = replace(cfg, intake=found)
    return replace(config, channels=channels, intake=daemon_intake(check, data.get("intake", {})))


def daemon_intake(check: Any, raw: Any) -> IntakeConfig:
    table = check.table(("intake",), raw, tuple(GLOBAL_RULES))
    values = check.fields(("intake",), table, GLOBAL_RULES)
    if "public_url" in values:
        values["public_url"] = values["public_url"].rstrip("/")
    return IntakeConfig(**values)


def channel_intake(check: Any, path: tuple, raw: Any, plugin: str | None, receiver: type | None) -> ChannelIntake:
    if raw is None:
        return ChannelIntake()
    schema = receiver.settings_schema if receiver is not None else {}
    table = check.table(path, raw, tuple(CHANNEL_RULES) + tuple(schema))
    core = check.fields(path, table, CHANNEL_RULES)
    if receiver is None:
        if core.get("enabled") and plugin:
            check.err(path + ("enabled",), f"plugin {plugin!r} cannot receive platform messages "
                                           "(no intake registered for it; remove this table or set enabled = false)")
        return ChannelIntake()
    own = {key: value for key, value in table.items() if key in schema}
    if not core.get("enabled", False):
        # switched off: its settings need not be complete (and their secrets not set)
        return ChannelIntake(enabled=False, max_age=core.get("max_age"))
    settings = check.settings(path, own, schema, True)
    for key, problem in receiver.check({k: v for k, v in settings.items() if v is not None}).items():
        check.err(path + (key,), problem)
    return ChannelIntake(enabled=True, max_age=core.get("max_age"), settings=settings,
                         secret_keys=frozenset(k for k, s in schema.items() if s.secret))
