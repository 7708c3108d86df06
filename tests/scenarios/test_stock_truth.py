"""Stock truth on every channel of every stock mode: sales that land while the core
pushes are never erased for longer than one push cycle, a call that applied but lost
its answer never applies twice, a crash between send and settle leaves nothing above
target, unpolled sales are not drift, and a seller-centre hand edit is repaired by
the drift check without a resync.

Each case runs on the fake channel in every mode (increment with and without keys,
compare-and-set, absolute with and without ``read_stock``) and on every built-in
plugin against its simulator (in-process WSGI)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from channelsync.engine import catalog, inventory, listings
from channelsync.sdk.errors import Rejected
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.store import ts, utcnow
from channelsync.sync import reconcile
from channelsync.telemetry import metrics
from channelsync.testing.harness import Shop

FAKES = {
    "fake-increment-keys": {},
    "fake-increment": {"idempotency_keys": False},
    "fake-cas": {"stock_mode": "compare_and_set"},
    "fake-absolute-reads": {"stock_mode": "absolute"},
    "fake-absolute-blind": {"stock_mode": "absolute", "read_stock": False},
}
PLUGINS = ("taobao", "jd", "wechat", "ownsite", "pdd")
KINDS = [*FAKES, *PLUGINS]
READING = [k for k in KINDS if k != "fake-absolute-blind"]
SKU, OTHER = "X", "Y"


class World:
    """A shop with the channel under test (``x``) beside a plain fake one (``o``)."""

    def __init__(self, tmp_path, kind: str, **channel_opts) -> None:
        opts = {"order_overlap": 60.0, "rate_per_second": 1000.0, "burst": 1000, **channel_opts}
        if kind in FAKES:
            x = {**FAKES[kind], **opts}
            self.sim = None
        else:
            self.sim = channel_types(make_manager())[kind].simulator()
            base = "http://sim.invalid"
            x = {"plugin": kind, "settings": self.sim.credentials(base), "transport": httpx.WSGITransport(app=self.sim),
                 **opts}
        self.shop = Shop(tmp_path, {"x": x, "o": {"order_overlap": 60.0}})
        self.x = self.sim or self.shop.platform("x")
        item = None
        for code in (SKU, OTHER):  # two SKUs of one item where the platform has items
            sku = self.x.seed(code, 0, 1000, title=code, item_id=item)
            item = sku.item_id
            self.shop.platform("o").seed(code, 0, 1000)
        self.shop.import_csv("product_code,sku_code,price,stock:main\nP,X,10.00,10\nP,Y,10.00,10\n")
        self.shop.resync_all()
        self.shop.settle()
        assert self.x.stock(SKU) == 10

    @property
    def runner(self):
        return self.shop.runners["x"]

    @property
    def adapter(self):
        return self.shop.lanes["x"].adapter

    def target(self, sku: str = SKU) -> int:
        return inventory.channel_target(self.shop.store, self.shop.config.channels["x"], sku)

    def set_master(self, qty: int) -> None:
        catalog.change_stock(self.shop.store, self.shop.config, SKU, "main", set_to=qty)

    def backoffs_elapse(self) -> None:
        self.shop.store.execute("UPDATE outbox SET next_at = ?", (ts(utcnow() - timedelta(seconds=1)),))

    def settle(self) -> None:
        for _ in range(4):
            self.backoffs_elapse()
            self.shop.settle()

    def close(self) -> None:
        self.shop.close()


@pytest.fixture
def world(request, tmp_path):
    made = []

    def make(kind: str, **opts) -> World:
        w = World(tmp_path / kind, kind, **opts)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def sale_before_the_set(w: World, qty: int):
    """Make a buyer's order land inside the push: after the core computed (and read), before the set applies."""
    real = w.adapter.set_stock
    landed = []

    def set_stock(updates):
        if not landed:
            landed.append(w.x.place_order([(SKU, qty)]))
        return real(updates)

    w.adapter.set_stock = set_stock
    return landed


@pytest.mark.parametrize("kind", KINDS)
def test_a_sale_between_read_and_write_survives_no_more_than_one_push_cycle(world, kind):
    w = world(kind)
    w.set_master(8)
    landed = sale_before_the_set(w, 3)
    w.runner.cycle()  # the push, with a sale of 3 landing inside it
    assert landed, "the push went out"
    w.runner.cycle()  # one more cycle: the sale is ingested, an erased one is found and taken off
    assert w.target() == 5
    assert w.x.stock(SKU) == 5, "a sale erased by our push survived a push cycle"
    w.settle()
    assert w.x.stock(SKU) == 5 and w.shop.platform("o").stock(SKU) == 5


def shown_after_each_set(w: World) -> list[int]:
    """What the platform shows after every stock call the core makes from now on."""
    real, shown = w.adapter.set_stock, []

    def set_stock(updates):
        try:
            return real(updates)
        finally:
            shown.append(w.x.stock(SKU))

    w.adapter.set_stock = set_stock
    return shown


@pytest.mark.parametrize("kind", KINDS)
def test_a_call_that_applied_but_lost_its_answer_applies_once(world, kind):
    w = world(kind)
    w.set_master(6)
    real = w.adapter.set_stock

    def answer_lost(updates):  # the fault meets the stock call itself, not a read or a poll before it
        w.x.inject("lost_answer", count=1)
        w.adapter.set_stock = real
        return real(updates)

    w.adapter.set_stock = answer_lost
    w.runner.cycle()
    assert w.x.stock(SKU) == 6, "the call applied on the platform"
    assert w.shop.store.scalar("SELECT inflight_key FROM outbox WHERE channel = 'x' AND sku_code = ?", (SKU,)) \
        or kind == "fake-absolute-blind", "the core did not get the answer"
    w.x.place_order([(SKU, 1)])  # and a sale while the answer is missing
    shown = shown_after_each_set(w)
    w.settle()
    assert w.target() == 5
    assert w.x.stock(SKU) == 5
    # applied twice, -4 would have shown 1 (and a later drift repair would hide it)
    assert all(q == 5 for q in shown), f"an increment applied twice: the platform showed {shown}"


@pytest.mark.parametrize("kind", KINDS)
def test_a_crash_between_send_and_settle_leaves_nothing_above_target(world, kind):
    class Crash(BaseException):
        """kill -9 between the platform applying the batch and the core settling it."""

    w = world(kind)
    w.set_master(4)
    real = w.adapter.set_stock

    def applied_then_killed(updates):
        real(updates)
        raise Crash

    w.adapter.set_stock = applied_then_killed
    with pytest.raises(Crash):
        w.runner.drain()
    assert w.x.stock(SKU) == 4
    w.shop.restart()  # the in-flight row survives the crash; the restart must not apply it twice
    w.x.place_order([(SKU, 1)])
    w.settle()
    assert w.target() == 3
    assert w.x.stock(SKU) == 3
    assert w.shop.platform("o").stock(SKU) == 3
    assert not w.shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")


@pytest.mark.parametrize("kind", ["fake-increment", "fake-absolute-reads", "taobao", "wechat", "jd", "ownsite"])
def test_resync_does_not_take_unpolled_sales_for_drift(world, kind):
    w = world(kind)
    w.x.place_order([(SKU, 1)])  # the platform shows 9; the order API is down
    real = w.adapter.fetch_orders

    def down(*args):
        raise Rejected("order API refused", code="down")  # fails at once (no back-off to sit through)

    w.adapter.fetch_orders = down
    report = reconcile.resync(w.shop.lanes["x"])
    assert report.drift == 0 and report.pending >= 1, "the read waits for the poll"
    w.runner.drain()
    assert w.x.stock(SKU) == 9, "the unseen sale must not be pushed back on sale"
    w.adapter.fetch_orders = real
    w.settle()
    assert w.target() == 9 and w.x.stock(SKU) == 9
    assert listings.drift_summary(w.shop.store, "x")["count"] == 0


@pytest.mark.parametrize("kind", READING)
def test_a_hand_edit_is_repaired_by_the_drift_check_without_resync(world, kind):
    w = world(kind, drift_check_interval=30.0)
    w.runner.cycle()  # the first check of the run
    before = metrics.DRIFT.labels("x")._value.get()
    w.x.set_stock_by_hand(SKU, 500)  # somebody typed 500 in the seller centre where 10 is right
    w.x.place_order([(OTHER, 1)])    # and the shop keeps selling meanwhile
    w.runner.cycle()
    assert w.x.stock(SKU) == 500, "not due yet: the check runs on its interval"
    w.runner.drift.last -= timedelta(seconds=30)  # the interval passes
    w.runner.cycle()
    assert w.x.stock(SKU) == 10
    assert w.x.stock(OTHER) == 9
    found = listings.drift_summary(w.shop.store, "x")
    assert found["count"] == 1 and (found["latest"][0]["sku"], found["latest"][0]["seen"],
                                    found["latest"][0]["expected"]) == (SKU, 500, 10)
    assert metrics.DRIFT.labels("x")._value.get() == before + 1
    assert metrics.DRIFT_LAST.labels("x", SKU, "seen")._value.get() == 500
    assert metrics.DRIFT_LAST.labels("x", SKU, "expected")._value.get() == 10


@pytest.mark.parametrize("kind", ["fake-increment", "fake-absolute-reads", "pdd"])
def test_a_repair_is_verified_by_a_read_soon_after(world, kind):
    """A sale within the clock margin of a read counts as shown by it, so a repair may be off
    by that sale: the repaired listing is read again at once, not a drift interval later."""
    w = world(kind, drift_check_interval=3600.0)
    w.runner.cycle()
    w.x.set_stock_by_hand(SKU, 500)
    w.runner.check_stock(force=True)  # read, settled by the poll it makes: drift found, repair queued
    store = w.shop.store
    assert listings.drift_summary(store, "x")["count"] == 1
    assert listings.wanted(store, "x") == 1, "the repaired listing waits for a verifying read"
    w.settle()
    assert w.x.stock(SKU) == 10
    assert listings.wanted(store, "x") == 0, "the verifying read was taken"
    assert listings.drift_summary(store, "x")["count"] == 1, "and it found the repair right"


@pytest.mark.parametrize("kind", ["fake-increment", "wechat", "ownsite", "jd", "pdd"])
def test_a_lowered_hand_edit_is_raised_again(world, kind):
    w = world(kind)
    w.x.set_stock_by_hand(SKU, 3)  # lowered by hand: later increments must not keep it lowered
    w.set_master(11)
    w.runner.check_stock(force=True)
    w.settle()
    assert w.x.stock(SKU) == 11


@pytest.mark.parametrize("kind", ["wechat", "taobao", "fake-increment"])
def test_an_order_placed_and_refunded_between_polls_while_pushed_to_zero(world, kind):
    """From the issue: WeChat refused the subtract forever (10020219) once expected said 1
    where 0 showed. A refused subtract is read and settled, then sent afresh."""
    w = world(kind)
    w.set_master(1)
    w.settle()
    assert w.x.stock(SKU) == 1
    order = w.x.place_order([(SKU, 1)])  # the platform shows 0, unseen
    w.set_master(0)                      # the push: -1 on a platform showing 0
    w.runner.drain()
    w.x.refund(order.order_id)           # put back before the next poll: it shows 1
    w.settle()
    assert w.target() == 0
    assert w.x.stock(SKU) == 0
    assert not w.shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'"), "parked for good"


@pytest.mark.parametrize("kind", ["jd", "fake-increment"])
def test_the_running_daemon_repairs_a_hand_edit_by_itself(tmp_path, kind):
    """The daemon, not a test driving cycles: a seller-centre edit is found by the drift
    check and repaired within its interval, with the periodic resync and poll far away."""

    from channelsync.sim.server import serve
    from channelsync.testing import wait_for

    # polls minutes apart (as with intake on): the check runs on its own interval
    common = {"poll_interval": 300.0, "drift_check_interval": 0.5, "reconcile_interval": 3600.0,
              "order_overlap": 10.0, "rate_per_second": 200.0, "burst": 50}
    if kind in FAKES:
        server_cm, opts = None, {**FAKES[kind], **common}
        sim = None
    else:
        sim = channel_types(make_manager())[kind].simulator()
        server_cm = serve(sim)
    try:
        if server_cm is not None:
            server = server_cm.__enter__()
            opts = {"plugin": kind, "settings": sim.credentials(server.base_url), **common}
        shop = Shop(tmp_path, {"x": opts})
        platform = sim or shop.platform("x")
        platform.seed(SKU, 0, 1000)
        shop.import_csv("product_code,sku_code,price,stock:main\nP,X,10.00,10\n")
        try:
            with shop.running_daemon(tick=0.1):
                # the pushers start before the start-up resync ends: its record is the baseline
                resynced = "SELECT last_resync_at FROM channels WHERE name = 'x'"
                wait_for(lambda: platform.stock(SKU) == 10 and shop.store.scalar(resynced), 30, "the first sync")
                resyncs = shop.store.scalar(resynced)
                platform.set_stock_by_hand(SKU, 500)
                wait_for(lambda: platform.stock(SKU) == 10, 30, "the hand edit repaired")
                assert shop.store.scalar(resynced) == resyncs, \
                    "repaired by a resync, not by the drift check"
                assert listings.drift_summary(shop.store, "x")["latest"][0]["seen"] == 500
        finally:
            shop.close()
    finally:
        if server_cm is not None:
            server_cm.__exit__(None, None, None)


def test_a_subtract_refused_again_and_again_has_the_listing_read(world):
    """WeChat answers 10020219 (not enough to subtract) as retryable: nothing applied. A
    back-office edit down makes every fresh delta fail the same way; from the second
    refusal the listing is read, without waiting for the periodic check."""
    w = world("wechat", drift_check_interval=3600.0)
    w.runner.cycle()  # the first periodic check of the run is spent
    w.x.set_stock_by_hand(SKU, 2)  # lowered in the back office (10 -> 2)
    w.set_master(1)                # -9 on a platform showing 2
    for _ in range(4):
        w.backoffs_elapse()
        w.runner.cycle()
    assert w.x.stock(SKU) == 1
    assert listings.drift_summary(w.shop.store, "x")["latest"][0]["seen"] == 2


@pytest.mark.parametrize("kind", ["fake-absolute-reads", "jd", "fake-increment"])
def test_a_put_back_an_absolute_set_erased_is_found_by_a_read_after_the_doubt(world, kind):
    """A cancel the platform put back, not ingested yet, when an absolute set went out: the set
    (never above the target) erased it. Its ingest, seconds later, raises ``expected`` by
    units the platform no longer shows, and the read verifying the set cannot tell (the
    put-back is within the clock margin of it, so it counts as after the read). A read
    judged against an order that close is doubtful: another read follows at once, which
    sees the units missing, and the listing is repaired in seconds, not at the next
    periodic check (60 s later: the fault matrix's [reset] waited 30 s for it)."""
    w = world(kind, drift_check_interval=3600.0)
    w.runner.cycle()  # the first periodic check of the run is spent
    order = w.x.place_order([(SKU, 2)])
    w.shop.settle()
    assert w.x.stock(SKU) == 8 == w.target()
    w.x.cancel(order.order_id)  # the platform shows 10 again; the core does not know yet
    w.set_master(11)            # 11 on hand, 2 reserved: target 9, pushed before the cancel is in
    w.shop.drain_all()          # set (9 where absolute), verified by a read, the cancel ingested
    w.settle()
    assert w.x.stock(SKU) == w.target() == 11
    assert w.shop.expected("x", SKU) == 11
