"""[intake] and [channels.NAME.intake]: checked with the rest, every mistake with its key path,
secrets by reference and never shown."""

import pytest

from channelsync import config
from channelsync.config import ConfigError
from channelsync.sdk.channel import Channel, Setting
from channelsync.sdk.intake import Receiver


class Shop(Channel):
    plugin = "shop"


class Bare(Channel):
    plugin = "bare"


class Hooks(Receiver):
    settings_schema = {"secret": Setting(required=True, secret=True), "mode": Setting(default="a", choices=("a", "b"))}

    @classmethod
    def check(cls, settings):
        return {"mode": "expected a, since b is not possible here"} if settings.get("mode") == "b" else {}


TYPES, RECEIVERS = {"shop": Shop, "bare": Bare}, {"shop": Hooks}
ENV = {"HOOK": "hook-secret-value"}


def load(text):
    return config.loads(text, TYPES, ENV, intake_types=RECEIVERS)


def problems(text):
    with pytest.raises(ConfigError) as info:
        load(text)
    return info.value.errors


def test_defaults_are_off_on_127_0_0_1():
    cfg = load('[channels.a]\nplugin = "shop"\n')
    assert not cfg.channels["a"].intake.enabled and cfg.intake.host == "127.0.0.1" and cfg.intake.port == 9465


def test_an_enabled_channel_gets_its_receivers_settings_with_secrets_resolved():
    cfg = load('[intake]\nport = 9500\npublic_url = "https://x.example/cs/"\n'
               '[channels.a]\nplugin = "shop"\n[channels.a.intake]\nenabled = true\nmax_age = 120\n'
               'secret = { env = "HOOK" }\n')
    intake = cfg.channels["a"].intake
    assert intake.enabled and intake.max_age == 120 and intake.settings == {"secret": "hook-secret-value", "mode": "a"}
    assert intake.secret_keys == {"secret"} and cfg.intake.public_url == "https://x.example/cs"


def test_every_mistake_is_reported_with_its_key_path_and_no_secret():
    errors = problems('[intake]\nport = 70000\nlisten = 1\npublic_url = "x.example"\n'
                      '[channels.a]\nplugin = "shop"\n[channels.a.intake]\nenabled = "yes"\nmax_age = 0\n'
                      'colour = 1\nsecret = "hook-secret-value"\nmode = "b"\n'
                      '[channels.b]\nplugin = "bare"\n[channels.b.intake]\nenabled = true\n'
                      '[channels.c]\nplugin = "shop"\n[channels.c.intake]\nenabled = true\nmode = "b"\n'
                      'secret = { env = "HOOK" }\n')
    text = "\n".join(errors)
    assert "hook-secret-value" not in text
    for expected in ["intake.port: expected a port between 0 and 65535, got 70000",
                     "intake.listen: unknown key",
                     'intake.public_url: expected an http:// or https:// URL, got "x.example"',
                     'channels.a.intake.enabled: expected true or false, got "yes"',
                     "channels.a.intake.max_age: expected a number of seconds between 0 and 86400, got 0",
                     "channels.a.intake.colour: unknown key",
                     "channels.b.intake.enabled: plugin 'bare' cannot receive platform messages",
                     "channels.c.intake.mode: expected a, since b is not possible here"]:
        assert any(e.startswith(expected) for e in errors), (expected, errors)


def test_a_disabled_table_needs_no_secrets():
    cfg = load('[channels.a]\nplugin = "shop"\n[channels.a.intake]\nenabled = false\nsecret = { env = "UNSET" }\n')
    assert not cfg.channels["a"].intake.enabled


def test_a_missing_or_literal_secret_is_refused():
    errors = problems('[channels.a]\nplugin = "shop"\n[channels.a.intake]\nenabled = true\n')
    assert errors == ["channels.a.intake.secret: missing required setting (expected a string)"]
    errors = problems('[channels.a]\nplugin = "shop"\n[channels.a.intake]\nenabled = true\nsecret = "plain"\n')
    assert len(errors) == 1 and errors[0].startswith("channels.a.intake.secret: a secret must be a reference")
