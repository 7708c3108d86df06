"""The TOML config file -> a validated ``channelsync.config.settings.Config``.

Every mistake is collected, each with its dotted key path and what was expected,
and reported at once in one ``ConfigError``: an operator fixes the file in one
pass instead of one restart per typo. Secrets are resolved here (from the
environment or a file) and their values never appear in a message.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

from channelsync.config import intake
from channelsync.config.plugin_settings import PluginSettings, show as _show
from channelsync.config.settings import (ChannelConfig, Config, DaemonConfig, PriceRules, Promotion, SkuOverride,
                                         StockRules)
from channelsync.config import runtime
from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import UserError
from channelsync.telemetry.log import REDACTED

DEFAULT_PATH = "config/channelsync.toml"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_EXAMPLE_TIME = "2026-11-11T00:00:00+08:00"


class ConfigError(UserError):
    """The config file is missing, unreadable or wrong; ``errors`` lists every problem."""

    def __init__(self, errors: list[str], path: Path | None = None) -> None:
        self.errors = list(errors)
        self.path = path
        super().__init__("\n".join(self.errors))


# A value rule: (kind, test, what was expected). Kinds: int (bool refused), number (-> Decimal,
# so shares and percents never go through float math), seconds (-> float), bool, str.
_Rule = tuple[str, Callable[[Any], bool], str]
_SHARE: _Rule = ("number", lambda d: 0 <= d <= 1, "a number between 0 and 1")
_COUNT: _Rule = ("int", lambda n: n >= 0, "a non-negative integer")
_PERCENT: _Rule = ("number", lambda d: d >= 0, "a non-negative number")
_FEN: _Rule = ("int", lambda n: n > 0, "a positive integer (fen)")
_FEN0: _Rule = ("int", lambda n: n >= 0, "a non-negative integer (fen)")
_POSITIVE: _Rule = ("seconds", lambda x: x > 0, "a number greater than 0")
_NON_NEGATIVE: _Rule = ("seconds", lambda x: x >= 0, "a non-negative number")
_BOOL: _Rule = ("bool", lambda b: True, "true or false")
_TEXT: _Rule = ("str", lambda s: s != "", "a non-empty string")

STOCK_RULES = {"share": _SHARE, "buffer": _COUNT, "max": _COUNT, "zero_below": _COUNT}
PRICE_RULES = {"markup_percent": _PERCENT, "markup_fixed": _FEN0,
               "round_ending": ("int", lambda n: 0 <= n <= 99, "an integer between 0 and 99"),
               "min_margin_percent": _PERCENT}
DAEMON = {"http_host": _TEXT,
          "http_port": ("int", lambda n: 0 <= n <= 65535, "a port between 0 and 65535 (0 disables)"),
          "log_format": ("str", lambda s: s in ("auto", "json", "console"), "one of: auto, console, json"),
          "log_level": ("str", lambda s: s in ("debug", "info", "warning", "error", "critical"),
                        "one of: critical, debug, error, info, warning")} | runtime.DAEMON_RULES
CHANNEL = {"enabled": _BOOL, "poll_interval": _POSITIVE, "order_overlap": _NON_NEGATIVE,
           "order_lag": _NON_NEGATIVE, "initial_lookback": _NON_NEGATIVE, "reconcile_interval": _POSITIVE,
           "rate_per_second": _POSITIVE, "burst": ("int", lambda n: n >= 1, "an integer >= 1"),
           "restock_on_refund": _BOOL, "publish_new": _BOOL, "display_name": _TEXT,
           "order_window": _POSITIVE, "refund_window": _POSITIVE,
           "drift_check_interval": _NON_NEGATIVE, "drift_check_max": ("int", lambda n: n >= 1, "an integer >= 1")}
#: old names still read, with the name that replaced them
RENAMED = {"restock_on_return": "restock_on_refund"}
CHANNEL_TABLES = ("plugin", "warehouses", "price", "settings", "overrides", "intake")
OVERRIDE, LOW_STOCK = STOCK_RULES | {"price": _FEN}, {"reorder_point": _COUNT}
PROMOTION_KEYS = ("name", "starts", "ends", "channels", "skus", "percent_off", "price")
TOP_LEVEL = ("store", "daemon", "warehouses", "defaults", "channels", "promotions", "low_stock", "intake")

def default_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``CHANNELSYNC_CONFIG`` if set, else ``config/channelsync.toml``."""
    return Path(environ.get("CHANNELSYNC_CONFIG") or DEFAULT_PATH)


def load(path: Path | str | None, channel_types: Mapping[str, type[Channel]],
         environ: Mapping[str, str] = os.environ, intake_types: Mapping[str, type] | None = None) -> Config:
    """Read and validate the config file; ``path=None`` means ``default_path(environ)``."""
    path = Path(path) if path is not None else default_path(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found (choose another with --config PATH "
                           "or the CHANNELSYNC_CONFIG environment variable)"], path) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not a UTF-8 text file (expected a TOML config file)"], path) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config file: {exc.strerror or exc}"], path) from None
    return loads(text, channel_types, environ, base_dir=path.absolute().parent, path=path, intake_types=intake_types)


def loads(text: str, channel_types: Mapping[str, type[Channel]], environ: Mapping[str, str] = os.environ,
          base_dir: Path | None = None, path: Path | str | None = None, intake_types: Mapping | None = None) -> Config:
    """Validate config text; relative paths resolve against ``base_dir`` (default: the cwd)."""
    path = Path(path) if path is not None else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries "(at line L, column C)"
        raise ConfigError([f"{path or '<config>'}: TOML syntax error: {exc}"], path) from None
    checker = _Checker(channel_types, environ, Path(base_dir) if base_dir is not None else Path.cwd())
    config = intake.attach(checker, checker.config(data, path), data, intake_types or {})
    if checker.errors:
        raise ConfigError(checker.errors, path)
    return config


def redacted(cfg: ChannelConfig) -> dict:
    """The channel's settings with every secret value replaced by ``***`` (for output)."""
    return {key: (REDACTED if key in cfg.secret_keys and value is not None else copy.deepcopy(value))
            for key, value in cfg.settings.items()}


def key_path(parts: tuple) -> str:
    """("channels", "tb", "overrides", "A.1") -> 'channels.tb.overrides."A.1"'; ints become [i]."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else json.dumps(part, ensure_ascii=False)
            text += f".{key}" if text else key
    return text


def _one_of(names) -> str:
    return ", ".join(sorted(names)) if names else "nothing"


class _Checker(PluginSettings):
    """Walks the parsed TOML, converting values and recording every problem."""

    def __init__(self, channel_types: Mapping[str, type[Channel]], environ: Mapping[str, str], base_dir: Path):
        self.types = channel_types
        self.environ = environ
        self.base_dir = base_dir
        self.errors: list[str] = []

    def err(self, path: tuple, message: str) -> None:
        self.errors.append(f"{key_path(path)}: {message}")

    def file(self, value: str) -> Path:
        p = Path(value).expanduser()
        return Path(os.path.normpath(p if p.is_absolute() else self.base_dir / p))

    # --- generic shapes ------------------------------------------------------
    def table(self, path: tuple, value: Any, allowed=None) -> dict:
        """``value`` if it is a table; keys outside ``allowed`` (None: any) reported.
        Not a table -> {} so the checks go on."""
        if not isinstance(value, dict):
            self.err(path, f"expected a table, got {_show(value)}")
            return {}
        for key in value:
            if allowed is not None and key not in allowed:
                self.err(path + (key,), f"unknown key (expected one of: {_one_of(allowed)})")
        return value

    def value(self, path: tuple, value: Any, rule: _Rule) -> Any:
        """The converted value, or None (and an error) when it breaks the rule."""
        kind, test, expected = rule
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)  # bool is no number
        ok = {"int": numeric and isinstance(value, int), "bool": isinstance(value, bool),
              "str": isinstance(value, str)}.get(kind, numeric and math.isfinite(value))
        if ok:
            converted = Decimal(str(value)) if kind == "number" else float(value) if kind == "seconds" else value
            if test(converted):
                return converted
        self.err(path, f"expected {expected}, got {_show(value)}")
        return None

    def fields(self, path: tuple, table: dict, rules: dict[str, _Rule]) -> dict:
        """The valid values among ``rules``' keys present in ``table``."""
        out = {}
        for key, rule in rules.items():
            if key in table:
                converted = self.value(path + (key,), table[key], rule)
                if converted is not None:
                    out[key] = converted
        return out

    def strings(self, path: tuple, value: Any, known: Mapping | None = None, what: str = "") -> tuple[str, ...]:
        """A non-empty array of strings, each (if ``known`` is given) one of ``known``."""
        if not isinstance(value, list) or not value:
            self.err(path, f"expected a non-empty array of {what or 'strings'}, got {_show(value)}")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self.err(path + (i,), f"expected a non-empty string, got {_show(item)}")
            elif known is not None and item not in known:
                self.err(path + (i,), f"unknown {what.rstrip('s')} {_show(item)} (expected one of: {_one_of(known)})")
            elif item not in out:
                out.append(item)
        return tuple(out)

    # --- sections --------------------------------------------------------------
    def config(self, data: dict, path: Path | None) -> Config:
        data = self.table((), data, TOP_LEVEL)
        db_path, store = runtime.store(self, data.get("store", {}))
        daemon = self.table(("daemon",), data.get("daemon", {}), DAEMON)
        if isinstance(daemon.get("log_level"), str):
            daemon = daemon | {"log_level": daemon["log_level"].lower()}  # "INFO" is what people type
        warehouses = self.warehouses(data)
        defaults = self.table(("defaults",), data.get("defaults", {}), tuple(STOCK_RULES) + ("price",))
        default_rules = self.fields(("defaults",), defaults, STOCK_RULES)
        default_price = self.fields(("defaults", "price"),
                                    self.table(("defaults", "price"), defaults.get("price", {}), PRICE_RULES),
                                    PRICE_RULES)
        channels_raw = self.table(("channels",), data.get("channels", {}))
        channels = {name: self.channel(name, raw, warehouses, default_rules, default_price)
                    for name, raw in channels_raw.items()}
        low = self.fields(("low_stock",), self.table(("low_stock",), data.get("low_stock", {}), LOW_STOCK), LOW_STOCK)
        return Config(path=path, db_path=db_path, daemon=DaemonConfig(**self.fields(("daemon",), daemon, DAEMON)),
                      warehouses=warehouses, channels=channels, store=store, **low,
                      promotions=self.promotions(data.get("promotions", []), channels_raw))

    def warehouses(self, data: dict) -> dict[str, str]:
        if "warehouses" not in data:
            return {"main": "Main warehouse"}
        table = self.table(("warehouses",), data["warehouses"])
        if isinstance(data["warehouses"], dict) and not table:
            self.err(("warehouses",), 'expected at least one warehouse (CODE = "display name")')
        # a code keeps its place even when its name is wrong, so channels naming it get no second error
        return {code: self.value(("warehouses", code), name, _TEXT) or code for code, name in table.items()}

    def channel(self, name: str, raw: Any, warehouses: dict, default_rules: dict, default_price: dict) -> ChannelConfig:
        path = ("channels", name)
        if not _CHANNEL_NAME.match(name):
            self.err(path, "invalid channel name (expected lower-case letters, digits, '-' and '_', "
                           "starting with a letter or digit)")
        if not isinstance(raw, dict):  # `channels.tb = 3`: one error, not one per missing key
            self.table(path, raw)
            return ChannelConfig(name=name, plugin="")
        for old, new in RENAMED.items():  # an old name still works; both at once is a mistake
            if old in raw and new in raw:
                self.err(path + (old,), f"renamed to {new}, which is also set (expected only {new})")
            raw = {(new if k == old else k): v for k, v in raw.items() if not (k == old and new in raw)}
        raw = self.table(path, raw, tuple(CHANNEL) + tuple(STOCK_RULES) + CHANNEL_TABLES)
        plugin = raw.get("plugin")
        if plugin is None:
            self.err(path + ("plugin",), f"missing (expected one of: {_one_of(self.types)})")
        elif not isinstance(plugin, str) or plugin not in self.types:
            self.err(path + ("plugin",), f"unknown plugin {_show(plugin)} (expected one of: {_one_of(self.types)})")
        chosen = ()
        if "warehouses" in raw:
            chosen = self.strings(path + ("warehouses",), raw["warehouses"], warehouses, "warehouses")
        # key by key: a channel setting only `share` keeps the defaults' buffer, max, ...
        rules = default_rules | self.fields(path, raw, STOCK_RULES)
        price_table = self.table(path + ("price",), raw.get("price", {}), PRICE_RULES)
        price = default_price | self.fields(path + ("price",), price_table, PRICE_RULES)
        overrides = {}
        for sku, override in self.table(path + ("overrides",), raw.get("overrides", {})).items():
            opath = path + ("overrides", sku)
            overrides[sku] = SkuOverride(**self.fields(opath, self.table(opath, override, OVERRIDE), OVERRIDE))
        cls = self.types.get(plugin) if isinstance(plugin, str) else None
        schema = cls.settings_schema if cls is not None else {}
        settings = self.settings(path + ("settings",), raw.get("settings", {}), schema, cls is not None)
        return ChannelConfig(name=name, plugin=plugin if isinstance(plugin, str) else "",
                             warehouses=chosen, rules=StockRules(**rules), price=PriceRules(**price),
                             overrides=overrides, settings=settings,
                             secret_keys=frozenset(k for k, s in schema.items() if s.secret),
                             **self.fields(path, raw, CHANNEL))

    # --- promotions ------------------------------------------------------------
    def promotions(self, raw: Any, channels: dict) -> tuple[Promotion, ...]:
        if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
            self.err(("promotions",), f"expected an array of tables ([[promotions]]), got {_show(raw)}")
            return ()
        out, names = [], set()
        for i, promo in enumerate(raw):
            path = ("promotions", i)
            self.table(path, promo, PROMOTION_KEYS)
            name = self.value(path + ("name",), promo.get("name"), _TEXT)
            if name is not None and name in names:
                self.err(path + ("name",), f"duplicate promotion name {_show(name)} (expected a unique name)")
            names.add(name)
            starts = self.when(path + ("starts",), promo.get("starts"))
            ends = self.when(path + ("ends",), promo.get("ends"))
            if starts is not None and ends is not None and ends <= starts:
                self.err(path + ("ends",), f"{ends.isoformat()} is not after starts {starts.isoformat()} "
                                           "(expected a later time)")
            chans = self.strings(path + ("channels",), promo["channels"], channels, "channels") \
                if "channels" in promo else ()
            skus = self.strings(path + ("skus",), promo["skus"], None, "SKU codes") if "skus" in promo else ()
            deal = self.fields(path, promo, {"percent_off": ("number", lambda d: 0 < d < 100,
                                                             "a number greater than 0 and less than 100"),
                                             "price": _FEN})
            if ("percent_off" in promo) == ("price" in promo):
                self.err(path, "expected exactly one of percent_off or price")
            out.append(Promotion(name=name or "", starts=starts, ends=ends, channels=chans, skus=skus, **deal))
        return tuple(out)

    def when(self, path: tuple, value: Any) -> datetime | None:
        """A timezone-aware datetime from a TOML offset date-time or an ISO string."""
        if value is None:
            self.err(path, f"missing (expected a date-time like {_EXAMPLE_TIME})")
            return None
        parsed = value
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
        if not isinstance(parsed, datetime):
            self.err(path, f"expected a date-time with a timezone offset like {_EXAMPLE_TIME}, got {_show(value)}")
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            # naive times would silently follow the server's zone; 11.11 is midnight in Beijing
            self.err(path, f"has no timezone offset (expected e.g. {_EXAMPLE_TIME}, got {_show(value)})")
            return None
        return parsed
