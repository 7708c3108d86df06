"""Stock rules and availability at unit level (the scenarios cover them end to end)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from channelsync.config.settings import ChannelConfig, Config, SkuOverride, StockRules
from channelsync.engine import inventory, reservations
from channelsync.store import Store

NOW = "2026-06-01T00:00:00.000000+00:00"


# --- target(): pure -------------------------------------------------------------------------

@pytest.mark.parametrize("available, rules, expected", [
    (10, StockRules(), 10),
    (0, StockRules(), 0),
    (-3, StockRules(), 0),                                    # oversold: never below 0
    (9, StockRules(share=Decimal("0.5")), 4),                 # floor(4.5)
    (100, StockRules(share=Decimal("0.29")), 29),             # exact decimal: not floor(28.999...)
    (10, StockRules(share=Decimal("0.7")), 7),
    (10, StockRules(buffer=3), 7),
    (2, StockRules(buffer=3), 0),                             # buffer larger than stock: 0, not -1
    (9, StockRules(share=Decimal("0.5"), buffer=1), 3),       # share first, then buffer
    (50, StockRules(max=20), 20),
    (5, StockRules(max=20), 5),
    (50, StockRules(max=0), 0),
    (50, StockRules(buffer=10, max=45), 40),                  # buffer before the cap
    (3, StockRules(zero_below=3), 0),                         # at zero_below: 0
    (4, StockRules(zero_below=3), 4),
    (4, StockRules(zero_below=3, buffer=2), 2),
])
def test_target(available, rules, expected):
    assert inventory.target(available, rules) == expected


def test_target_never_negative_and_never_above_available():
    for available in range(-5, 60):
        for share in (Decimal(1), Decimal("0.5"), Decimal("0.33")):
            for buffer in (0, 1, 7):
                for cap in (None, 0, 10):
                    for zero_below in (0, 5):
                        t = inventory.target(available, StockRules(share, buffer, cap, zero_below))
                        assert 0 <= t <= max(0, available)
                        if cap is not None:
                            assert t <= cap
                        if available <= zero_below:
                            assert t == 0


# --- rules_for(): pure ----------------------------------------------------------------------

def test_rules_for_without_an_override_is_the_channels():
    rules = StockRules(share=Decimal("0.8"), buffer=2, max=50, zero_below=1)
    ch = ChannelConfig(name="tb", plugin="fake", rules=rules, overrides={"OTHER": SkuOverride(buffer=0)})
    assert inventory.rules_for(ch, "A") is rules


def test_rules_for_overrides_only_what_the_sku_sets():
    ch = ChannelConfig(name="tb", plugin="fake",
                       rules=StockRules(share=Decimal("0.8"), buffer=2, max=50, zero_below=1),
                       overrides={"A": SkuOverride(buffer=0, max=5), "B": SkuOverride(share=Decimal("0.5"), zero_below=0),
                                  "C": SkuOverride(price=990)})
    assert inventory.rules_for(ch, "A") == StockRules(share=Decimal("0.8"), buffer=0, max=5, zero_below=1)
    assert inventory.rules_for(ch, "B") == StockRules(share=Decimal("0.5"), buffer=2, max=50, zero_below=0)
    assert inventory.rules_for(ch, "C") == ch.rules  # a price-only override leaves the stock rules


def test_an_override_cannot_lift_a_channel_cap_by_saying_nothing():
    # None means "use the channel's": there is no way to say "no cap" per SKU
    ch = ChannelConfig(name="tb", plugin="fake", rules=StockRules(max=5), overrides={"A": SkuOverride(max=None)})
    assert inventory.rules_for(ch, "A").max == 5


# --- on a store -----------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cs.db")
    s.execute("INSERT INTO warehouses (code, name) VALUES ('main', 'Main'), ('north', 'North'), ('south', 'South')")
    s.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', ?)", (NOW,))
    yield s
    s.close()


def sku(store: Store, code: str, stock: dict[str, int] | None = None, status: str = "active",
        bundle: dict[str, int] | None = None) -> None:
    store.execute("INSERT INTO skus (code, product_code, base_price, status, updated_at) VALUES (?, 'P', 100, ?, ?)",
                  (code, status, NOW))
    for wh, qty in (stock or {}).items():
        inventory.move(store, code, wh, qty, "import")
    for component, qty in (bundle or {}).items():
        store.execute("INSERT INTO bundle_components (bundle_code, component_code, qty) VALUES (?, ?, ?)",
                      (code, component, qty))


_orders = 0


def order(store: Store, lines: list[tuple[str, int]], reserved: bool = True, channel: str = "tb") -> None:
    global _orders
    _orders += 1
    cur = store.execute(
        "INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (channel, f"O{_orders}", "paid" if reserved else "shipped", NOW, NOW, NOW, NOW))
    for n, (code, qty) in enumerate(lines, 1):
        store.execute("INSERT INTO order_lines (order_id, line_no, sku_code, quantity) VALUES (?, ?, ?, ?)",
                      (cur.lastrowid, n, code, qty))
        if reserved:
            reservations.reserve(store, cur.lastrowid, n, code, qty, ())


def test_move_writes_the_ledger_and_on_hand(store):
    sku(store, "A")
    assert inventory.move(store, "A", "main", 5, "import", reference="csv") == 5
    assert inventory.move(store, "A", "main", -2, "shipment", reference="O1", actor="tb") == 3
    assert inventory.move(store, "A", "north", 4, "adjust") == 4
    assert store.scalar("SELECT SUM(delta) FROM stock_movements WHERE sku_code = 'A'") == inventory.on_hand(store, "A") == 7
    assert store.one("SELECT reason, reference, actor FROM stock_movements WHERE delta = -2") == {
        "reason": "shipment", "reference": "O1", "actor": "tb"}


def test_set_on_hand_books_the_difference_and_nothing_when_equal(store):
    sku(store, "A", {"main": 5})
    assert inventory.set_on_hand(store, "A", "main", 8) == 3
    assert inventory.set_on_hand(store, "A", "main", 8) == 0
    assert inventory.set_on_hand(store, "A", "main", 1, reason="count") == -7
    assert [r["delta"] for r in store.query("SELECT delta FROM stock_movements ORDER BY id")] == [5, 3, -7]
    assert inventory.on_hand(store, "A", ["main"]) == 1


def test_on_hand_over_the_channels_warehouses(store):
    sku(store, "A", {"main": 5, "north": 3, "south": 1})
    assert inventory.on_hand(store, "A") == 9
    assert inventory.on_hand(store, "A", ()) == 9  # empty: every warehouse
    assert inventory.on_hand(store, "A", ["north", "south"]) == 4
    assert inventory.on_hand(store, "A", ["nowhere"]) == 0
    assert inventory.on_hand(store, "UNKNOWN") == 0


def test_reserved_counts_only_open_lines(store):
    sku(store, "A", {"main": 10})
    sku(store, "B", {"main": 10})
    order(store, [("A", 2), ("B", 1)])
    order(store, [("A", 3)])
    order(store, [("A", 4)], reserved=False)  # shipped or closed: no longer reserves
    assert inventory.reserved(store, "A") == 5
    assert inventory.reserved(store, "B") == 1
    assert inventory.available(store, "A") == 5


def test_available_can_go_negative_when_oversold_and_the_target_is_then_zero(store):
    sku(store, "A", {"main": 1})
    order(store, [("A", 3)])
    assert inventory.available(store, "A") == -2
    assert inventory.channel_target(store, ChannelConfig(name="tb", plugin="fake"), "A") == 0


def test_reserved_counts_bundle_lines_through_their_components(store):
    sku(store, "CUP", {"main": 10})
    sku(store, "TEA", {"main": 20})
    sku(store, "GIFT", bundle={"CUP": 1, "TEA": 2})
    order(store, [("GIFT", 3), ("TEA", 1)])
    assert inventory.reserved(store, "CUP") == 3
    assert inventory.reserved(store, "TEA") == 3 * 2 + 1
    assert inventory.available(store, "CUP") == 7
    assert inventory.available(store, "TEA") == 13
    assert inventory.available(store, "GIFT") == 6  # min(7 // 1, 13 // 2)


def test_bundle_availability_is_the_min_over_components_of_floor(store):
    sku(store, "A", {"main": 7, "north": 4})
    sku(store, "B", {"main": 9})
    sku(store, "AB", bundle={"A": 3, "B": 2})
    assert inventory.components(store, "AB") == [("A", 3), ("B", 2)]
    assert inventory.available(store, "AB") == 3  # min(11 // 3, 9 // 2) = min(3, 4)
    assert inventory.available(store, "AB", ["main"]) == 2  # min(7 // 3, 9 // 2): the channel's warehouses only
    assert inventory.available(store, "AB", ["north"]) == 0  # no B in the north


def test_a_bundle_of_an_oversold_component_is_zero_not_negative(store):
    sku(store, "A", {"main": 1})
    sku(store, "B", {"main": 9})
    sku(store, "AB", bundle={"A": 1, "B": 1})
    order(store, [("A", 4)])
    assert inventory.available(store, "AB") == 0


def test_a_bundles_own_stock_rows_are_ignored(store):
    sku(store, "A", {"main": 4})
    sku(store, "AA", {"main": 100}, bundle={"A": 2})
    assert inventory.available(store, "AA") == 2


def test_channel_target_applies_warehouses_rules_and_sku_status(store):
    sku(store, "A", {"main": 10, "north": 6})
    sku(store, "OLD", {"main": 10}, status="discontinued")
    ch = ChannelConfig(name="tb", plugin="fake", warehouses=("north",),
                       rules=StockRules(buffer=1), overrides={"A": SkuOverride(share=Decimal("0.5"))})
    assert inventory.channel_target(store, ch, "A") == 2  # floor(6 * 0.5) - 1
    assert inventory.channel_target(store, ChannelConfig(name="x", plugin="fake"), "A") == 16
    assert inventory.channel_target(store, ChannelConfig(name="x", plugin="fake"), "OLD") == 0
    assert inventory.channel_target(store, ChannelConfig(name="x", plugin="fake"), "UNKNOWN") == 0


def test_affected_includes_components_and_the_bundles_built_from_them(store):
    for code in ("A", "B", "C", "D"):
        sku(store, code)
    sku(store, "AB", bundle={"A": 1, "B": 1})
    sku(store, "BC", bundle={"B": 2, "C": 1})
    sku(store, "DD", bundle={"D": 2})
    assert inventory.affected(store, ["A"]) == {"A", "AB"}
    assert inventory.affected(store, ["B"]) == {"B", "AB", "BC"}
    # an order for a bundle moves its components, and so every bundle sharing one of them
    assert inventory.affected(store, ["AB"]) == {"AB", "A", "B", "BC"}
    assert inventory.affected(store, ["C", "D"]) == {"C", "BC", "D", "DD"}
    assert inventory.affected(store, []) == set()


def listing(store: Store, channel: str, code: str, expected: int | None) -> None:
    store.execute("INSERT INTO listings (channel, sku_code, external_id, expected, linked_at) VALUES (?, ?, ?, ?, ?)",
                  (channel, code, f"{channel}-{code}", expected, NOW))


def test_queue_stock_queues_where_the_target_differs_and_unqueues_where_it_agrees(store):
    sku(store, "A", {"main": 5})
    sku(store, "B", {"main": 2})
    sku(store, "AB", bundle={"A": 1, "B": 1})
    config = Config(path=None, db_path=Path("unused"), channels={
        "tb": ChannelConfig(name="tb", plugin="fake"),
        "jd": ChannelConfig(name="jd", plugin="fake", rules=StockRules(buffer=1)),
        "off": ChannelConfig(name="off", plugin="fake", enabled=False),
    })
    listing(store, "tb", "A", 5)      # agrees
    listing(store, "jd", "A", 5)      # target 4
    listing(store, "tb", "AB", None)  # never pushed
    listing(store, "off", "A", 0)     # disabled channel
    listing(store, "gone", "A", 0)    # channel no longer configured
    store.execute("INSERT INTO outbox (channel, sku_code, kind, next_at, queued_at, updated_at) "
                  "VALUES ('tb', 'A', 'stock', ?, ?, ?)", (NOW, NOW, NOW))  # stale: tb agrees again
    assert inventory.queue_stock(store, config, ["A"]) == 2
    queued = store.query("SELECT channel, sku_code FROM outbox WHERE kind = 'stock' ORDER BY 1, 2")
    assert [(r["channel"], r["sku_code"]) for r in queued] == [("jd", "A"), ("tb", "AB")]
    assert inventory.queue_stock(store, config, []) == 0


def test_preloaded_reads_give_the_same_targets_without_a_query_per_sku(store):
    # a resync page reads its SKUs' figures at once (inventory.preload); the targets must be
    # exactly what the SKU-by-SKU reads give, and come from the preload, not from fallbacks
    sku(store, "CUP", {"main": 10, "north": 4})
    sku(store, "TEA", {"main": 20, "south": 3})
    sku(store, "GIFT", bundle={"CUP": 1, "TEA": 2})
    sku(store, "OLD", {"main": 10}, status="discontinued")
    sku(store, "NONE")
    order(store, [("GIFT", 3), ("TEA", 1)])
    order(store, [("CUP", 2)], reserved=False)
    codes = ["CUP", "TEA", "GIFT", "OLD", "NONE", "UNKNOWN"]
    for warehouses in ((), ("north",), ("main", "south")):
        ch = ChannelConfig(name="tb", plugin="fake", warehouses=warehouses, rules=StockRules(buffer=1))
        alone = {c: inventory.channel_target(store, ch, c) for c in codes}
        reads = inventory.Reads(store)
        inventory.preload(reads, ["GIFT", "CUP", "OLD", "NONE", "UNKNOWN", "TEA"], warehouses)
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        try:
            paged = {c: inventory.channel_target(store, ch, c, reads) for c in codes}
        finally:
            store.conn.set_trace_callback(None)
        assert paged == alone, warehouses
        assert statements == [], statements
    assert alone["GIFT"] > 0 and alone["OLD"] == 0  # the case is not trivially all zero
