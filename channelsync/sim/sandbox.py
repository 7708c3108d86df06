"""``channelsync sandbox``: every installed platform's simulator on 127.0.0.1.

Every installed channel type whose plugin ships a simulator is served — the
built-ins and any outside plugin alike — each over real HTTP with its fixed
sandbox credentials, so any client (channelsync itself, curl, a plugin under
development) can be pointed at it. Several instances of one platform
(``tb-flagship=taobao``, ``tb-outlet=taobao``) get one simulator each. The
built-ins listen on the fixed ports the example config names; any other
instance, and every one with ``free_ports``, on a free port.
"""

from __future__ import annotations

import csv
import errno
from collections import defaultdict
from dataclasses import dataclass
from typing import IO, Any

from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import UserError
from channelsync.sdk.money import yuan_to_fen
from channelsync.sim.server import SimServer
from channelsync.sim.simulator import Simulator

#: the ports config/channelsync.toml points the built-in channels at; other instances get a free port
DEFAULT_PORTS = {"taobao": 8101, "jd": 8102, "wechat": 8103, "ownsite": 8104}
#: the channel names config/channelsync.toml gives each simulator (its intake path is /intake/<name>)
EXAMPLE_CHANNELS = {"taobao": "tb-flagship", "jd": "jd-pop", "wechat": "wx-shop", "ownsite": "web"}
#: where the example config's intake listens: the sandbox sends its platform messages there
DEFAULT_INTAKE = "http://127.0.0.1:9465"


@dataclass(frozen=True)
class Instance:
    """One simulator to serve: ``name`` (what the output and ``--port`` use), its ``plugin``,
    a ``port`` (None: the plugin's default, else free; 0: free) and a ``rate_limit`` (calls/s)."""

    name: str
    plugin: str
    port: int | None = None
    rate_limit: float | None = None


@dataclass
class Running:
    plugin: str
    simulator: Simulator
    server: SimServer
    name: str = ""

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def credentials(self) -> dict[str, Any]:
        return self.simulator.credentials(self.base_url)


def available(types: dict[str, type[Channel]]) -> list[str]:
    """Installed channel types that ship a simulator: the example config's first, then by name."""
    found = [name for name, cls in types.items() if cls.has_simulator()]
    return sorted(found, key=lambda n: (n not in DEFAULT_PORTS, list(DEFAULT_PORTS).index(n)
                                        if n in DEFAULT_PORTS else 0, n))


def instances(types: dict[str, type[Channel]], wanted: list[Instance] | None = None,
              ports: dict[str, int] | None = None, rate_limits: dict[str, float] | None = None,
              rate_limit: float | None = None, free_ports: bool = False) -> list[Instance]:
    """What to serve: ``wanted`` or one instance per available plugin, with ports and limits
    applied by instance name; refuses a plugin with no simulator or a name given twice."""
    chosen = wanted if wanted is not None else [Instance(name, name) for name in available(types)]
    names = [i.name for i in chosen]
    if len(set(names)) != len(names):
        raise UserError(f"sandbox: instance names must differ: {', '.join(names)}")
    for unknown in set(ports or {}) | set(rate_limits or {}):
        if unknown not in names:
            raise UserError(f"sandbox: no instance named {unknown!r} (serving {', '.join(names) or 'none'})")
    out = []
    for inst in chosen:
        cls = types.get(inst.plugin)
        if cls is None or not cls.has_simulator():
            have = ", ".join(available(types)) or "none"
            raise UserError(f"sandbox: {inst.name}: no installed channel type {inst.plugin!r} ships a simulator "
                            f"(installed with one: {have})")
        port = (ports or {}).get(inst.name, inst.port)
        if port is None:
            port = 0 if free_ports else DEFAULT_PORTS.get(inst.name if inst.name == inst.plugin else "", 0)
        limit = (rate_limits or {}).get(inst.name, inst.rate_limit if inst.rate_limit is not None else rate_limit)
        out.append(Instance(inst.name, inst.plugin, port, limit))
    return out


def start(types: dict[str, type[Channel]], ports: dict[str, int] | None = None, host: str = "127.0.0.1",
          plugins: list[str] | None = None, intake: str | None = None, *, serve: list[Instance] | None = None,
          **sim_options: Any) -> dict[str, Running]:
    """Serve each instance (``serve``, else one per plugin in ``plugins`` or every available one).
    A port already taken is a ``UserError`` naming it; nothing stays running then.

    ``intake``: the intake's base URL; buyer actions then send each platform's messages to
    ``<intake>/intake/<channel>`` — the example config's name for a plugin's own instance,
    the instance's name otherwise (TMC's are held for the daemon's listener)."""
    plan = serve if serve is not None else instances(
        types, [Instance(p, p) for p in plugins] if plugins is not None else None, ports)
    running: dict[str, Running] = {}
    try:
        for inst in plan:
            options = dict(sim_options)
            if inst.rate_limit is not None:
                options["rate_limit"] = inst.rate_limit
            sim = types[inst.plugin].simulator(**options)
            try:
                server = SimServer(sim, host, inst.port or 0).start()
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise UserError(f"sandbox: {inst.name}: port {inst.port} on {host} is already in use (another "
                                    f"sandbox?); choose one with --port {inst.name}=PORT or use --free-ports") from None
                raise UserError(f"sandbox: {inst.name}: cannot listen on {host}:{inst.port}: {exc.strerror}") from None
            running[inst.name] = Running(inst.plugin, sim, server, inst.name)
            if intake and sim.messages is not None:
                channel = EXAMPLE_CHANNELS.get(inst.plugin, inst.name) if inst.name == inst.plugin else inst.name
                sim.notify_to(None if sim.messages.held else f"{intake.rstrip('/')}/intake/{channel}")
    except BaseException:
        stop(running)
        raise
    return running


def stop(running: dict[str, Running]) -> None:
    for r in running.values():
        r.simulator.stop_notifying()
        r.server.stop()


def read_seed(stream: IO[str], source: str = "<csv>") -> list[dict[str, Any]]:
    """SKUs to seed from a catalog CSV (``channelsync catalog import``'s format: ``sku_code``,
    ``product_code``, ``price`` in yuan, optional titles and ``stock:<warehouse>`` columns whose
    sum is the quantity; bundles are skipped). Every problem is named with its row and column."""
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    missing = [c for c in ("sku_code", "product_code", "price") if c not in header]
    if missing:
        raise UserError(f"{source}: header: missing column {', '.join(map(repr, missing))}")
    rows, problems = [], []
    for n, raw in enumerate(reader, start=2):
        r = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if r.get("bundle"):
            continue
        quantity = 0
        for col in (c for c in header if c.startswith("stock:")):
            if r.get(col) and not r[col].isdigit():
                problems.append(f"row {n}, column {col}: {r[col]!r} is not a whole number of units >= 0")
            quantity += int(r[col]) if r.get(col, "").isdigit() else 0
        try:
            price = yuan_to_fen(r["price"])
        except ValueError as exc:
            problems.append(f"row {n}, column price: {exc}")
            continue
        if not r["sku_code"] or not r["product_code"]:
            problems.append(f"row {n}: sku_code and product_code are required")
            continue
        rows.append({"sku_code": r["sku_code"], "product_code": r["product_code"], "price": price,
                     "quantity": quantity, "title": r.get("product_title") or r.get("sku_title") or r["sku_code"]})
    if problems:
        raise UserError(f"{source}: " + "; ".join(problems[:20]))
    return rows


def seed(running: dict[str, Running], rows: list[dict[str, Any]]) -> None:
    """Put the catalog's SKUs on every simulator, the SKUs of one product on one item."""
    for r in running.values():
        items: dict[str, str] = defaultdict(str)
        for row in rows:
            sku = r.simulator.seed(row["sku_code"], row["quantity"], row["price"], title=row["title"],
                                   item_id=items[row["product_code"]] or None)
            items[row["product_code"]] = sku.item_id


def env_name(plugin: str, setting: str) -> str:
    """The variable config/channelsync.toml reads a sandbox secret from."""
    return f"CHANNELSYNC_{plugin}_{setting}".upper().replace("-", "_")


def secret_exports(types: dict[str, type[Channel]], host: str = "127.0.0.1",
                   receivers: dict[str, type] | None = None) -> dict[str, str]:
    """Sandbox secrets as environment variables, for the example config (they are the
    simulators' public fixtures, not real credentials)."""
    out = {}
    for name in available(types):
        cls = types[name]
        base_url = f"http://{host}:{DEFAULT_PORTS.get(name, 0)}"
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
    return {name: {"plugin": r.plugin, "base_url": r.base_url, "control_url": f"{r.base_url}/_sim/",
                   "rate_limit": r.simulator.rate_limit, "credentials": r.credentials()}
            for name, r in running.items()}
