"""config.load/loads: TOML -> validated Config, every mistake reported with its key path."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from channelsync import config
from channelsync.sdk.channel import Channel, Setting
from channelsync.config import ConfigError
from channelsync.sdk.errors import UserError
from channelsync.config.settings import PriceRules, SkuOverride, StockRules


class ShopChannel(Channel):
    plugin = "shop"
    settings_schema = {
        "base_url": Setting(str, default="http://127.0.0.1:8101"),
        "app_key": Setting(str, required=True, help="seller centre > app key"),
        "app_secret": Setting(str, required=True, secret=True),
        "refresh_token": Setting(str, secret=True, default=None),
        "mode": Setting(str, default="body", choices=("body", "query")),
        "page_size": Setting(int, default=50),
        "timeout": Setting(float, default=5.0),
        "sandbox": Setting(bool, default=False),
        "carriers": Setting(dict, default={"SF": "1"}),
    }


class BareChannel(Channel):
    plugin = "bare"


TYPES = {"shop": ShopChannel, "bare": BareChannel}
ENV = {"SHOP_SECRET": "s3cr3t-from-env"}
CST = timezone(timedelta(hours=8))

# the smallest valid shop channel; tests append keys to its settings table or add tables after it
SHOP = """
[channels.tb]
plugin = "shop"
[channels.tb.settings]
app_key = "key-1"
app_secret = { env = "SHOP_SECRET" }
"""


def problems(text: str, environ=ENV, **kw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config.loads(text, TYPES, environ, **kw)
    assert str(info.value) == "\n".join(info.value.errors)  # one problem per line
    return info.value.errors


def test_full_example_loads(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "refresh.txt").write_text("from-file\n")
    text = SHOP + """
refresh_token = { file = "refresh.txt" }
mode = "query"
timeout = 3
[channels.tb.overrides."SKU-001"]
buffer = 5
price = 1999
[channels.off]
plugin = "bare"
enabled = false
poll_interval = 5
warehouses = ["WH-GZ"]
burst = 4
rate_per_second = 0.5
[store]
path = "../var/channelsync.db"
[daemon]
http_port = 0
log_format = "json"
log_level = "DEBUG"
[warehouses]
WH-SH = "Shanghai"
WH-GZ = "Guangzhou"
[[promotions]]
name = "11.11"
starts = 2026-11-11T00:00:00+08:00
ends = "2026-11-12T00:00:00+08:00"
channels = ["tb"]
skus = ["SKU-001"]
percent_off = 12.5
[[promotions]]
name = "clearance"
starts = 2026-01-01T00:00:00Z
ends = 2026-02-01T00:00:00Z
price = 990
"""
    cfg = config.loads(text, TYPES, ENV, base_dir=tmp_path / "etc", path=tmp_path / "etc" / "c.toml")
    assert cfg.path == tmp_path / "etc" / "c.toml"
    assert cfg.db_path == tmp_path / "var" / "channelsync.db"
    assert (cfg.daemon.http_host, cfg.daemon.http_port, cfg.daemon.log_format, cfg.daemon.log_level) == \
        ("127.0.0.1", 0, "json", "debug")
    assert cfg.warehouses == {"WH-SH": "Shanghai", "WH-GZ": "Guangzhou"}
    assert list(cfg.channels) == ["tb", "off"]

    tb = cfg.channels["tb"]
    assert tb.plugin == "shop" and tb.enabled and tb.warehouses == ()
    assert tb.settings == {"base_url": "http://127.0.0.1:8101", "app_key": "key-1", "app_secret": "s3cr3t-from-env",
                           "refresh_token": "from-file", "mode": "query", "page_size": 50, "timeout": 3.0,
                           "sandbox": False, "carriers": {"SF": "1"}}
    assert isinstance(tb.settings["timeout"], float)
    assert tb.secret_keys == frozenset({"app_secret", "refresh_token"})
    assert tb.overrides == {"SKU-001": SkuOverride(buffer=5, price=1999)}
    assert (tb.poll_interval, tb.order_overlap, tb.rate_per_second, tb.burst) == (30.0, 300.0, None, None)

    off = cfg.channels["off"]
    assert not off.enabled and off.poll_interval == 5.0 and off.warehouses == ("WH-GZ",)
    assert (off.rate_per_second, off.burst, off.settings, off.secret_keys) == (0.5, 4, {}, frozenset())

    promo, clearance = cfg.promotions
    assert promo.name == "11.11" and promo.percent_off == Decimal("12.5") and promo.price is None
    assert promo.starts == datetime(2026, 11, 11, tzinfo=CST) and promo.ends == datetime(2026, 11, 12, tzinfo=CST)
    assert (promo.channels, promo.skus) == (("tb",), ("SKU-001",))
    assert clearance.price == 990 and clearance.percent_off is None and clearance.channels == ()
    assert clearance.starts == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_empty_file_gets_defaults(tmp_path):
    cfg = config.loads("", TYPES, {}, base_dir=tmp_path)
    assert cfg.db_path == tmp_path / "channelsync.db"
    assert cfg.warehouses == {"main": "Main warehouse"} and cfg.channels == {} and cfg.promotions == ()
    assert cfg.daemon.http_port == 9464


def test_channel_overrides_defaults_key_by_key():
    text = """
[defaults]
share = 0.1
buffer = 2
max = 100
[defaults.price]
markup_percent = 10
round_ending = 90
min_margin_percent = 5
""" + SHOP.replace('plugin = "shop"', 'plugin = "shop"\nbuffer = 7\nzero_below = 3') + """
[channels.tb.price]
markup_percent = 20.5
[channels.plain]
plugin = "bare"
"""
    cfg = config.loads(text, TYPES, ENV)
    assert cfg.channels["tb"].rules == StockRules(share=Decimal("0.1"), buffer=7, max=100, zero_below=3)
    assert cfg.channels["tb"].price == PriceRules(markup_percent=Decimal("20.5"), markup_fixed=0,
                                                  round_ending=90, min_margin_percent=Decimal(5))
    # exact decimals, not the float nearest to 0.1
    assert cfg.channels["tb"].rules.share == Decimal("0.1")
    assert cfg.channels["plain"].rules == StockRules(share=Decimal("0.1"), buffer=2, max=100, zero_below=0)
    assert cfg.channels["plain"].price == PriceRules(markup_percent=Decimal(10), round_ending=90,
                                                     min_margin_percent=Decimal(5))


def test_three_mistakes_are_all_reported_with_their_key_paths():
    text = SHOP.replace('plugin = "shop"', 'plugin = "shop"\nshare = "abc"\ncolour = "red"') + """
[channels.jd]
plugin = "taobaoo"
"""
    errors = problems(text)
    assert errors == [
        "channels.tb.colour: unknown key (expected one of: " + ", ".join(sorted(
            ["enabled", "poll_interval", "order_overlap", "order_lag", "initial_lookback", "reconcile_interval",
             "rate_per_second", "burst", "restock_on_refund", "publish_new", "display_name", "order_window",
             "refund_window", "drift_check_interval", "drift_check_max", "share", "buffer", "max",
             "zero_below", "plugin", "warehouses", "price", "settings", "overrides", "intake"])) + ")",
        'channels.tb.share: expected a number between 0 and 1, got "abc"',
        'channels.jd.plugin: unknown plugin "taobaoo" (expected one of: bare, shop)',
    ]


def test_missing_env_secret():
    assert problems(SHOP, environ={}) == [
        "channels.tb.settings.app_secret: environment variable SHOP_SECRET is not set"]


def test_literal_secret_is_refused_and_not_echoed():
    errors = problems(SHOP.replace('{ env = "SHOP_SECRET" }', '"hunter2-literal"'))
    assert errors == ['channels.tb.settings.app_secret: a secret must be a reference like { env = "VAR" } '
                      'or { file = "PATH" }, not a literal value']
    assert "hunter2" not in "\n".join(errors)


def test_secret_of_the_wrong_kind_is_not_echoed():
    text = SHOP + 'mode = { env = "MODE" }\n'  # a secret-free setting given a table
    assert problems(text, environ=ENV) == ['channels.tb.settings.mode: expected a string, got a table']
    schema_int = {"pin": Setting(int, secret=True)}
    pin_type = type("PinChannel", (Channel,), {"plugin": "pin", "settings_schema": schema_int})
    with pytest.raises(ConfigError) as info:
        config.loads('[channels.p]\nplugin = "pin"\nsettings.pin = { env = "PIN" }\n', {"pin": pin_type},
                     {"PIN": "not-a-number"})
    assert info.value.errors == ["channels.p.settings.pin: expected an integer"]


def test_file_secret_is_read_relative_to_the_config_and_stripped(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "shop").write_text("line-secret\n\n")
    path = tmp_path / "channelsync.toml"
    path.write_text(SHOP.replace('{ env = "SHOP_SECRET" }', '{ file = "secrets/shop" }'))
    cfg = config.load(path, TYPES, environ={})
    assert cfg.channels["tb"].settings["app_secret"] == "line-secret"
    assert cfg.path == path and cfg.db_path == tmp_path / "channelsync.db"


def test_missing_secret_file_names_the_file(tmp_path):
    errors = problems(SHOP.replace('{ env = "SHOP_SECRET" }', '{ file = "nope.txt" }'), base_dir=tmp_path)
    assert len(errors) == 1
    assert errors[0].startswith(f"channels.tb.settings.app_secret: cannot read secret file {tmp_path / 'nope.txt'}")


def test_unknown_keys_at_every_level():
    text = 'colour = "red"\n' + SHOP + """
region = "cn"
[channels.tb.overrides."A.1"]
bufer = 1
[channels.tb.price]
markup = 3
[defaults]
shares = 1
"""
    text = text.replace('plugin = "shop"', 'plugin = "shop"\nnickname = "tb"')
    errors = problems(text)
    assert len(errors) == 6
    assert errors[0].startswith("colour: unknown key (expected one of: channels, daemon, defaults, intake, low_stock, "
                                "promotions,")
    assert errors[1].startswith("defaults.shares: unknown key (expected one of: buffer, max, price, share,")
    assert errors[2].startswith("channels.tb.nickname: unknown key (expected one of: ")
    assert errors[3] == ("channels.tb.price.markup: unknown key (expected one of: markup_fixed, markup_percent, "
                         "min_margin_percent, round_ending)")
    assert errors[4].startswith('channels.tb.overrides."A.1".bufer: unknown key (expected one of: buffer, max,')
    assert errors[5] == ("channels.tb.settings.region: unknown key (expected one of: app_key, app_secret, base_url, "
                         "carriers, mode, page_size, refresh_token, sandbox, timeout)")


@pytest.mark.parametrize("line, error", [
    ("share = 1.5", "channels.tb.share: expected a number between 0 and 1, got 1.5"),
    ("share = true", "channels.tb.share: expected a number between 0 and 1, got true"),
    ("buffer = -1", "channels.tb.buffer: expected a non-negative integer, got -1"),
    ("buffer = true", "channels.tb.buffer: expected a non-negative integer, got true"),
    ("max = 2.5", "channels.tb.max: expected a non-negative integer, got 2.5"),
    ("poll_interval = 0", "channels.tb.poll_interval: expected a number greater than 0, got 0"),
    ("poll_interval = nan", "channels.tb.poll_interval: expected a number greater than 0, got nan"),
    ("burst = 0", "channels.tb.burst: expected an integer >= 1, got 0"),
    ("enabled = 1", "channels.tb.enabled: expected true or false, got 1"),
    ("price.round_ending = 100", "channels.tb.price.round_ending: expected an integer between 0 and 99, got 100"),
    ('overrides."A.1".price = 0', 'channels.tb.overrides."A.1".price: expected a positive integer (fen), got 0'),
])
def test_bad_values_name_key_expectation_and_value(line, error):
    assert problems(SHOP.replace('plugin = "shop"', f'plugin = "shop"\n{line}')) == [error]


def test_bad_daemon_values():
    errors = problems('[daemon]\nhttp_port = "x"\nlog_format = "xml"\n')
    assert errors == ['daemon.http_port: expected a port between 0 and 65535 (0 disables), got "x"',
                      'daemon.log_format: expected one of: auto, console, json, got "xml"']


def test_plugin_settings_are_checked_against_the_schema():
    text = SHOP.replace('app_key = "key-1"\n', "") + 'mode = "form"\npage_size = 2.5\nsandbox = 1\ntimeout = true\n'
    assert problems(text) == [
        "channels.tb.settings.app_key: missing required setting (expected a string: seller centre > app key)",
        'channels.tb.settings.mode: expected one of: body, query, got "form"',
        "channels.tb.settings.page_size: expected an integer, got 2.5",
        "channels.tb.settings.timeout: expected a number, got true",
        "channels.tb.settings.sandbox: expected true or false, got 1",
    ]


def test_schema_defaults_are_copies():
    first = config.loads(SHOP, TYPES, ENV).channels["tb"]
    first.settings["carriers"]["YTO"] = "2"
    assert config.loads(SHOP, TYPES, ENV).channels["tb"].settings["carriers"] == {"SF": "1"}


def test_unknown_plugin_and_missing_plugin():
    errors = problems('[channels.a]\nplugin = "taobaoo"\n[channels.b]\nenabled = true\n')
    assert errors == ['channels.a.plugin: unknown plugin "taobaoo" (expected one of: bare, shop)',
                      "channels.b.plugin: missing (expected one of: bare, shop)"]


def test_disabled_channel_is_still_validated():
    assert problems('[channels.a]\nplugin = "shop"\nenabled = false\n[channels.a.settings]\napp_key = 1\n',
                    environ={}) == [
        "channels.a.settings.app_key: expected a string, got 1",
        "channels.a.settings.app_secret: missing required setting (expected a string)",
    ]


def test_channel_that_is_not_a_table_is_one_error():
    assert problems("[channels]\ntb = 3\n") == ["channels.tb: expected a table, got 3"]


def test_bad_channel_name():
    errors = problems('[channels.TB]\nplugin = "bare"\n')
    assert errors == ["channels.TB: invalid channel name (expected lower-case letters, digits, '-' and '_', "
                      "starting with a letter or digit)"]


def test_unknown_warehouse():
    text = '[warehouses]\nWH-SH = "Shanghai"\n' + SHOP.replace('plugin = "shop"',
                                                              'plugin = "shop"\nwarehouses = ["WH-SH", "WH-BJ"]')
    assert problems(text) == ['channels.tb.warehouses[1]: unknown warehouse "WH-BJ" (expected one of: WH-SH)']
    assert problems(SHOP.replace('plugin = "shop"', 'plugin = "shop"\nwarehouses = ["WH-SH"]')) == [
        'channels.tb.warehouses[0]: unknown warehouse "WH-SH" (expected one of: main)']


PROMO = """
[[promotions]]
name = "11.11"
starts = 2026-11-11T00:00:00+08:00
ends = 2026-11-12T00:00:00+08:00
percent_off = 20
"""


def test_naive_promotion_datetime_is_refused():
    errors = problems(SHOP + PROMO.replace("2026-11-11T00:00:00+08:00", "2026-11-11T00:00:00"))
    assert errors == ["promotions[0].starts: has no timezone offset (expected e.g. 2026-11-11T00:00:00+08:00, "
                      "got 2026-11-11T00:00:00)"]
    errors = problems(SHOP + PROMO.replace("2026-11-12T00:00:00+08:00", '"2026-11-12 00:00"'))
    assert errors == ['promotions[0].ends: has no timezone offset (expected e.g. 2026-11-11T00:00:00+08:00, '
                      'got "2026-11-12 00:00")']


def test_promotion_mistakes():
    text = SHOP + PROMO.replace("2026-11-12T00:00:00+08:00", "2026-11-10T00:00:00+08:00").replace(
        "percent_off = 20", 'percent_off = 100\nprice = 990\nchannels = ["tb", "jd"]\nstarts_at = 1')
    assert problems(text) == [
        "promotions[0].starts_at: unknown key "
        "(expected one of: channels, ends, name, percent_off, price, skus, starts)",
        "promotions[0].ends: 2026-11-10T00:00:00+08:00 is not after starts 2026-11-11T00:00:00+08:00 "
        "(expected a later time)",
        'promotions[0].channels[1]: unknown channel "jd" (expected one of: tb)',
        "promotions[0].percent_off: expected a number greater than 0 and less than 100, got 100",
        "promotions[0]: expected exactly one of percent_off or price",
    ]
    assert problems('[promotions]\nname = "x"\n') == [
        "promotions: expected an array of tables ([[promotions]]), got a table"]


def test_toml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "channelsync.toml"
    path.write_text('[channels.tb]\nplugin = "shop"\nshare = \n')
    with pytest.raises(ConfigError) as info:
        config.load(path, TYPES, ENV)
    (message,) = info.value.errors
    assert message.startswith(f"{path}: TOML syntax error: ")
    assert "line 3" in message and "column" in message


def test_missing_file_says_how_to_choose_another(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(UserError) as info:  # CLI exit code 2
        config.load(path, TYPES, ENV)
    assert isinstance(info.value, ConfigError)
    assert str(path) in str(info.value)
    assert "--config" in str(info.value) and "CHANNELSYNC_CONFIG" in str(info.value)


def test_default_path_and_load_without_path(tmp_path):
    assert config.default_path({}) == Path("config/channelsync.toml")
    path = tmp_path / "other.toml"
    path.write_text(SHOP)
    env = {**ENV, "CHANNELSYNC_CONFIG": str(path)}
    assert config.default_path(env) == path
    assert config.load(None, TYPES, env).channels["tb"].settings["app_key"] == "key-1"


def test_redacted_hides_secrets_only():
    channel = config.loads(SHOP, TYPES, ENV).channels["tb"]
    shown = config.redacted(channel)
    assert shown["app_secret"] == "***"
    assert shown["refresh_token"] is None  # not configured: nothing to hide
    assert shown["app_key"] == "key-1" and shown["mode"] == "body"
    assert "s3cr3t-from-env" not in repr(shown)
    assert channel.settings["app_secret"] == "s3cr3t-from-env"  # the channel itself keeps the value


# --- after-sales and windows (issue 16) ------------------------------------------------------

def test_restock_on_refund_and_the_windows_are_read():
    config = loader_ok(SHOP.replace('plugin = "shop"', 'plugin = "shop"\nrestock_on_refund = true\n'
                                                     'order_window = 3600\nrefund_window = 600'))
    tb = config.channels["tb"]
    assert (tb.restock_on_refund, tb.order_window, tb.refund_window) == (True, 3600.0, 600.0)


def test_the_old_restock_on_return_name_still_works():
    config = loader_ok(SHOP.replace('plugin = "shop"', 'plugin = "shop"\nrestock_on_return = true'))
    assert config.channels["tb"].restock_on_refund is True


def test_both_names_at_once_is_one_clear_error():
    text = SHOP.replace('plugin = "shop"', 'plugin = "shop"\nrestock_on_return = true\nrestock_on_refund = false')
    assert problems(text) == ["channels.tb.restock_on_return: renamed to restock_on_refund, which is also set "
                              "(expected only restock_on_refund)"]


def test_a_window_must_be_positive():
    assert problems(SHOP.replace('plugin = "shop"', 'plugin = "shop"\nrefund_window = 0')) == [
        "channels.tb.refund_window: expected a number greater than 0, got 0"]


def loader_ok(text: str):
    return config.loads(text, TYPES, ENV)
