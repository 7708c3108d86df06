"""Line-level order state, reservations by warehouse, parcels and after-sales, on a bare store.

Two warehouses: SH and GZ. Channel "tb" sells from SH then GZ (its priority), "web"
from SH only, "wx" from GZ only. The scenario tests (tests/scenarios/test_after_sales.py)
drive the same rules through every platform's simulator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import inventory, orders, returns
from channelsync.sdk.errors import UserError
from channelsync.sdk.models import Order, OrderLine, Parcel
from channelsync.sdk.models import OrderStatus as S
from channelsync.store import Store

NOW = "2026-06-01T00:00:00.000000+00:00"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TB = ChannelConfig(name="tb", plugin="fake", warehouses=("SH", "GZ"))
WEB = ChannelConfig(name="web", plugin="fake", warehouses=("SH",))
WX = ChannelConfig(name="wx", plugin="fake", warehouses=("GZ",))
CONFIG = Config(path=None, db_path=Path("unused"), warehouses={"SH": "Shanghai", "GZ": "Guangzhou"},
                channels={c.name: c for c in (TB, WEB, WX)})


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    s.execute("INSERT INTO warehouses (code, name) VALUES ('SH', 'Shanghai'), ('GZ', 'Guangzhou')")
    s.execute("INSERT INTO products (code, title, updated_at) VALUES ('P', 'P', ?)", (NOW,))
    for code in ("A", "B", "C", "AB"):
        s.execute("INSERT INTO skus (code, product_code, base_price, updated_at) VALUES (?, 'P', 100, ?)", (code, NOW))
    s.execute("INSERT INTO bundle_components (bundle_code, component_code, qty) VALUES ('AB', 'A', 1), ('AB', 'B', 2)")
    for code, sh, gz in (("A", 1, 5), ("B", 10, 10), ("C", 4, 4)):
        inventory.move(s, code, "SH", sh, "import")
        inventory.move(s, code, "GZ", gz, "import")
    for channel in ("tb", "web", "wx"):
        for code in ("A", "B", "C", "AB"):
            s.execute("INSERT INTO listings (channel, sku_code, external_id, expected, linked_at) VALUES (?,?,?,?,?)",
                      (channel, code, f"{channel}-{code}", 20, NOW))
    yield s
    assert_ledger_is_on_hand(s)
    s.close()


def assert_ledger_is_on_hand(store: Store) -> None:
    rows = store.query("SELECT sku_code, warehouse, on_hand FROM stock")
    for r in rows:
        assert store.scalar("SELECT COALESCE(SUM(delta), 0) FROM stock_movements WHERE sku_code = ? AND warehouse = ?",
                            (r["sku_code"], r["warehouse"])) == r["on_hand"]


def order(status: S, lines, minutes: int = 0, external_id: str = "O1", **kw) -> Order:
    made = [ln if isinstance(ln, OrderLine) else OrderLine(ln[0], ln[1]) for ln in lines]
    return Order(external_id, status, T0, T0 + timedelta(minutes=minutes), made, **kw)


def ingest(store, *os: Order, cfg: ChannelConfig = TB) -> orders.IngestResult:
    return orders.ingest(store, CONFIG, cfg, list(os))


def row(store, external_id: str = "O1", channel: str = "tb") -> dict:
    return store.one("SELECT * FROM orders WHERE channel = ? AND external_id = ?", (channel, external_id))


def lines(store, external_id: str = "O1") -> list[dict]:
    return orders.detail(store, row(store, external_id))["lines"]


def reserved_at(store, code: str) -> dict:
    return {r["warehouse"]: r["n"] for r in store.query(
        "SELECT warehouse, SUM(quantity) AS n FROM reservations WHERE sku_code = ? GROUP BY warehouse", (code,))}


def ledger(store, reference: str = "tb:O1") -> list[tuple]:
    return [(r["sku_code"], r["warehouse"], r["delta"], r["reason"]) for r in store.query(
        "SELECT sku_code, warehouse, delta, reason FROM stock_movements WHERE reference = ? ORDER BY id",
        (reference,))]


def expected(store, code: str, channel: str = "tb") -> int | None:
    return store.scalar("SELECT expected FROM listings WHERE channel = ? AND sku_code = ?", (channel, code))


# --- reservations by warehouse -----------------------------------------------------------------

def test_an_order_reserves_by_the_channels_priority_and_the_short_one_gives_what_it_has(store):
    ingest(store, order(S.PAID, [("A", 3)]))
    assert reserved_at(store, "A") == {"SH": 1, "GZ": 2}  # SH had 1 free, GZ gives the rest


def test_available_subtracts_only_what_is_reserved_in_the_channels_warehouses(store):
    ingest(store, order(S.PAID, [("C", 3)]), cfg=WX)  # a GZ-only channel's order
    assert reserved_at(store, "C") == {"GZ": 3}
    assert inventory.available(store, "C", WEB.warehouses) == 4  # SH untouched: the web shop shows all it has
    assert inventory.available(store, "C", WX.warehouses) == 1
    assert inventory.available(store, "C", TB.warehouses) == 5


def test_a_shortfall_everywhere_is_backordered_in_the_first_warehouse(store):
    ingest(store, order(S.PAID, [("A", 9)]))
    assert reserved_at(store, "A") == {"SH": 1 + 3, "GZ": 5}


def test_shipping_takes_from_where_the_order_reserved(store):
    ingest(store, order(S.PAID, [("A", 3)]))
    inventory.move(store, "A", "SH", 10, "adjust")  # SH is full again: the shipment still takes what it reserved
    ingest(store, order(S.SHIPPED, [("A", 3)], minutes=1))
    assert ledger(store) == [("A", "SH", -1, "shipment"), ("A", "GZ", -2, "shipment")]
    assert reserved_at(store, "A") == {}


def test_a_bundle_line_reserves_and_ships_its_components_by_warehouse(store):
    ingest(store, order(S.PAID, [("AB", 2)]))
    assert reserved_at(store, "A") == {"SH": 1, "GZ": 1} and reserved_at(store, "B") == {"SH": 4}
    ingest(store, order(S.SHIPPED, [("AB", 2)], minutes=1))
    assert sorted(ledger(store)) == [("A", "GZ", -1, "shipment"), ("A", "SH", -1, "shipment"),
                                     ("B", "SH", -4, "shipment")]


# --- line-level refunds --------------------------------------------------------------------------

def test_refunding_one_line_before_shipment_releases_only_that_lines_units(store):
    ingest(store, order(S.PAID, [("B", 2), ("C", 3)]))
    assert (expected(store, "B"), expected(store, "C")) == (18, 17)
    ingest(store, order(S.PAID, [("B", 2), OrderLine("C", 3, refunded=3)], minutes=1))
    b, c = lines(store)
    assert (b["released"], b["open"], c["released"], c["open"], c["refunded"]) == (0, 2, 3, 0, 3)
    assert reserved_at(store, "B") == {"SH": 2} and reserved_at(store, "C") == {}
    assert (expected(store, "B"), expected(store, "C")) == (18, 20)  # the platform put C back on sale
    assert row(store)["status"] == "paid"
    assert [(e["kind"], e["quantity"], e["note"]) for e in returns.history(store, row(store)["id"])] == [
        ("refund", 3, "3 released before shipment")]


def test_a_partial_refund_of_a_line_releases_the_lowest_priority_units_first(store):
    ingest(store, order(S.PAID, [("A", 4)]))
    assert reserved_at(store, "A") == {"SH": 1, "GZ": 3}
    ingest(store, order(S.PAID, [OrderLine("A", 4, refunded=2)], minutes=1))
    assert reserved_at(store, "A") == {"SH": 1, "GZ": 1}
    ingest(store, order(S.SHIPPED, [OrderLine("A", 4, refunded=2)], minutes=2))
    assert ledger(store) == [("A", "SH", -1, "shipment"), ("A", "GZ", -1, "shipment")]  # only the 2 not refunded


def test_rereading_a_partly_refunded_order_changes_nothing(store):
    ingest(store, order(S.PAID, [("B", 2), OrderLine("C", 3, refunded=1)]))
    snapshot = [store.query(f"SELECT * FROM {t}") for t in ("orders", "order_lines", "reservations", "after_sales",
                                                            "listings")]
    again = ingest(store, order(S.PAID, [("B", 2), OrderLine("C", 3, refunded=1)]))
    assert again.changed == [] and again.skus == set()
    assert [store.query(f"SELECT * FROM {t}") for t in ("orders", "order_lines", "reservations", "after_sales",
                                                        "listings")] == snapshot


def test_a_refund_after_shipment_restocks_nothing_and_expects_nothing_back(store):
    ingest(store, order(S.SHIPPED, [("C", 2)]))
    before = inventory.on_hand(store, "C")
    ingest(store, order(S.SHIPPED, [OrderLine("C", 2, refunded=1)], minutes=1))  # refund only: buyer keeps it
    line, = lines(store)
    assert (line["refunded"], line["released"], line["expected_back"]) == (1, 0, 0)
    assert inventory.on_hand(store, "C") == before and expected(store, "C") == 18


def test_a_closed_order_with_nothing_shipped_is_cancelled_whatever_the_platform_calls_it(store):
    ingest(store, order(S.PAID, [("C", 2)]))
    ingest(store, order(S.REFUNDED, [OrderLine("C", 2, refunded=2)], minutes=1, platform_status="TRADE_CLOSED"))
    assert (row(store)["status"], row(store)["platform_status"]) == ("cancelled", "TRADE_CLOSED")
    assert expected(store, "C") == 20 and reserved_at(store, "C") == {}


# --- returns ---------------------------------------------------------------------------------------

def test_a_reported_return_waits_as_expected_back_and_restocks_nothing(store):
    ingest(store, order(S.SHIPPED, [("C", 3)]))
    ingest(store, order(S.REFUNDED, [OrderLine("C", 3, refunded=2, returning=2)], minutes=1))
    line, = lines(store)
    assert (line["refunded"], line["coming_back"], line["expected_back"], line["received"]) == (2, 2, 2, 0)
    assert inventory.on_hand(store, "C") == 8 - 3
    assert [r["expected_back"] for r in returns.expected_back(store)] == [2]


def test_receiving_a_return_with_one_damaged_unit(store):
    ingest(store, order(S.SHIPPED, [("C", 3)]))
    ingest(store, order(S.REFUNDED, [OrderLine("C", 3, refunded=3, returning=3)], minutes=1))
    o = row(store)
    result = returns.receive_now(store, CONFIG, o, orders.line_of(store, o, "C"), 3, "GZ", damaged=1, actor="cli")
    assert (result["restocked"], result["damaged"], result["expected_back"]) == (2, 1, 0)
    assert ledger(store)[-3:] == [("C", "GZ", 2, "return"), ("C", "GZ", 1, "return"), ("C", "GZ", -1, "damaged")]
    # the 3 left from SH (first by priority, and it had them); the 2 good ones came back to GZ
    assert (inventory.on_hand(store, "C", ["SH"]), inventory.on_hand(store, "C", ["GZ"])) == (4 - 3, 4 + 2)
    assert result["pushes_queued"] > 0  # every channel's target rose by the 2 good units
    line, = lines(store)
    assert (line["received"], line["damaged"], line["expected_back"]) == (3, 1, 0)
    assert returns.expected_back(store) == []


@pytest.mark.parametrize("quantity, warehouse, damaged, message", [
    (4, "GZ", 0, "only 3 unit"),
    (0, "GZ", 0, "at least 1"),
    (2, "XX", 0, "unknown warehouse 'XX'"),
    (2, "GZ", 3, "between 0 and the 2"),
])
def test_a_wrong_receipt_is_refused_and_changes_nothing(store, quantity, warehouse, damaged, message):
    ingest(store, order(S.SHIPPED, [("C", 3)]))
    o = row(store)
    snapshot = store.query("SELECT * FROM stock_movements")
    with pytest.raises(UserError, match=message):
        returns.receive_now(store, CONFIG, o, orders.line_of(store, o, "C"), quantity, warehouse, damaged=damaged)
    assert store.query("SELECT * FROM stock_movements") == snapshot
    assert store.query("SELECT * FROM after_sales") == []


def test_a_line_that_is_not_on_the_order_is_named(store):
    ingest(store, order(S.SHIPPED, [("C", 3)]))
    with pytest.raises(UserError, match=r"has no line 'A' \(its lines: C\)"):
        orders.line_of(store, row(store), "A")


def test_restock_on_refund_books_a_reported_return_at_once_where_it_shipped_from(store):
    restocking = ChannelConfig(name="tb", plugin="fake", warehouses=("SH", "GZ"), restock_on_refund=True)
    ingest(store, order(S.SHIPPED, [("A", 3)]), cfg=restocking)  # 1 from SH, 2 from GZ
    ingest(store, order(S.REFUNDED, [OrderLine("A", 3, refunded=2, returning=2)], minutes=1), cfg=restocking)
    assert ledger(store)[-1:] == [("A", "SH", 2, "return")]
    line, = lines(store)
    assert (line["received"], line["expected_back"]) == (2, 0)


def test_a_whole_refund_after_shipment_without_line_detail_expects_every_unit_back(store):
    ingest(store, order(S.SHIPPED, [("B", 1), ("C", 2)]))
    ingest(store, order(S.REFUNDED, [("B", 1), ("C", 2)], minutes=1))
    assert [(ln["refunded"], ln["expected_back"]) for ln in lines(store)] == [(1, 1), (2, 2)]
    assert row(store)["status"] == "refunded"


def test_an_exchange_is_a_return_and_a_replacement_parcel(store):
    ingest(store, order(S.SHIPPED, [("C", 2)]))
    o = row(store)
    result = returns.exchange_now(store, CONFIG, o, orders.line_of(store, o, "C"), 1, carrier="SF",
                                  tracking_no="SF9", replacement="B")
    assert result["expected_back"] == 1 and result["shipped_from"] == [{"sku": "B", "warehouse": "SH", "units": 1}]
    assert ledger(store)[-1] == ("B", "SH", -1, "shipment")
    parcels = orders.detail(store, o)["parcels"]
    assert [(p["kind"], p["tracking_no"], [(pl["sku_code"], pl["quantity"]) for pl in p["lines"]])
            for p in parcels] == [("exchange", "SF9", [("B", 1)])]
    # the buyer holds 3 units' worth of this line: 2 shipped and 1 replacement, none received
    with pytest.raises(UserError, match="only 3 unit"):
        returns.exchange_now(store, CONFIG, o, orders.line_of(store, o, "C"), 4, carrier=None, tracking_no=None)
    # the swapped unit and the replacement can both come back
    assert returns.receivable(store, o, orders.line_of(store, o, "C")) == 3


# --- parcels -------------------------------------------------------------------------------------------

def test_a_partial_parcel_then_the_rest(store):
    ingest(store, order(S.PAID, [("B", 2), ("C", 3)]))
    o = row(store)
    chosen = orders.parcel_lines(store, o, [("C", 2)])
    assert chosen == {2: 2}
    orders.mark_shipped(store, CONFIG, TB, o, "SF", "SF1", chosen)
    assert row(store)["status"] == "paid"  # B and one C still to go
    assert [ln["open"] for ln in lines(store)] == [2, 1]
    assert ledger(store) == [("C", "SH", -2, "shipment")]
    orders.mark_shipped(store, CONFIG, TB, row(store), "ZTO", "Z2", orders.parcel_lines(store, row(store), []))
    assert row(store)["status"] == "shipped"
    parcels = orders.detail(store, o)["parcels"]
    assert [(p["carrier"], p["tracking_no"], [(pl["line_no"], pl["quantity"]) for pl in p["lines"]])
            for p in parcels] == [("SF", "SF1", [(2, 2)]), ("ZTO", "Z2", [(1, 2), (2, 1)])]
    with pytest.raises(UserError, match="nothing left to ship"):
        orders.parcel_lines(store, row(store), [])


@pytest.mark.parametrize("specs, message", [
    ([("A", 1)], "no open line 'A'"),
    ([("C", 4)], "only 3 unit"),
    ([("C", 0)], "at least 1"),
])
def test_a_wrong_parcel_is_refused(store, specs, message):
    ingest(store, order(S.PAID, [("B", 2), ("C", 3)]))
    with pytest.raises(UserError, match=message):
        orders.parcel_lines(store, row(store), specs)


def test_parcels_made_in_the_seller_centre_are_kept_once(store):
    parcels = [Parcel("SF", "SF100", [OrderLine(None, 2, "tb-B")]), Parcel("ZTO", "Z7")]
    ingest(store, order(S.SHIPPED, [OrderLine("B", 2, "tb-B"), ("C", 1)], parcels=parcels))
    ingest(store, order(S.COMPLETED, [OrderLine("B", 2, "tb-B"), ("C", 1)], minutes=1, parcels=parcels))
    got = orders.detail(store, row(store))["parcels"]
    assert [(p["source"], p["carrier"], p["tracking_no"], [(pl["line_no"], pl["quantity"]) for pl in p["lines"]])
            for p in got] == [("platform", "SF", "SF100", [(1, 2)]), ("platform", "ZTO", "Z7", [])]


def test_the_platform_status_is_kept_when_only_it_changed(store):
    ingest(store, order(S.PAID, [("C", 1)], platform_status="WAIT_SELLER_SEND_GOODS"))
    ingest(store, order(S.PAID, [("C", 1)], minutes=1, platform_status="SELLER_CONSIGNED_PART"))
    assert row(store)["platform_status"] == "SELLER_CONSIGNED_PART"


def test_an_exchange_the_platform_already_reports_is_not_expected_back_twice(store):
    ingest(store, order(S.SHIPPED, [("C", 2)]))
    ingest(store, order(S.SHIPPED, [OrderLine("C", 2, returning=1)], minutes=1))  # the platform's exchange case
    o = row(store)
    result = returns.exchange_now(store, CONFIG, o, orders.line_of(store, o, "C"), 1, carrier="SF", tracking_no="X")
    assert result["expected_back"] == 1
    again = returns.exchange_now(store, CONFIG, o, orders.line_of(store, o, "C"), 1, carrier="SF", tracking_no="Y")
    assert again["expected_back"] == 2  # a second swap, which the platform did not report: one more back
