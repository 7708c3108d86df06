"""kill -9 under traffic: the daemon as a process against the sandbox, killed at random.

Every built-in simulator is served over real HTTP in this process, buyers
order, cancel, ship and refund on every channel, and ``channelsync run`` is
started and SIGKILLed again and again: at random moments, during start-up,
right after bursts of orders, right after a platform renewed the session, and
once during a ``resync`` the CLI handed to it. At each kill the buyers pause
and the increment channels are checked: what the platform shows must be
explained by what the database expects, the orders it has not ingested and
at most the one increment in flight (else an increment was applied twice).
Then the daemon runs undisturbed, and everything is checked from the
simulators' own state.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from channelsync import config as config_mod
from channelsync.engine import catalog, inventory
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.sim.simulator import OutOfStock, SimOrder
from channelsync.store import Store

SEED = 1212
KILLS = 20
NAMES = {"taobao": "tb", "jd": "jd", "wechat": "wx", "ownsite": "web", "pdd": "pdd"}
INCREMENT = ("tb", "wx", "pdd")  # the channels told differences, not absolute values
SKUS = [f"K-{n:02d}" for n in range(10)]
CLOSED = {"cancelled": "closed", "refunded": "closed"}
SETTLE_BOUND = 90.0  # seconds from the last start to every check passing (measured: see README)


def taken(order: SimOrder, code: str) -> int:
    """Units of ``code`` the platform's own number has off for this order (sold, not put back)."""
    return sum(line.quantity - line.released for line in order.lines if line.sku_code == code) if order.paid else 0


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.rnd = random.Random(SEED)
        self.types = channel_types(make_manager())
        self.running = sandbox.start(self.types, ports={p: 0 for p in tuple(sandbox.DEFAULT_PORTS)})
        self.sims = {NAMES[p]: r.simulator for p, r in self.running.items()}
        self.env = dict(os.environ)
        lines = ['[store]\npath = "cs.db"\n[daemon]\nhttp_port = 0\nlog_format = "json"\nlog_level = "info"\n',
                 '[warehouses]\nmain = "Main"\n']
        for plugin, r in self.running.items():
            name = NAMES[plugin]
            lines.append(f"[channels.{name}]\nplugin = \"{plugin}\"\npoll_interval = 0.3\ninitial_lookback = 600\n"
                         f"order_overlap = 30\nreconcile_interval = 3600\nrate_per_second = 100\nburst = 50\n"
                         f"[channels.{name}.settings]\n")
            schema = self.types[plugin].settings_schema
            for key, value in r.credentials().items():
                if key in schema and schema[key].secret:
                    var = f"KILL9_{plugin}_{key}".upper()
                    self.env[var] = str(value)
                    lines.append(f'{key} = {{ env = "{var}" }}\n')
                else:
                    lines.append(f"{key} = {json.dumps(value)}\n")
            for code in SKUS:
                r.simulator.seed(code, 0, 1000 + SKUS.index(code))
        self.config_path = tmp_path / "cs.toml"
        self.config_path.write_text("".join(lines))
        self.config = config_mod.load(self.config_path, self.types, environ=self.env)
        store = Store(self.config.db_path)
        catalog.sync_warehouses(store, self.config)
        csv = "product_code,sku_code,price,stock:main\n" + "".join(f"P,{c},10.00,60\n" for c in SKUS)
        catalog.import_csv(store, self.config, io.StringIO(csv), source="kill9")
        store.close()
        self.cli = [sys.executable, "-m", "channelsync", "--config", str(self.config_path)]
        self.log = open(tmp_path / "daemon.log", "a")
        self.proc: subprocess.Popen | None = None
        self.buying = threading.Event()
        self.stop_buyers = threading.Event()
        self.in_order = threading.Lock()  # held by a buyer between choosing and acting
        self.placed = self.refused = 0
        self.doubles: list[str] = []
        self.surplus_units = 0
        self.awaiting_read = 0  # listing checks skipped: a read of the platform was pending
        self.live = threading.Event()  # a daemon is running (registered), so sales can propagate
        self.sold_while_down = 0

    # --- the daemon ------------------------------------------------------------
    def start(self) -> None:
        self.log.write(f"--- start {time.time()}\n")
        self.log.flush()
        self.proc = subprocess.Popen([*self.cli, "run"], env=self.env, stdout=self.log, stderr=self.log)

    def kill(self) -> None:
        self.live.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def up(self) -> bool:
        """The daemon registered itself (its workers are starting)."""
        store = Store(self.config.db_path)
        try:
            if store.scalar("SELECT pid FROM daemon") == self.proc.pid:
                self.live.set()
            return self.live.is_set()
        finally:
            store.close()

    def stored_refresh(self, channel: str) -> str | None:
        store = Store(self.config.db_path)
        try:
            return store.scalar("SELECT value FROM credentials WHERE channel = ? AND key = 'refresh_token'",
                                (channel,))
        finally:
            store.close()

    def wait(self, check, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out after {seconds} s waiting for {what}; see {self.tmp / 'daemon.log'}")

    # --- buyers -----------------------------------------------------------------
    def buyers(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._buyer, args=(name, random.Random(self.rnd.random())), daemon=True)
                   for name in self.sims]
        for t in threads:
            t.start()
        return threads

    def _buyer(self, name: str, rnd: random.Random) -> None:
        sim = self.sims[name]
        while not self.stop_buyers.is_set():
            if not self.buying.wait(0.1):
                continue
            with self.in_order:
                self.act(sim, rnd)
            time.sleep(rnd.expovariate(6.0))

    def act(self, sim, rnd: random.Random) -> None:
        pick = rnd.random()
        paid = [o.order_id for o in list(sim.orders.values()) if o.status == "paid"]
        shipped = [o.order_id for o in list(sim.orders.values()) if o.status == "shipped"]
        if pick < 0.06 and paid:
            sim.cancel(rnd.choice(paid))
        elif pick < 0.12 and paid:
            sim.ship(rnd.choice(paid), "SF", f"SF{rnd.randint(10**8, 10**9)}")
        elif pick < 0.14 and paid:
            sim.refund(rnd.choice(paid))  # before shipment: the units go back on sale
        elif pick < 0.16 and shipped:
            sim.refund(rnd.choice(shipped))  # after shipment: they do not
        else:
            try:
                order = sim.place_order([(rnd.choice(SKUS), rnd.choice((1, 1, 2)))])
                self.placed += 1
                if not self.live.is_set():
                    self.sold_while_down += order.lines[0].quantity
            except OutOfStock:
                self.refused += 1

    def burst(self, orders: int = 25) -> None:
        rnd = random.Random(self.rnd.random())
        with self.in_order:
            for _ in range(orders):
                self.act(self.sims[rnd.choice(list(self.sims))], rnd)

    # --- checks ---------------------------------------------------------------------
    def check_increments(self, when: str) -> None:
        """Daemon dead, buyers paused: each increment channel's number is explained."""
        with self.in_order:
            store = Store(self.config.db_path)
            try:
                for name in INCREMENT:
                    sim = self.sims[name]
                    for row in store.query("SELECT sku_code, expected, check_wanted_at, check_holds FROM listings "
                                           "WHERE channel = ? AND expected IS NOT NULL", (name,)):
                        code = row["sku_code"]
                        if row["check_wanted_at"] is not None and row["check_holds"]:
                            # a call that may have applied: its pushes wait for a read of the platform's
                            # number, so what it shows now is not yet explained (issue 13's rule)
                            self.awaiting_read += 1
                            continue
                        held = store.scalar("SELECT COALESCE(SUM(l.held), 0) FROM order_lines l JOIN orders o "
                                            "ON o.id = l.order_id WHERE o.channel = ? AND l.sku_code = ?", (name, code))
                        unseen = sum(taken(o, code) for o in list(sim.orders.values())) - held
                        flight = store.one("SELECT inflight_delta FROM outbox WHERE channel = ? AND sku_code = ? "
                                           "AND kind = 'stock' AND inflight_key IS NOT NULL", (name, code))
                        allowed = row["expected"] - unseen + max(0, flight["inflight_delta"] if flight else 0)
                        shown = sim.stock(code)
                        if shown > max(0, allowed):
                            self.surplus_units += shown - max(0, allowed)
                            self.doubles.append(f"{when}: {name} {code} shows {shown}, explained at most {allowed}")
            finally:
                store.close()

    def problems(self) -> list[str]:
        out = []
        store = Store(self.config.db_path)
        try:
            for name, sim in self.sims.items():
                cfg = self.config.channels[name]
                for code in SKUS:
                    shown, wanted = sim.stock(code), inventory.channel_target(store, cfg, code)
                    if shown != wanted:
                        out.append(f"{name} {code}: shows {shown}, target {wanted}")
                rows = store.query("SELECT external_id, status FROM orders WHERE channel = ?", (name,))
                db = {r["external_id"]: CLOSED.get(r["status"], r["status"]) for r in rows}
                if len(db) != len(rows):
                    out.append(f"{name}: an order ingested twice")
                platform = {o.order_id: CLOSED.get(o.status, o.status) for o in list(sim.orders.values())}
                for oid in set(platform) | set(db):
                    if db.get(oid) != platform.get(oid):
                        out.append(f"{name} order {oid}: database {db.get(oid)}, platform {platform.get(oid)}")
            pending = store.scalar("SELECT COUNT(*) FROM outbox")
            if pending:
                out.append(f"{pending} outbox rows left: "
                           f"{store.query('SELECT channel, sku_code, status, last_error FROM outbox LIMIT 3')}")
        finally:
            store.close()
        return out

    def ledger_mismatches(self) -> list[dict]:
        store = Store(self.config.db_path)
        try:
            return store.query("SELECT s.sku_code, s.warehouse, s.on_hand, COALESCE(SUM(m.delta), 0) AS ledger "
                               "FROM stock s LEFT JOIN stock_movements m ON m.sku_code = s.sku_code "
                               "AND m.warehouse = s.warehouse GROUP BY s.sku_code, s.warehouse "
                               "HAVING s.on_hand != COALESCE(SUM(m.delta), 0)")
        finally:
            store.close()

    def oversold(self) -> int:
        store = Store(self.config.db_path)
        try:
            return sum(max(0, inventory.reserved(store, c) - inventory.on_hand(store, c)) for c in SKUS)
        finally:
            store.close()

    def close(self) -> None:
        self.stop_buyers.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        sandbox.stop(self.running)
        self.log.close()


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """The whole run, once: every test below checks one of its promises."""
    world = World(tmp_path_factory.mktemp("kill9"))
    kinds = ["startup"] * 5 + ["burst"] * 6 + ["random"] * 6 + ["renewal"] * 2 + ["resync"]
    world.rnd.shuffle(kinds)
    kills: list[str] = []
    resync: dict = {}
    threads = world.buyers()
    try:
        world.start()  # the first start links every listing before buyers come
        world.wait(lambda: all(s.stock(SKUS[0]) > 0 for s in world.sims.values()), 60, "the first sync")
        world.kill()
        world.buying.set()
        for n, kind in enumerate(kinds):
            world.start()
            if kind == "startup":
                time.sleep(world.rnd.uniform(0.05, 1.2))
            else:
                world.wait(world.up, 60, "the daemon to start")
                time.sleep(world.rnd.uniform(0.2, 1.0))
                if kind == "burst":
                    world.burst()
                    time.sleep(world.rnd.uniform(0, 0.2))
                elif kind == "random":
                    time.sleep(world.rnd.uniform(0, 1.0))
                elif kind == "renewal":
                    # killed the moment the renewed pair is stored (the platform retired the old
                    # refresh token): the restart must carry on with the stored pair. A kill
                    # *between* the platform's answer and that commit is the lost-answer case of
                    # tests/sync/test_lost_renewal.py.
                    tb = world.sims["tb"]
                    before = set(tb.refresh_tokens)
                    tb.inject("auth_expired")
                    world.wait(lambda tb=tb, before=before: world.stored_refresh("tb") in tb.refresh_tokens - before,
                               30, "the session renewal to be stored")
                elif kind == "resync":
                    world.sims["wx"].inject("latency", count=12, seconds=0.3)  # a resync that takes a while
                    cli = subprocess.Popen([*world.cli, "--json", "resync", "--channel", "wx"], env=world.env,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    store = Store(world.config.db_path)
                    world.wait(lambda store=store: store.scalar(
                        "SELECT status FROM requests ORDER BY id DESC LIMIT 1") == "running", 60,
                        "the handed-over resync to start")
                    store.close()
            world.buying.clear()
            world.kill()
            kills.append(kind)
            world.check_increments(f"kill {n + 1} ({kind})")
            if kind == "resync":
                out, err = cli.communicate(timeout=180)
                resync = {"rc": cli.returncode, "out": out, "err": err}
            world.buying.set()
        world.buying.clear()
        world.stop_buyers.set()
        for t in threads:
            t.join(timeout=10)
        started = time.monotonic()
        world.start()
        deadline = started + SETTLE_BOUND
        while time.monotonic() < deadline and world.problems():
            time.sleep(0.25)
        settled = time.monotonic() - started
        result = {"kills": kills, "resync": resync, "settled_in": settled, "problems": world.problems(),
                  "ledger": world.ledger_mismatches(), "oversold": world.oversold(), "doubles": world.doubles,
                  "placed": world.placed, "refused": world.refused, "sold_while_down": world.sold_while_down,
                  "surplus_units": world.surplus_units, "awaiting_read": world.awaiting_read}
        world.proc.send_signal(signal.SIGTERM)
        world.proc.wait(timeout=30)
        result["log"] = (world.tmp / "daemon.log")
        print(f"\nkill -9: {len(kills)} kills, {world.placed} orders placed ({world.refused} refused at zero), "
              f"settled {settled:.1f} s after the last start; unexplained surplus {world.surplus_units} units in "
              f"{len(world.doubles)} checks ({world.awaiting_read} skipped awaiting a read); oversold "
              f"{result['oversold']}, sold while no daemon ran {world.sold_while_down}")
        for line in world.doubles[:5]:
            print("  ", line)
        yield result
    finally:
        world.close()


pytestmark = pytest.mark.slow


def test_killed_twenty_times_at_every_kind_of_moment(outcome):
    assert len(outcome["kills"]) >= KILLS
    assert {"startup", "burst", "random", "renewal", "resync"} <= set(outcome["kills"])


def test_everything_settles_after_the_last_restart(outcome):
    """Every order once with its final status, every channel at its target, nothing left queued."""
    assert outcome["problems"] == [], outcome["problems"][:10]
    assert outcome["settled_in"] < SETTLE_BOUND


def test_on_hand_is_the_ledgers_sum(outcome):
    assert outcome["ledger"] == []


def test_oversold_units_are_counted_and_explained(outcome):
    """Zero is the goal. Stock here runs out, so the oversell rule is exercised; what is
    oversold is explained by sales made while no daemon ran (killed, restarting: every
    channel keeps selling its last units and nothing can tell the others) and by the
    surplus units the kill-time checks found (see the next test)."""
    assert outcome["oversold"] <= outcome["sold_while_down"] + outcome["surplus_units"], outcome


def test_no_increment_applied_twice(outcome):
    """At every kill: shown <= expected - units of orders not yet ingested + the increment in flight,
    for every listing not waiting for a read (a call that may have applied holds its pushes until
    the platform's number is read). Before issue 13's work this found 49-86 surplus units a run."""
    assert outcome["doubles"] == [], outcome["doubles"][:10]


def test_the_resync_interrupted_by_the_kill_was_done(outcome):
    """The CLI waiting on the killed daemon noticed within seconds and did the resync itself."""
    resync = outcome["resync"]
    assert resync["rc"] == 0, resync["err"][-2000:]
    report = json.loads(resync["out"])
    assert "error" not in report["wx"] and report["wx"]["seen"] == len(SKUS)
