"""``channelsync sandbox``: every built-in platform's simulator on 127.0.0.1.

Each simulator is served over real HTTP with fixed sandbox credentials, so
any client (channelsync itself, curl, a plugin under development) can be
pointed at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channelsync.sdk.channel import Channel
from channelsync.sim.server import SimServer
from channelsync.sim.simulator import Simulator

BUILTIN = ("taobao", "jd", "wechat", "ownsite")
DEFAULT_PORTS = {"taobao": 8101, "jd": 8102, "wechat": 8103, "ownsite": 8104}
#: the channel names config/channelsync.toml gives each simulator (its intake path is /intake/<name>)
EXAMPLE_CHANNELS = {"taobao": "tb-flagship", "jd": "jd-pop", "wechat": "wx-shop", "ownsite": "web"}
#: where the example config's intake listens: the sandbox sends its platform messages there
DEFAULT_INTAKE = "http://127.0.0.1:9465"


@dataclass
class Running:
    plugin: str
    simulator: Simulator
    server: SimServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def credentials(self) -> dict[str, Any]:
        return self.simulator.credentials(self.base_url)


def available(types: dict[str, type[Channel]]) -> list[str]:
    """Built-in plugins that are loaded and ship a simulator."""
    found = []
    for name in BUILTIN:
        cls = types.get(name)
        if cls is not None and cls.simulator.__func__ is not Channel.simulator.__func__:
            found.append(name)
    return found


def start(types: dict[str, type[Channel]], ports: dict[str, int] | None = None, host: str = "127.0.0.1",
          plugins: list[str] | None = None, intake: str | None = None, **sim_options: Any) -> dict[str, Running]:
    """``intake``: the intake's base URL; buyer actions then send each platform's messages to
    ``<intake>/intake/<example channel name>`` (TMC's are held for the daemon's listener)."""
    ports = {**DEFAULT_PORTS, **(ports or {})}
    running: dict[str, Running] = {}
    try:
        for name in plugins if plugins is not None else available(types):
            sim = types[name].simulator(**sim_options)
            running[name] = Running(name, sim, SimServer(sim, host, ports.get(name, 0)).start())
            if intake and sim.messages is not None:
                held = sim.messages.held
                sim.notify_to(None if held else f"{intake.rstrip('/')}/intake/{EXAMPLE_CHANNELS.get(name, name)}")
    except OSError:
        stop(running)
        raise
    return running


def stop(running: dict[str, Running]) -> None:
    for r in running.values():
        r.simulator.stop_notifying()
        r.server.stop()


def env_name(plugin: str, setting: str) -> str:
    """The variable config/channelsync.toml reads a sandbox secret from."""
    return f"CHANNELSYNC_{plugin}_{setting}".upper()


def secret_exports(types: dict[str, type[Channel]], host: str = "127.0.0.1",
                   receivers: dict[str, type] | None = None) -> dict[str, str]:
    """Sandbox secrets as environment variables, for the example config (they are the
    simulators' public fixtures, not real credentials)."""
    out = {}
    for name in available(types):
        cls = types[name]
        base_url = f"http://{host}:{DEFAULT_PORTS[name]}"
        creds = cls.simulator().credentials(base_url)
        for key, spec in cls.settings_schema.items():
            if spec.secret and creds.get(key) is not None:
                out[env_name(name, key)] = str(creds[key])
        messages = type(cls.simulator()).messages
        schema = getattr((receivers or {}).get(name), "settings_schema", {})
        for key, value in (messages.settings(base_url) if messages is not None else {}).items():
            # the intake's own secrets; the API's (Taobao's, JD's app secret) are exported above
            if key in schema and schema[key].secret and env_name(name, key) not in out:
                out[env_name(name, f"intake_{key}")] = str(value)
    return out


def describe(running: dict[str, Running]) -> dict[str, Any]:
    return {name: {"base_url": r.base_url, "control_url": f"{r.base_url}/_sim/", "credentials": r.credentials()}
            for name, r in running.items()}
