"""A hypothesis state machine over the whole core with three fake channels.

It drives imports, stock changes, buyer orders, cancels, refunds, shipments,
polls, pushes, injected failures and engine restarts, and checks after every
step the promises the core makes (see each invariant's docstring).
"""

from decimal import Decimal

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from channelsync.engine import catalog, inventory
from channelsync.sdk.errors import Transient
from channelsync.sync import reconcile
from channelsync.testing.harness import Shop
from channelsync.sim.simulator import OutOfStock

SKUS = ("A", "B", "C")
ALL = SKUS + ("KIT",)  # KIT = A*1 + B*2
CHANNELS = ("inc", "abs", "half")
PAST = "2000-01-01T00:00:00.000000+00:00"


class CoreMachine(RuleBasedStateMachine):
    @initialize(target_dir=st.just(None))
    def start(self, target_dir) -> None:
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.shop = Shop(self.tmp.name, {
            "inc": {},
            "abs": {"stock_mode": "absolute"},
            "half": {"share": Decimal("0.5"), "buffer": 1},
        }, waits=False)  # an injected fault's inline retry does not wait out its back-off
        for ch in CHANNELS:
            for code in ALL:
                self.shop.platform(ch).seed(code, 0, 1000)
        self.shop.import_csv("product_code,sku_code,price,bundle,stock:main\n"
                             "P,A,10.00,,5\nP,B,10.00,,8\nP,C,10.00,,2\nK,KIT,30.00,A*1+B*2,\n")
        self.violations = []
        for ch in CHANNELS:
            self.shop.platform(ch).on_told = lambda sku, qty, replay, ch=ch: self._told(ch, sku, qty, replay)
        self.shop.resync_all()
        self._quiesce()

    def teardown(self) -> None:
        if hasattr(self, "shop"):
            self.shop.close()
            self.tmp.cleanup()

    # --- helpers ---------------------------------------------------------
    def _target(self, ch: str, sku: str) -> int:
        return inventory.channel_target(self.shop.store, self.shop.config.channels[ch], sku)

    def _told(self, ch: str, sku: str, qty: int, replay: bool) -> None:
        """Checked at push time: no push leaves a channel showing more than its target.

        Allowed above it: units the platform itself put back for cancels we have
        not ingested yet, and the re-send of an increment that may already have
        applied (same idempotency key; the correction follows it).
        """
        if replay:
            return
        allowed = self._target(ch, sku) + self._unseen_putbacks(ch, sku)
        if qty > allowed:
            self.violations.append((ch, sku, qty, allowed))

    def _unseen_putbacks(self, ch: str, sku: str) -> int:
        units = 0
        for order in self.shop.platform(ch).orders.values():
            if order.status in ("cancelled", "refunded") and not order.carrier:
                held = self.shop.store.scalar("SELECT held FROM orders WHERE channel = ? AND external_id = ?",
                                              (ch, order.order_id))
                if held:
                    units += sum(ln.quantity for ln in order.lines if ln.sku_code == sku)
        return units

    @invariant()
    def never_told_more_than_target(self) -> None:
        if hasattr(self, "shop"):
            assert not self.violations, self.violations

    def _quiesce(self) -> None:
        """Faults off and back-offs elapsed, rounds of settling until a round changes nothing
        (at most six): a round that moved nothing leaves the next one the same work."""
        for ch in self.shop.config.channels:
            self.shop.platform(ch).faults.clear()
        before = None
        for _ in range(6):
            self.shop.store.execute("UPDATE outbox SET next_at = ?", (PAST,))  # back-offs elapse
            self._quiet_round()
            after = self._moving_state()
            if after == before:
                return
            before = after

    def _quiet_round(self) -> None:
        self.shop.settle()

    def _moving_state(self) -> tuple:
        """What a settling round can change (timestamps aside): the queue, the listings' books,
        reads waiting to settle, orders, stock, and what every platform shows and was told."""
        s = self.shop.store
        return (s.query("SELECT channel, sku_code, kind, status, attempts FROM outbox ORDER BY 1, 2, 3"),
                s.query("SELECT channel, sku_code, expected, pushed_qty, pushed_price, seen_qty, read_qty, "
                        "read_expected, check_holds, check_wanted_at IS NULL AS unwanted FROM listings ORDER BY 1, 2"),
                s.query("SELECT channel, external_id, status, held, shipped FROM orders ORDER BY 1, 2"),
                s.query("SELECT * FROM stock ORDER BY 1, 2"),
                [(ch, [self.shop.platform(ch).stock(sku) for sku in ALL], len(self.shop.platform(ch).told))
                 for ch in self.shop.config.channels])

    def _orders(self, ch: str, status: str) -> list[str]:
        return sorted(o.order_id for o in self.shop.platform(ch).orders.values() if o.status == status)

    # --- rules -------------------------------------------------------------
    @rule(sku=st.sampled_from(SKUS), qty=st.integers(0, 12))
    def set_stock(self, sku, qty) -> None:
        catalog.change_stock(self.shop.store, self.shop.config, sku, "main", set_to=qty)

    @rule(ch=st.sampled_from(CHANNELS), sku=st.sampled_from(ALL), qty=st.integers(1, 3))
    def buyer_orders(self, ch, sku, qty) -> None:
        try:
            self.shop.platform(ch).place_order([(sku, qty)])
        except OutOfStock:
            pass  # the platform refused: it showed less than that

    @rule(ch=st.sampled_from(CHANNELS), data=st.data())
    def buyer_cancels(self, ch, data) -> None:
        paid = self._orders(ch, "paid")
        if paid:
            self.shop.platform(ch).cancel(data.draw(st.sampled_from(paid)))

    @rule(ch=st.sampled_from(CHANNELS), data=st.data())
    def seller_ships(self, ch, data) -> None:
        paid = self._orders(ch, "paid")
        if paid:
            self.shop.platform(ch).ship(data.draw(st.sampled_from(paid)))

    @rule(ch=st.sampled_from(CHANNELS), data=st.data(), shipped=st.booleans())
    def refund(self, ch, data, shipped) -> None:
        orders = self._orders(ch, "shipped" if shipped else "paid")
        if orders:
            self.shop.platform(ch).refund(data.draw(st.sampled_from(orders)))

    @rule(ch=st.sampled_from(CHANNELS))
    def poll(self, ch) -> None:
        self.shop.runners[ch].poll()

    @rule(ch=st.sampled_from(CHANNELS))
    def push(self, ch) -> None:
        self.shop.runners[ch].drain()

    @rule(ch=st.sampled_from(CHANNELS), kind=st.sampled_from(["error_5xx", "rate_limit", "auth_expired", "timeout"]))
    def platform_fails(self, ch, kind) -> None:
        self.shop.platform(ch).inject(kind, count=1, seconds=0.001)

    @rule()
    def restart(self) -> None:
        self.shop.restart()

    @precondition(lambda self: hasattr(self, "shop"))
    @rule(sku=st.sampled_from(SKUS))
    def own_order_causes_no_push_to_itself(self, sku) -> None:
        """Under default rules a channel's own order causes no push to that channel."""
        self._quiesce()
        platform = self.shop.platform("inc")
        try:
            platform.place_order([(sku, 1)])
        except OutOfStock:
            return
        told = len(platform.told)
        self.shop.runners["inc"].poll()
        assert not self.shop.store.scalar(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'inc' AND sku_code = ?", (sku,))
        self.shop.drain_all()
        # (bundles built from the SKU may change on the channel; the SKU itself may not)
        assert [t for t in platform.told[told:] if t[0] == sku] == []

    @rule(ch=st.sampled_from(CHANNELS))
    def reingest_changes_nothing(self, ch) -> None:
        """Reading every order again (a lost cursor) changes no state."""
        self.shop.platform(ch).faults.clear()  # the first read must succeed to compare against
        assert self.shop.runners[ch].poll().error is None
        snapshot = self._state()
        self.shop.store.execute("UPDATE channels SET order_cursor = NULL WHERE name = ?", (ch,))
        self.shop.runners[ch].poll()
        assert self._state() == snapshot

    def _state(self):
        s = self.shop.store
        return (s.query("SELECT channel, external_id, status, held, shipped FROM orders ORDER BY 1, 2"),
                s.query("SELECT channel, sku_code, expected FROM listings ORDER BY 1, 2"),
                s.query("SELECT * FROM stock ORDER BY 1, 2"),
                s.scalar("SELECT COUNT(*) FROM stock_movements"))

    @rule()
    def quiet_means_consistent(self) -> None:
        """Once quiet, every platform shows exactly its target."""
        self._quiesce()
        for ch in CHANNELS:
            for sku in ALL:
                assert self.shop.platform(ch).stock(sku) == self._target(ch, sku), (ch, sku)
        assert not self.shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")

    # --- invariants ----------------------------------------------------------
    @invariant()
    def ledger_sums_to_on_hand(self) -> None:
        if not hasattr(self, "shop"):
            return
        rows = self.shop.store.query(
            "SELECT s.sku_code, s.warehouse, s.on_hand, (SELECT COALESCE(SUM(delta), 0) FROM stock_movements m "
            "WHERE m.sku_code = s.sku_code AND m.warehouse = s.warehouse) AS ledger FROM stock s")
        assert all(r["on_hand"] == r["ledger"] for r in rows), rows


CoreMachine.TestCase.settings = settings(max_examples=75, stateful_step_count=35, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
TestCore = CoreMachine.TestCase


# --- issue 13: every stock mode, reads, ambiguous failures, crashes, hand edits ---------------
# Kept apart from CoreMachine's rules so that other extensions merge without touching them.

MODES = {"keyless": {"idempotency_keys": False},                         # increments without a key
         "cas": {"stock_mode": "compare_and_set"},
         "blind": {"stock_mode": "absolute", "read_stock": False}}        # "abs" above reads (the default)
MODE_CHANNELS = (*MODES, "abs", "inc")
EVERY = CHANNELS + tuple(MODES)


class Crash(BaseException):
    """kill -9 between the platform applying a stock batch and the core settling it."""


class StockModesMachine(CoreMachine):
    """CoreMachine's world plus a channel of every other stock mode, with lost answers,
    crashes between send and settle, seller-centre hand edits and the drift check.

    Its promises: nothing a push sends leaves a channel above its target (unless a
    person typed more by hand, which the check then repairs); once quiet, every
    channel shows exactly its target — no sale erased, no change applied twice, no
    hand edit kept; and the ledger sums to on-hand (CoreMachine's invariant)."""

    @initialize(target_dir=st.just(None))
    def start(self, target_dir) -> None:
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.shop = Shop(self.tmp.name, {"inc": {}, "abs": {"stock_mode": "absolute"},
                                         "half": {"share": Decimal("0.5"), "buffer": 1}, **MODES})
        for ch in EVERY:
            for code in ALL:
                self.shop.platform(ch).seed(code, 0, 1000)
        self.shop.import_csv("product_code,sku_code,price,bundle,stock:main\n"
                             "P,A,10.00,,5\nP,B,10.00,,8\nP,C,10.00,,2\nK,KIT,30.00,A*1+B*2,\n")
        self.violations, self.edited = [], set()
        for ch in EVERY:
            self.shop.platform(ch).on_told = lambda sku, qty, replay, ch=ch: self._told(ch, sku, qty, replay)
        self.shop.resync_all()
        self._quiesce()

    def _told(self, ch: str, sku: str, qty: int, replay: bool) -> None:
        if replay and ch in ("keyless", "abs"):
            # no key to drop a repeat: a call that may have applied is read and settled, never sent again
            self.violations.append((ch, sku, qty, "a call sent again without a key"))
        if (ch, sku) not in getattr(self, "edited", ()):  # an increment keeps a hand edit until it is found
            super()._told(ch, sku, qty, replay)

    def _quiet_round(self) -> None:
        self.shop.check_all(force=True)  # the drift check's interval passes too
        self.shop.settle()

    @rule(ch=st.sampled_from(MODE_CHANNELS), sku=st.sampled_from(ALL), qty=st.integers(1, 3))
    def mode_buyer_orders(self, ch, sku, qty) -> None:
        try:
            self.shop.platform(ch).place_order([(sku, qty)])
        except OutOfStock:
            pass

    @rule(ch=st.sampled_from(MODE_CHANNELS), data=st.data())
    def mode_buyer_cancels(self, ch, data) -> None:
        paid = self._orders(ch, "paid")
        if paid:
            self.shop.platform(ch).cancel(data.draw(st.sampled_from(paid)))

    @rule(ch=st.sampled_from(MODE_CHANNELS))
    def mode_cycle(self, ch) -> None:
        self.shop.runners[ch].cycle()

    @rule(ch=st.sampled_from(MODE_CHANNELS))
    def mode_push(self, ch) -> None:
        self.shop.runners[ch].drain()

    @rule(ch=st.sampled_from(MODE_CHANNELS))
    def answer_lost(self, ch) -> None:
        """The platform's next call applies, and its answer never arrives."""
        self.shop.platform(ch).inject("lost_answer", count=1)

    @rule(ch=st.sampled_from(MODE_CHANNELS))
    def push_whose_answer_is_lost(self, ch) -> None:
        """A stock call applies on the platform and its answer is lost on the way back."""
        adapter = self.shop.lanes[ch].adapter
        real = adapter.set_stock

        def lost(updates):
            adapter.set_stock = real
            real(updates)
            raise Transient("answer lost", code="lost_answer")

        adapter.set_stock = lost
        self.shop.runners[ch].drain()
        adapter.set_stock = real

    @rule(ch=st.sampled_from(MODE_CHANNELS), sale=st.sampled_from([None, *SKUS]))
    def crash_between_send_and_settle(self, ch, sale) -> None:
        adapter = self.shop.lanes[ch].adapter
        real = adapter.set_stock

        def applied_then_killed(updates):
            real(updates)
            if sale is not None:  # a buyer right after the write, before the restart
                try:
                    self.shop.platform(ch).place_order([(sale, 1)])
                except OutOfStock:
                    pass
            raise Crash

        adapter.set_stock = applied_then_killed
        try:
            self.shop.runners[ch].drain()
        except Crash:
            pass
        self.shop.restart()

    @rule(ch=st.sampled_from(MODE_CHANNELS), sku=st.sampled_from(SKUS), qty=st.integers(0, 30))
    def hand_edit(self, ch, sku, qty) -> None:
        self.edited.add((ch, sku))
        self.edited.update((ch, b) for b in ALL if b not in SKUS)  # a bundle follows its components
        self.shop.platform(ch).set_stock_by_hand(sku, qty)

    @rule(ch=st.sampled_from(MODE_CHANNELS))
    def drift_check(self, ch) -> None:
        self.shop.runners[ch].check_stock(force=True)

    @rule()
    def every_mode_quiet_means_consistent(self) -> None:
        """Once quiet, every channel of every mode shows exactly its target: no erased sale
        survived, no change applied twice, no hand edit kept (the blind channel cannot be
        read: its hand edits wait for a resync, which runs here as the daemon's would)."""
        if any(ch == "blind" for ch, _ in self.edited):
            reconcile.resync(self.shop.lanes["blind"], what=["stock"])
        self._quiesce()
        for ch in EVERY:
            for sku in ALL:
                assert self.shop.platform(ch).stock(sku) == self._target(ch, sku), (ch, sku)
        assert not self.shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")
        self.edited.clear()


StockModesMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=30, deadline=None,
                                               suppress_health_check=[HealthCheck.too_slow])
TestStockModes = StockModesMachine.TestCase
