"""The core state machine (test_stateful.py) with warehouses and after-sales added.

Two warehouses, SH and GZ; each fake channel sells from its own priority list
("inc": SH then GZ, "abs": GZ only, "half": SH only). On top of the base rules,
buyers refund single lines (before or after shipment) and return or exchange
shipped units, sellers ship part of an order, and the warehouse receives what
comes back, some of it damaged. The base invariants hold (ledger = on hand, no
push above target, quiet means consistent) and these besides:

* an order reserves only in the warehouses its channel sells from;
* a paid line reserves exactly its open units (neither shipped nor released),
  every other line nothing;
* nothing is received back that did not leave, and expected back never goes negative.

The rules are kept in this subclass so the base machine stays as it is.
"""

from __future__ import annotations

import importlib.util
import tempfile
from decimal import Decimal
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize, invariant, precondition, rule

from channelsync.engine import catalog, orders, returns, shipments
from channelsync.sim.simulator import OutOfStock
from channelsync.testing.harness import Shop


def _base_machine():
    """The base machine's module, loaded from beside this file (the tests are no package and
    pytest imports them with importlib, so a plain import cannot name it)."""
    spec = importlib.util.spec_from_file_location("_stateful_core", Path(__file__).with_name("test_stateful.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_core = _base_machine()
ALL, CHANNELS, CoreMachine = _core.ALL, _core.CHANNELS, _core.CoreMachine

WAREHOUSES = ("SH", "GZ")
PRIORITY = {"inc": ("SH", "GZ"), "abs": ("GZ",), "half": ("SH",)}


class AfterSalesMachine(CoreMachine):
    @initialize()
    def start(self) -> None:
        """The base machine's start, with two warehouses and a priority list per channel."""
        self.tmp = tempfile.TemporaryDirectory()
        self.shop = Shop(self.tmp.name, {
            "inc": {"warehouses": PRIORITY["inc"]},
            "abs": {"stock_mode": "absolute", "warehouses": PRIORITY["abs"]},
            "half": {"share": Decimal("0.5"), "buffer": 1, "warehouses": PRIORITY["half"]},
        }, warehouses={"SH": "Shanghai", "GZ": "Guangzhou"})
        for ch in CHANNELS:
            for code in ALL:
                self.shop.platform(ch).seed(code, 0, 1000)
        self.shop.import_csv("product_code,sku_code,price,bundle,stock:SH,stock:GZ\n"
                             "P,A,10.00,,3,2\nP,B,10.00,,4,4\nP,C,10.00,,0,2\nK,KIT,30.00,A*1+B*2,,\n")
        self.violations = []
        for ch in CHANNELS:
            self.shop.platform(ch).on_told = lambda sku, qty, replay, ch=ch: self._told(ch, sku, qty, replay)
        self.shop.resync_all()
        self._quiesce()

    # --- helpers -------------------------------------------------------------------------
    def _unseen_putbacks(self, ch: str, sku: str) -> int:
        """Units the platform put back on sale (line by line) that the core has not ingested."""
        units = 0
        for order in self.shop.platform(ch).orders.values():
            row = self.shop.store.one("SELECT id FROM orders WHERE channel = ? AND external_id = ?",
                                      (ch, order.order_id))
            if row is None:
                continue
            for n, line in enumerate(order.lines, start=1):
                if line.sku_code != sku:
                    continue
                seen = self.shop.store.scalar("SELECT released FROM order_lines WHERE order_id = ? AND line_no = ?",
                                              (row["id"], n)) or 0
                units += max(0, line.released - seen)
        return units

    def _lines(self, ch: str, want) -> list[tuple[str, str, int]]:
        """(order id, SKU, units) of the platform's lines for which ``want(order, line)`` gives units."""
        out = []
        for order in sorted(self.shop.platform(ch).orders.values(), key=lambda o: o.order_id):
            for line in order.lines:
                units = want(order, line)
                if units > 0:
                    out.append((order.order_id, line.external_id, units))
        return out

    # --- rules ---------------------------------------------------------------------------------
    @rule(sku=st.sampled_from(("A", "B", "C")), wh=st.sampled_from(WAREHOUSES), qty=st.integers(0, 8))
    def set_stock(self, sku, wh, qty) -> None:
        catalog.change_stock(self.shop.store, self.shop.config, sku, wh, set_to=qty)

    @rule(ch=st.sampled_from(CHANNELS), data=st.data())
    def buyer_refunds_a_line(self, ch, data) -> None:
        choices = self._lines(ch, lambda o, ln: ln.quantity - ln.refunded
                              if o.status in ("paid", "shipped", "completed") else 0)
        if choices:
            order_id, ext, most = data.draw(st.sampled_from(choices))
            self.shop.platform(ch).refund_line(order_id, ext, data.draw(st.integers(1, most)))

    @rule(ch=st.sampled_from(CHANNELS), data=st.data(), exchange=st.booleans())
    def buyer_returns_a_line(self, ch, data, exchange) -> None:
        choices = self._lines(ch, lambda o, ln: ln.shipped - ln.returned)
        if choices:
            order_id, ext, most = data.draw(st.sampled_from(choices))
            self.shop.platform(ch).return_line(order_id, ext, data.draw(st.integers(1, most)), exchange=exchange)

    @rule(ch=st.sampled_from(CHANNELS), data=st.data())
    def seller_ships_part(self, ch, data) -> None:
        choices = self._lines(ch, lambda o, ln: ln.open if o.status == "paid" else 0)
        if choices:
            order_id, ext, most = data.draw(st.sampled_from(choices))
            self.shop.platform(ch).ship(order_id, "SF", f"P{order_id}-{ext}", {ext: data.draw(st.integers(1, most))})

    @precondition(lambda self: hasattr(self, "shop"))
    @rule(data=st.data(), wh=st.sampled_from(WAREHOUSES))
    def warehouse_receives(self, data, wh) -> None:
        waiting = returns.expected_back(self.shop.store)
        if not waiting:
            return
        case = data.draw(st.sampled_from(waiting))
        row = self.shop.store.one("SELECT * FROM orders WHERE id = ?", (case["order_id"],))
        line = orders.line_of(self.shop.store, row, case["sku_code"])
        qty = data.draw(st.integers(1, case["expected_back"]))
        returns.receive_now(self.shop.store, self.shop.config, row, line, qty, wh,
                            damaged=data.draw(st.integers(0, qty)))

    @precondition(lambda self: hasattr(self, "shop"))
    @rule(ch=st.sampled_from(CHANNELS), data=st.data())
    def a_line_refund_reaches_every_channel(self, ch, data) -> None:
        """A buyer refunds one line of a two-line order before it ships: once quiet, only
        that line's units are free again, and every platform shows its target."""
        self._quiesce()
        platform = self.shop.platform(ch)
        first, second = data.draw(st.permutations(("A", "B", "C")))[:2]
        try:
            order = platform.place_order([(first, 1), (second, 1)])
        except OutOfStock:
            return
        self._quiesce()
        platform.refund_line(order.order_id, second, 1)
        self.quiet_means_consistent()
        row = self.shop.store.one("SELECT id FROM orders WHERE channel = ? AND external_id = ?", (ch, order.order_id))
        held = {r["sku_code"]: r["n"] for r in self.shop.store.query(
            "SELECT l.sku_code, (SELECT COALESCE(SUM(quantity), 0) FROM reservations r WHERE r.order_id = l.order_id "
            "AND r.line_no = l.line_no) AS n FROM order_lines l WHERE l.order_id = ?", (row["id"],))}
        assert held == {first: 1, second: 0}, held

    # --- invariants ----------------------------------------------------------------------------
    @invariant()
    def orders_reserve_only_where_their_channel_sells(self) -> None:
        if not hasattr(self, "shop"):
            return
        for ch, whs in PRIORITY.items():
            wrong = self.shop.store.query(
                f"SELECT r.* FROM reservations r JOIN orders o ON o.id = r.order_id WHERE o.channel = ? "
                f"AND r.warehouse NOT IN ({','.join('?' * len(whs))})", (ch, *whs))
            assert not wrong, (ch, wrong)

    @invariant()
    def a_paid_line_reserves_its_open_units(self) -> None:
        if not hasattr(self, "shop"):
            return
        rows = self.shop.store.query(
            "SELECT o.status, l.order_id, l.line_no, l.sku_code, l.quantity - l.released - l.shipped AS open, "
            "(SELECT COALESCE(SUM(r.quantity), 0) FROM reservations r WHERE r.order_id = l.order_id "
            "AND r.line_no = l.line_no) AS held FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE l.sku_code IS NOT NULL")
        for r in rows:
            per = 3 if r["sku_code"] == "KIT" else 1  # KIT reserves A*1 + B*2
            wanted = r["open"] * per if r["status"] in ("paid", "shipped", "completed") else 0
            assert r["open"] >= 0 and r["held"] == wanted, r

    @invariant()
    def nothing_comes_back_that_did_not_leave(self) -> None:
        if not hasattr(self, "shop"):
            return
        for r in self.shop.store.query("SELECT l.*, o.id AS oid FROM order_lines l JOIN orders o ON o.id = l.order_id"):
            got = returns.counts(self.shop.store, r["oid"], r["line_no"])
            assert got["expected_back"] >= 0 and got["damaged"] <= got["received"]
            assert got["received"] <= r["shipped"] + shipments.exchanged_out(self.shop.store, r["oid"], r["line_no"])
            assert r["refunded"] <= r["quantity"] and r["released"] + r["shipped"] <= r["quantity"], r


AfterSalesMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=35, deadline=None,
                                               suppress_health_check=[HealthCheck.too_slow])
TestAfterSales = AfterSalesMachine.TestCase
