"""config/channelsync.toml is valid against the sandbox, with the secrets `sandbox --env` prints."""

from pathlib import Path

from channelsync import config

from channelsync.sim import sandbox
from channelsync.sdk.plugins import channel_types, make_manager

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "channelsync.toml"


def test_example_config_loads_with_sandbox_secrets():
    types = channel_types(make_manager())
    cfg = config.load(EXAMPLE, types, environ=sandbox.secret_exports(types))
    assert {c.plugin for c in cfg.channels.values()} == set(tuple(sandbox.DEFAULT_PORTS)) == set(sandbox.available(types))
    for channel in cfg.channels.values():
        sim_creds = types[channel.plugin].simulator().credentials(channel.settings["base_url"])
        for key in channel.secret_keys:
            assert channel.settings[key] == sim_creds[key], (channel.name, key)
        assert channel.settings["base_url"].startswith("http://127.0.0.1:")
