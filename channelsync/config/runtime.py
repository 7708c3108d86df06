"""How the process runs: the ``[store]`` settings beside ``path`` (lock waits, the key),
the ``[daemon]`` supervision and health settings, and the warnings about ``[daemon]``.

Kept out of the loader so it stays one readable walk over the file; ``checker``
is the loader's ``_Checker`` (its ``fields``, ``secret`` and ``err``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from channelsync.config.settings import Config, StoreSettings
from channelsync.sdk.channel import Setting

RULES = {"lock_log_every": ("seconds", lambda x: 0.05 <= x <= 3600, "seconds between 0.05 and 3600"),
         "lock_timeout": ("seconds", lambda x: 0 <= x <= 86400, "seconds between 0 and 86400")}
DAEMON_RULES = {
    "unhealthy_when": ("str", lambda s: s in ("any_failing", "any_degraded", "all_failing"),
                       "one of: all_failing, any_degraded, any_failing"),
    "restart_backoff_max": ("seconds", lambda x: 1 <= x <= 86400, "seconds between 1 and 86400")}
KEYS = ("key",) + tuple(RULES)
KEY_MIN = 32  # characters of key material: `head -c 32 /dev/urandom | base64`
_KEY = Setting(str, secret=True)
_TEXT = ("str", lambda s: s != "", "a non-empty string")
_EVERYWHERE = ("0.0.0.0", "::", "[::]", "*")


def store(checker: Any, raw: Any) -> tuple[Path, StoreSettings]:
    """The ``[store]`` table: the database's path (relative to the config file) and its settings."""
    table = checker.table(("store",), raw, ("path",) + KEYS)
    db_path = checker.file("channelsync.db")
    if "path" in table and checker.value(("store", "path"), table["path"], _TEXT) is not None:
        db_path = checker.file(table["path"])
    return db_path, StoreSettings(**checker.fields(("store",), table, RULES), key=_key(checker, table))


def _key(checker: Any, store: dict) -> bytes | None:
    """``store.key = { file = ... }``: the key material renewed tokens are encrypted with."""
    if "key" not in store:
        return None
    value = checker.secret(("store", "key"), store["key"], _KEY)
    if value is None:
        return None
    if len(value.strip()) < KEY_MIN:
        checker.err(("store", "key"), f"the key is too short (expected at least {KEY_MIN} characters of random "
                                      "text, e.g. from `head -c 32 /dev/urandom | base64`)")
        return None
    return value.strip().encode()


def warnings(config: Config, sku_exists: Callable[[str], bool] | None = None) -> list[str]:
    """What is valid yet almost certainly a mistake; ``sku_exists`` (given a store) also
    checks that every per-SKU override names a SKU of the catalog."""
    out = []
    daemon = config.daemon
    if daemon.http_port and daemon.http_host in _EVERYWHERE:
        out.append(f'daemon.http_host: "{daemon.http_host}" serves /healthz and /metrics on every network '
                   'interface; use "127.0.0.1" unless a scraper on another host needs them (then firewall the port)')
    for name, cfg in config.channels.items() if sku_exists is not None else ():
        for sku in cfg.overrides:
            if not sku_exists(sku):
                out.append(f"channels.{name}.overrides.{json.dumps(sku, ensure_ascii=False)}: no SKU {sku!r} in the "
                           "catalog (a typo? the override applies to nothing)")
    return out
