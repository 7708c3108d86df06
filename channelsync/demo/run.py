"""``channelsync demo``: a catalog, the sandbox, the daemon and simulated buyers.

It seeds a realistic catalog (simple products, products with variants, a
bundle, two warehouses), starts every built-in simulator on 127.0.0.1, runs
the daemon against them, and lets buyers order on every channel — with a
burst mode that imitates 11.11 on scarce SKUs. It ends with a consistency
check: every channel shows exactly its target, every buyer order was
ingested exactly once, and oversold units are counted.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from channelsync.config.settings import ChannelConfig, ChannelIntake, Config, DaemonConfig, IntakeConfig, StockRules
from channelsync.daemon import Daemon
from channelsync.engine import catalog, inventory
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import fake, sandbox
from channelsync.sim.simulator import OutOfStock, Simulator
from channelsync.store import Store, parse_ts

CHANNEL_NAMES = {"taobao": "tb-flagship", "jd": "jd-pop", "wechat": "wx-shop", "ownsite": "web"}
WAREHOUSES = {"WH-SH": "Shanghai", "WH-GZ": "Guangzhou"}
# a paid order closed before shipment is "cancelled" on some platforms, "refunded" on others (Taobao)
_CLOSED = {"cancelled": "closed", "refunded": "closed"}


@dataclass
class Options:
    duration: float = 30.0
    rate: float = 2.0          # buyer orders per second per channel
    burst: bool = False        # 11.11: scarce SKUs, five times the rate
    seed: int | None = None
    workdir: str | None = None
    use_fakes: bool = False    # fake channels instead of the platform simulators
    settle_timeout: float = 90.0
    intake: bool = True        # platforms' messages ring the channels' doorbells (poll every 30 s)


@dataclass
class DemoChannel:
    name: str
    plugin: str
    sim: Simulator
    placed: int = 0
    refused: int = 0
    cancelled: int = 0
    shipped: int = 0


def catalog_csv(burst: bool) -> tuple[str, list[str]]:
    """About 60 SKUs: teas in three sizes, cups in colours, single items, one gift bundle."""
    rows = ["product_code,product_title,description,sku_code,sku_title,price,cost,attributes,bundle,"
            "stock:WH-SH,stock:WH-GZ"]
    scarce = []
    rnd = random.Random(7)
    teas = ["LONGJING", "BILUOCHUN", "TIEGUANYIN", "PUER", "DAHONGPAO", "JASMINE", "BAIMUDAN", "KEEMUN"]
    for i, tea in enumerate(teas):
        for size, mult in (("50G", 1), ("100G", 2), ("250G", 4)):
            code = f"TEA-{tea}-{size}"
            sh, gz = rnd.randint(20, 80), rnd.randint(0, 40)
            if burst and i < 2 and size == "50G":
                sh, gz, scarce = 3, 2, scarce + [code]
            rows.append(f"TEA-{tea},{tea.title()} tea,Spring harvest {tea.title()},{code},{tea.title()} {size},"
                        f"{39.9 * mult:.2f},{12 * mult:.2f},size={size},,{sh},{gz}")
    for colour in ("WHITE", "CELADON", "BLACK", "RED", "BLUE", "GREEN"):
        for style in ("CLASSIC", "TALL"):
            code = f"CUP-{style}-{colour}"
            rows.append(f"CUP-{style},{style.title()} cup,Porcelain cup,{code},{style.title()} cup {colour.lower()},"
                        f"29.00,8.50,colour={colour.lower()};style={style.lower()},,{rnd.randint(5, 60)},{rnd.randint(0, 30)}")
    for n in range(14):
        code = f"TOOL-{n:02d}"
        sh = 4 if burst and n < 2 else rnd.randint(0, 50)
        if burst and n < 2:
            scarce.append(code)
        rows.append(f"TOOLS,Tea tools,Bamboo and clay tools,{code},Tea tool {n},{15 + n}.90,{5 + n}.00,,,{sh},{rnd.randint(0, 20)}")
    rows.append("GIFT,Gift set,Two teas and a cup,GIFT-SET,Gift set,149.00,50.00,,"
                "TEA-LONGJING-100G*2+CUP-CLASSIC-CELADON*1,,")
    return "\n".join(rows) + "\n", scarce


def _codes(csv_text: str) -> list[tuple[str, str, int]]:
    out = []
    for line in csv_text.splitlines()[1:]:
        parts = line.split(",")
        out.append((parts[0], parts[3], round(float(parts[5]) * 100)))
    return out


class Demo:
    def __init__(self, options: Options, say: Callable[[str], None] = print) -> None:
        self.o = options
        self.say = say
        self.rnd = random.Random(options.seed)
        self.pm = make_manager(extra=[fake])
        self.types = channel_types(self.pm)
        self.workdir = Path(options.workdir or tempfile.mkdtemp(prefix="channelsync-demo-"))
        self.channels: dict[str, DemoChannel] = {}
        self.running: dict[str, sandbox.Running] = {}
        self.stop_buyers = threading.Event()
        self.stop_daemon = threading.Event()

    # --- set-up ------------------------------------------------------------
    def setup(self) -> None:
        csv_text, self.scarce = catalog_csv(self.o.burst)
        plugins = [] if self.o.use_fakes else sandbox.available(self.types)
        cfgs = {}
        if plugins:
            self.running = sandbox.start(self.types, ports={p: 0 for p in plugins}, plugins=plugins)
            for plugin, r in self.running.items():
                name = CHANNEL_NAMES[plugin]
                self.channels[name] = DemoChannel(name, plugin, r.simulator)
                cfgs[name] = self._channel_config(name, plugin, r.credentials(), r.base_url)
        else:
            self.say("demo: platform simulators not available; using fake channels")
            for name in ("fake-a", "fake-b", "fake-c"):
                platform = fake.FakePlatform(name)
                self.channels[name] = DemoChannel(name, "fake", platform)
                cfgs[name] = self._channel_config(name, "fake", platform.credentials(""))
        self.config = Config(path=None, db_path=self.workdir / "demo.db", warehouses=WAREHOUSES, channels=cfgs,
                             daemon=DaemonConfig(http_port=0, log_format="json", log_level="warning"),
                             intake=IntakeConfig(port=0))
        for ch in self.channels.values():
            item_ids: dict[str, str] = {}
            for product, code, price in _codes(csv_text):
                sku = ch.sim.seed(code, 0, price, title=code, item_id=item_ids.get(product))
                item_ids.setdefault(product, sku.item_id)
        store = Store(self.config.db_path)
        catalog.sync_warehouses(store, self.config)
        import io

        report = catalog.import_csv(store, self.config, io.StringIO(csv_text), source="demo catalog")
        store.close()
        self.sku_codes = [c for _, c, _ in _codes(csv_text)]
        self.say(f"demo: {report.skus_new} SKUs in 2 warehouses, channels: "
                 + ", ".join(f"{c.name} ({c.plugin})" for c in self.channels.values()) + f"; data in {self.workdir}")

    def _channel_config(self, name: str, plugin: str, settings: dict[str, Any], base_url: str = "") -> ChannelConfig:
        rules = StockRules(buffer=1) if plugin in ("jd",) else StockRules()
        warehouses = ("WH-SH",) if plugin in ("ownsite", "fake") and name.endswith(("web", "-c")) else ()
        messages = getattr(self.channels[name].sim, "messages", None) if name in self.channels else None
        intake = ChannelIntake(True, None, messages.settings(base_url)) if self.o.intake and messages else ChannelIntake()
        return ChannelConfig(name=name, plugin=plugin, poll_interval=30.0 if intake.enabled else 1.0,
                             order_overlap=60.0, intake=intake,
                             initial_lookback=3600.0, reconcile_interval=3600.0, rate_per_second=50.0, burst=20,
                             warehouses=warehouses, rules=rules, settings=settings,
                             secret_keys=frozenset(k for k, s in self.types[plugin].settings_schema.items() if s.secret))

    # --- run -----------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.setup()
        daemon = Daemon(self.config, self.pm, tick=0.2, serve_http=False)
        thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False,
                                                            "until": self.stop_daemon.is_set}, daemon=True)
        thread.start()
        try:
            self._wait_linked()
            for ch in self.channels.values():
                if self.config.channels[ch.name].intake.enabled and daemon.intake_server is not None:
                    ch.sim.notify_to(None if ch.sim.messages.held else daemon.intake_server.url(ch.name))
            buyers = [threading.Thread(target=self._buyer, args=(ch,), daemon=True) for ch in self.channels.values()]
            for b in buyers:
                b.start()
            started = time.monotonic()
            try:
                while time.monotonic() - started < self.o.duration:
                    time.sleep(1.0)
                    self.say(self._progress(time.monotonic() - started))
            except KeyboardInterrupt:
                self.say("demo: interrupted; settling and checking")
            self.stop_buyers.set()
            for b in buyers:
                b.join()
            settled = self._settle()
        finally:
            self.stop_daemon.set()
            thread.join(timeout=30)
            sandbox.stop(self.running)
            for ch in self.channels.values():
                if isinstance(ch.sim, Simulator):
                    ch.sim.stop_notifying()
        summary = self.check()
        summary["settled_in_seconds"] = settled
        return summary

    def _wait_linked(self) -> None:
        deadline = time.monotonic() + 60
        store = Store(self.config.db_path)
        try:
            while time.monotonic() < deadline:
                linked = store.scalar("SELECT COUNT(*) FROM listings")
                pending = store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
                if linked == len(self.sku_codes) * len(self.channels) and pending == 0:
                    self.say(f"demo: {linked} listings linked and pushed; buyers start")
                    return
                time.sleep(0.3)
            raise RuntimeError(f"the first sync did not finish in 60 s ({linked} listings linked, {pending} pushes pending)")
        finally:
            store.close()

    def _buyer(self, ch: DemoChannel) -> None:
        rnd = random.Random(self.rnd.random())
        rate = self.o.rate * (5 if self.o.burst else 1)
        while not self.stop_buyers.wait(rnd.expovariate(rate)):
            pick = rnd.random()
            if pick < 0.08:
                paid = [o.order_id for o in list(ch.sim.orders.values()) if o.status == "paid"]
                if paid:
                    ch.sim.cancel(rnd.choice(paid))
                    ch.cancelled += 1
                continue
            if pick < 0.16:
                paid = [o.order_id for o in list(ch.sim.orders.values()) if o.status == "paid"]
                if paid:
                    ch.sim.ship(rnd.choice(paid), "SF", f"SF{rnd.randint(10**9, 10**10)}")
                    ch.shipped += 1
                continue
            pool = self.scarce if self.o.burst and self.scarce and rnd.random() < 0.7 else self.sku_codes
            try:
                ch.sim.place_order([(rnd.choice(pool), rnd.choice((1, 1, 1, 2)))])
                ch.placed += 1
            except OutOfStock:
                ch.refused += 1

    def _progress(self, elapsed: float) -> str:
        from channelsync.telemetry import metrics

        store = Store(self.config.db_path)
        try:
            queue = store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            ingested = dict(store.execute("SELECT channel, COUNT(*) FROM orders GROUP BY channel").fetchall())
            oversold = self._oversold(store)
        finally:
            store.close()
        pushes = sum(metrics.PUSHES.labels(n, "stock", "ok")._value.get() for n in self.channels)
        orders = " ".join(f"{n}={c.placed}/{ingested.get(n, 0)}" for n, c in self.channels.items())
        return (f"t={elapsed:4.0f}s orders placed/ingested {orders} | stock pushes {pushes:.0f} | queue {queue} | "
                f"refused {sum(c.refused for c in self.channels.values())} | oversold {oversold}")

    def _settle(self) -> float:
        started = time.monotonic()
        store = Store(self.config.db_path)
        try:
            while time.monotonic() - started < self.o.settle_timeout:
                if self._consistent(store)[0]:
                    return round(time.monotonic() - started, 2)
                time.sleep(0.5)
        finally:
            store.close()
        return round(time.monotonic() - started, 2)

    # --- the consistency check -----------------------------------------------
    def _consistent(self, store: Store) -> tuple[bool, list[str], dict[str, Any]]:
        problems: list[str] = []
        stats: dict[str, Any] = {}
        for name, ch in self.channels.items():
            cfg = self.config.channels[name]
            mismatched = 0
            for code in self.sku_codes:
                shown = ch.sim.stock(code)
                wanted = inventory.channel_target(store, cfg, code)
                if shown != wanted:
                    mismatched += 1
                    if mismatched <= 3:
                        problems.append(f"{name}: {code} shows {shown}, target {wanted}")
            db = {r["external_id"]: _CLOSED.get(r["status"], r["status"]) for r in
                  store.query("SELECT external_id, status FROM orders WHERE channel = ?", (name,))}
            sim_orders = {o.order_id: _CLOSED.get(o.status, o.status) for o in list(ch.sim.orders.values())}
            missing = set(sim_orders) - set(db)
            stale = [f"{oid} {db[oid]}!={st}" for oid, st in sim_orders.items() if oid in db and db[oid] != st]
            extra = set(db) - set(sim_orders)
            if missing or stale or extra:
                problems.append(f"{name}: {len(missing)} orders not ingested, {len(stale)} with a stale status "
                                f"{stale[:3]}, {len(extra)} unknown to the platform")
            stats[name] = {"plugin": ch.plugin, "orders_placed": ch.placed, "orders_ingested": len(db),
                           "refused_at_zero": ch.refused, "cancelled": ch.cancelled, "shipped": ch.shipped,
                           "quantities_off_target": mismatched}
        return not problems, problems, stats

    def _propagation(self, store: Store) -> dict[str, float | None]:
        """From a buyer's order to channelsync holding it (then every channel's push starts): p50, p99."""
        waits = []
        for name, ch in self.channels.items():
            placed = {o.order_id: o.created_at for o in list(ch.sim.orders.values())}
            for row in store.query("SELECT external_id, first_seen_at FROM orders WHERE channel = ?", (name,)):
                if row["external_id"] in placed:
                    waits.append((parse_ts(row["first_seen_at"]) - placed[row["external_id"]]).total_seconds())
        waits.sort()
        pick = lambda q: round(waits[min(len(waits) - 1, int(q * len(waits)))], 2) if waits else None  # noqa: E731
        return {"p50": pick(0.5), "p99": pick(0.99), "orders": len(waits)}

    @staticmethod
    def _oversold(store: Store) -> int:
        """Units sold beyond the master's stock: available across all warehouses below zero."""
        total = 0
        for (code,) in store.execute("SELECT code FROM skus WHERE NOT EXISTS "
                                     "(SELECT 1 FROM bundle_components WHERE bundle_code = code)").fetchall():
            total += max(0, -(inventory.on_hand(store, code) - inventory.reserved(store, code)))
        return total

    def check(self) -> dict[str, Any]:
        store = Store(self.config.db_path)
        try:
            ok, problems, stats = self._consistent(store)
            oversold = self._oversold(store)
            duplicates = store.scalar("SELECT COUNT(*) FROM (SELECT channel, external_id FROM orders "
                                      "GROUP BY 1, 2 HAVING COUNT(*) > 1)")
            seen = self._propagation(store)
        finally:
            store.close()
        return {"consistent": ok and duplicates == 0, "problems": problems, "oversold_units": oversold,
                "order_seen_seconds": seen, "intake": any(c.intake.enabled for c in self.config.channels.values()),
                "duplicate_orders": duplicates, "channels": stats, "burst": self.o.burst,
                "duration_seconds": self.o.duration, "database": str(self.config.db_path)}

