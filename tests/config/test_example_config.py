"""config/channelsync.toml is valid against the sandbox, with the secrets `sandbox --env` prints."""

from pathlib import Path

from channelsync import config

from channelsync.sim import sandbox
from channelsync.sdk.plugins import channel_types, intake_types, make_manager

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "channelsync.toml"


def test_example_config_loads_with_sandbox_secrets():
    pm = make_manager()
    types, receivers = channel_types(pm), intake_types(pm)
    cfg = config.load(EXAMPLE, types, environ=sandbox.secret_exports(types, receivers=receivers),
                      intake_types=receivers)
    assert {c.plugin for c in cfg.channels.values()} == set(sandbox.DEFAULT_PORTS) == set(sandbox.available(types))
    for channel in cfg.channels.values():
        sim_creds = types[channel.plugin].simulator().credentials(channel.settings["base_url"])
        for key in channel.secret_keys:
            assert channel.settings[key] == sim_creds[key], (channel.name, key)
        assert channel.settings["base_url"].startswith("http://127.0.0.1:")


def test_example_config_turns_intake_on_with_the_sandboxs_message_settings():
    pm = make_manager()
    types, receivers = channel_types(pm), intake_types(pm)
    cfg = config.load(EXAMPLE, types, environ=sandbox.secret_exports(types, receivers=receivers),
                      intake_types=receivers)
    assert cfg.intake.port == 9465 and sandbox.DEFAULT_INTAKE.endswith(":9465")
    for channel in cfg.channels.values():
        assert channel.intake.enabled and sandbox.EXAMPLE_CHANNELS[channel.plugin] == channel.name
        sent_with = type(types[channel.plugin].simulator()).messages.settings(
            f"http://127.0.0.1:{sandbox.DEFAULT_PORTS[channel.plugin]}")
        for key, value in sent_with.items():
            assert channel.intake.settings[key] == value, (channel.name, key)
