"""engine/listings.py at unit level: the one writer of the ``listings`` table.

``expected`` is the heart of the oversell rule (a push sends ``target - expected``),
so every way it moves is pinned here on a real store.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from channelsync.config.settings import ChannelConfig, Config, PriceRules, StockRules
from channelsync.engine import listings, reservations, stock_policy
from channelsync.sdk.models import Listing
from channelsync.store import Store, ts

NOW = "2026-06-01T00:00:00.000000+00:00"
AT = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    s.execute("INSERT INTO warehouses (code, name) VALUES ('main', 'Main')")
    s.execute("INSERT INTO products (code, title, description, updated_at) VALUES ('P', 'Green tea', 'Fine tea', ?)",
              (NOW,))
    yield s
    s.close()


def sku(store: Store, code: str, *, title: str = "", base_price: int = 1000, cost: int | None = None,
        status: str = "active", on_hand: int = 0, attributes: dict | None = None, product: str = "P") -> None:
    store.execute("INSERT INTO skus (code, product_code, title, attributes, base_price, cost, status, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (code, product, title, json.dumps(attributes or {}), base_price, cost, status, NOW))
    if on_hand:
        store.execute("INSERT INTO stock (sku_code, warehouse, on_hand) VALUES (?, 'main', ?)", (code, on_hand))


def listing(store: Store, channel: str, code: str, expected: int | None, external_id: str | None = None,
            item_id: str | None = None) -> None:
    store.execute("INSERT INTO listings (channel, sku_code, external_id, item_id, expected, linked_at) "
                  "VALUES (?, ?, ?, ?, ?, ?)", (channel, code, external_id or f"{channel}-{code}", item_id, expected, NOW))


def row(store: Store, channel: str, code: str) -> dict | None:
    return store.one("SELECT * FROM listings WHERE channel = ? AND sku_code = ?", (channel, code))


# --- get / expected ---------------------------------------------------------------------------

def test_get_and_expected_read_the_named_listing_only(store):
    listing(store, "tb", "A", 7, external_id="E1", item_id="I1")
    listing(store, "jd", "A", 3)
    got = listings.get(store, "tb", "A")
    assert (got["external_id"], got["item_id"], got["expected"]) == ("E1", "I1", 7)
    assert listings.expected(store, "tb", "A") == 7
    assert listings.expected(store, "jd", "A") == 3
    assert listings.get(store, "tb", "B") is None
    assert listings.expected(store, "tb", "B") is None  # not listed there
    assert listings.get(store, "wx", "A") is None


def test_expected_is_none_when_unknown(store):
    listing(store, "tb", "A", None)
    assert listings.get(store, "tb", "A") is not None
    assert listings.expected(store, "tb", "A") is None


# --- lower_expected -----------------------------------------------------------------------------

def test_lower_expected_lowers_by_the_units_on_that_listing_only(store):
    listing(store, "tb", "A", 10)
    listing(store, "jd", "A", 10)
    listing(store, "tb", "B", 10)
    listings.lower_expected(store, "tb", "A", 3)
    assert listings.expected(store, "tb", "A") == 7
    assert listings.expected(store, "jd", "A") == 10  # another channel's listing of the same SKU
    assert listings.expected(store, "tb", "B") == 10  # another SKU on the same channel


def test_lower_expected_clamps_at_zero(store):
    # the platform floored a decrement that raced a sale: it shows 0, never less
    listing(store, "tb", "A", 2)
    listings.lower_expected(store, "tb", "A", 5)
    assert listings.expected(store, "tb", "A") == 0


def test_lower_expected_by_negative_units_raises_it(store):
    # a cancel before shipment: the platform put the units back itself
    listing(store, "tb", "A", 4)
    listings.lower_expected(store, "tb", "A", -3)
    assert listings.expected(store, "tb", "A") == 7


def test_lower_expected_leaves_an_unknown_expected_unknown(store):
    listing(store, "tb", "A", None)
    listings.lower_expected(store, "tb", "A", 3)
    assert listings.expected(store, "tb", "A") is None
    listings.lower_expected(store, "tb", "A", -3)
    assert listings.expected(store, "tb", "A") is None


def test_lower_expected_blind_absolute_makes_it_unknown(store):
    listing(store, "tb", "A", 10)
    listing(store, "tb", "B", 10)
    listings.lower_expected(store, "tb", "A", 3, blind=True)
    assert listings.expected(store, "tb", "A") is None
    assert listings.expected(store, "tb", "B") == 10


def test_lower_expected_of_an_unlisted_sku_does_nothing(store):
    listings.lower_expected(store, "tb", "A", 3)
    assert store.scalar("SELECT COUNT(*) FROM listings") == 0


# --- pushes that succeeded ---------------------------------------------------------------------

def test_stock_pushed_absolute_sets_expected_to_the_quantity(store):
    listing(store, "tb", "A", 3)
    # a delta that disagrees with quantity - expected shows which one was used
    listings.stock_pushed(store, "tb", "A", absolute=True, quantity=9, delta=2, at=AT)
    r = row(store, "tb", "A")
    assert (r["expected"], r["pushed_qty"], r["pushed_at"]) == (9, 9, ts(AT))


def test_stock_pushed_increment_adds_the_delta(store):
    listing(store, "tb", "A", 3)
    listings.stock_pushed(store, "tb", "A", absolute=False, quantity=9, delta=2, at=AT)
    r = row(store, "tb", "A")
    assert (r["expected"], r["pushed_qty"], r["pushed_at"]) == (5, 9, ts(AT))


def test_stock_pushed_increment_onto_unknown_expected_sets_the_quantity(store):
    listing(store, "tb", "A", None)
    listings.stock_pushed(store, "tb", "A", absolute=False, quantity=6, delta=-1, at=AT)
    assert listings.expected(store, "tb", "A") == 6


def test_stock_pushed_touches_only_its_listing(store):
    listing(store, "tb", "A", 3)
    listing(store, "jd", "A", 3)
    listings.stock_pushed(store, "tb", "A", absolute=True, quantity=9, delta=6, at=AT)
    other = row(store, "jd", "A")
    assert (other["expected"], other["pushed_qty"], other["pushed_at"]) == (3, None, None)


def test_price_pushed_records_pushed_and_seen_price(store):
    listing(store, "tb", "A", 3)
    listing(store, "jd", "A", 3)
    listings.price_pushed(store, "tb", "A", 1290)
    r = row(store, "tb", "A")
    assert (r["pushed_price"], r["seen_price"], r["expected"]) == (1290, 1290, 3)
    assert row(store, "jd", "A")["pushed_price"] is None


def test_shelf_pushed_records_on_and_off(store):
    listing(store, "tb", "A", 3)
    listings.shelf_pushed(store, "tb", "A", False)
    assert row(store, "tb", "A")["seen_on_shelf"] == 0
    listings.shelf_pushed(store, "tb", "A", True)
    assert row(store, "tb", "A")["seen_on_shelf"] == 1


# --- link_published ----------------------------------------------------------------------------

def test_link_published_inserts_with_expected_the_platforms_quantity(store):
    listings.link_published(store, "tb", "A", [Listing("E9", "A", item_id="I9", quantity=4, price=2900,
                                                       on_shelf=False)])
    r = row(store, "tb", "A")
    assert (r["external_id"], r["item_id"], r["expected"], r["seen_qty"], r["seen_price"], r["seen_on_shelf"]) == (
        "E9", "I9", 4, 4, 2900, 0)
    assert r["linked_at"]


def test_link_published_twice_changes_nothing(store):
    listings.link_published(store, "tb", "A", [Listing("E9", "A", quantity=4, price=2900)])
    before = row(store, "tb", "A")
    listings.link_published(store, "tb", "A", [Listing("E10", "A", quantity=1, price=100)])
    assert row(store, "tb", "A") == before
    assert store.scalar("SELECT COUNT(*) FROM listings") == 1


def test_link_published_without_a_code_takes_the_given_one(store):
    listings.link_published(store, "tb", "A", [Listing("E9", None, quantity=4)])
    assert row(store, "tb", "A")["external_id"] == "E9"


def test_link_published_keeps_the_code_the_platform_reports(store):
    listings.link_published(store, "tb", "A", [Listing("E9", "A-RED", quantity=1), Listing("E10", None, quantity=2)])
    assert row(store, "tb", "A-RED")["external_id"] == "E9"
    assert row(store, "tb", "A")["external_id"] == "E10"


# --- record_seen ---------------------------------------------------------------------------------

def test_record_seen_links_a_new_listing(store):
    seen = listings.record_seen(store, "tb", "A", Listing("E1", "A", "I1", 5, 990, True, "Tea"), reset_expected=True)
    assert seen == listings.Seen(new_link=True)
    r = row(store, "tb", "A")
    assert (r["external_id"], r["item_id"], r["expected"], r["seen_qty"], r["seen_price"], r["seen_on_shelf"],
            r["seen_title"]) == ("E1", "I1", 5, 5, 990, 1, "Tea")
    assert r["seen_at"] and r["linked_at"]


def test_record_seen_replaces_a_stale_row_holding_the_external_id_under_another_code(store):
    listing(store, "tb", "OLD", 9, external_id="E1")
    listing(store, "jd", "OLD", 9, external_id="E1")  # same id on another channel: not the same listing
    seen = listings.record_seen(store, "tb", "NEW", Listing("E1", "NEW", quantity=2), reset_expected=True)
    assert seen.new_link is True
    assert row(store, "tb", "OLD") is None
    assert row(store, "tb", "NEW")["external_id"] == "E1"
    assert row(store, "jd", "OLD") is not None


def test_record_seen_keeps_the_read_until_the_poll_covers_it(store):
    listing(store, "tb", "A", 5, external_id="E1")
    seen = listings.record_seen(store, "tb", "A", Listing("E1", "A", quantity=50, price=100), reset_expected=True)
    assert seen == listings.Seen(new_link=False, drift=(5, 50))
    r = row(store, "tb", "A")
    assert (r["expected"], r["seen_qty"], r["seen_price"], r["read_qty"]) == (5, 50, 100, 50)
    settled, drift = listings.settle_reads(store, "tb", datetime.fromisoformat(r["read_to"]))
    assert settled == ["A"] and drift == [listings.Drift("A", 50, 5)]
    assert listings.expected(store, "tb", "A") == 50
    assert listings.drift_summary(store, "tb")["count"] == 1


def test_a_sale_the_poll_had_not_seen_is_not_drift(store):
    # the platform showed 5, a buyer took 1 (platform 4), we read 4, then the poll
    # ingests the sale, created before the read: expected 4, and no drift
    listing(store, "tb", "A", 5, external_id="E1")
    before = datetime(2030, 1, 1, tzinfo=timezone.utc)
    listings.begin_read(store, "tb", "A", 4, before + timedelta(seconds=1), before + timedelta(seconds=2))
    listings.lower_expected(store, "tb", "A", 1, at=before)
    assert listings.settle_reads(store, "tb", before) == ([], [])  # not covered yet: kept
    settled, drift = listings.settle_reads(store, "tb", before + timedelta(seconds=2))
    assert (settled, drift, listings.expected(store, "tb", "A")) == (["A"], [], 4)


def test_a_sale_after_the_read_moves_expected_but_not_the_read(store):
    # read 5 (right), then a sale after the read: expected 4, still no drift
    listing(store, "tb", "A", 5, external_id="E1")
    t = datetime(2030, 1, 1, tzinfo=timezone.utc)
    listings.begin_read(store, "tb", "A", 5, t, t + timedelta(seconds=1))
    listings.lower_expected(store, "tb", "A", 1, at=t + timedelta(seconds=5))
    assert listings.settle_reads(store, "tb", t + timedelta(seconds=9))[1] == []
    assert listings.expected(store, "tb", "A") == 4


def test_a_hand_edit_is_drift_and_moves_expected_by_its_difference(store):
    # a person set 500 where 91 was right; a sale after the read is kept
    listing(store, "tb", "A", 91, external_id="E1")
    t = datetime(2030, 1, 1, tzinfo=timezone.utc)
    listings.begin_read(store, "tb", "A", 500, t, t + timedelta(seconds=1))
    listings.lower_expected(store, "tb", "A", 2, at=t + timedelta(seconds=5))
    settled, drift = listings.settle_reads(store, "tb", t + timedelta(seconds=9))
    assert drift == [listings.Drift("A", 500, 91)]
    assert listings.expected(store, "tb", "A") == 498


def test_a_held_check_drops_a_read_older_than_the_doubtful_call(store):
    listing(store, "tb", "A", 5, external_id="E1")
    t = datetime(2030, 1, 1, tzinfo=timezone.utc)
    listings.begin_read(store, "tb", "A", 5, t, t)
    listings.want_check(store, "tb", "A", hold=True)
    r = row(store, "tb", "A")
    assert r["read_qty"] is None and listings.held(r)
    assert [x["sku_code"] for x in listings.to_check(store, "tb", since=None, limit=10)] == ["A"]


def test_absolute_value_keeps_unseen_sales_and_never_exceeds_the_target():
    assert stock_policy.absolute_value(10, 8, 6) == 8    # 2 sold unseen: they stay off
    assert stock_policy.absolute_value(10, 8, 500) == 10  # a hand edit up: the target, no more
    assert stock_policy.absolute_value(1, 8, 2) == 0      # never below 0
    assert stock_policy.absolute_value(7, None, 3) == 7 and stock_policy.absolute_value(7, 3, None) == 7


def test_record_seen_reports_no_drift_when_the_platform_agrees(store):
    listing(store, "tb", "A", 5, external_id="E1")
    seen = listings.record_seen(store, "tb", "A", Listing("E1", "A", quantity=5), reset_expected=True)
    assert seen == listings.Seen(new_link=False, drift=None)
    assert listings.expected(store, "tb", "A") == 5


def test_record_seen_reports_drift_from_an_unknown_expected(store):
    listing(store, "tb", "A", None, external_id="E1")
    seen = listings.record_seen(store, "tb", "A", Listing("E1", "A", quantity=3), reset_expected=True)
    assert seen.drift == (None, 3)
    assert listings.expected(store, "tb", "A") == 3


def test_record_seen_without_reset_keeps_expected_but_records_what_was_seen(store):
    listing(store, "tb", "A", 5, external_id="E1")
    seen = listings.record_seen(store, "tb", "A", Listing("E1", "A", "I2", 50, 700, False, "Renamed"),
                                reset_expected=False)
    assert seen == listings.Seen(new_link=False, drift=None)
    r = row(store, "tb", "A")
    assert (r["expected"], r["seen_qty"], r["seen_price"], r["seen_on_shelf"], r["seen_title"]) == (
        5, 50, 700, 0, "Renamed")
    assert r["seen_at"]


def test_record_seen_without_a_quantity_keeps_expected(store):
    listing(store, "tb", "A", 5, external_id="E1")
    seen = listings.record_seen(store, "tb", "A", Listing("E1", "A", quantity=None), reset_expected=True)
    assert seen.drift is None
    assert listings.expected(store, "tb", "A") == 5


def test_record_seen_takes_the_platforms_ids(store):
    listing(store, "tb", "A", 5, external_id="E1", item_id="I1")
    listings.record_seen(store, "tb", "A", Listing("E2", "A", "I2", 5), reset_expected=True)
    r = row(store, "tb", "A")
    assert (r["external_id"], r["item_id"]) == ("E2", "I2")
    assert store.scalar("SELECT COUNT(*) FROM listings") == 1


# --- unmatched listings ---------------------------------------------------------------------------

def unmatched(store: Store) -> list[dict]:
    return store.query("SELECT channel, external_id, item_id, sku_code, title, reason FROM unmatched_listings "
                       "ORDER BY channel, external_id")


def test_record_unmatched_reports_once_per_listing_with_the_latest_reason(store):
    listings.record_unmatched(store, "tb", Listing("E1", None, "I1", title="no code"), "no merchant code")
    listings.record_unmatched(store, "jd", Listing("E1", "X", title="x"), "unknown merchant code")
    listings.record_unmatched(store, "tb", Listing("E1", "TYPO", "I1", title="typo"), "unknown merchant code")
    assert unmatched(store) == [
        {"channel": "jd", "external_id": "E1", "item_id": None, "sku_code": "X", "title": "x",
         "reason": "unknown merchant code"},
        {"channel": "tb", "external_id": "E1", "item_id": "I1", "sku_code": "TYPO", "title": "typo",
         "reason": "unknown merchant code"},
    ]
    assert store.scalar("SELECT seen_at FROM unmatched_listings WHERE channel = 'tb'")
    assert store.scalar("SELECT COUNT(*) FROM listings") == 0  # reported, never linked


def test_matched_clears_only_that_report(store):
    listings.record_unmatched(store, "tb", Listing("E1", None), "no merchant code")
    listings.record_unmatched(store, "tb", Listing("E2", None), "no merchant code")
    listings.record_unmatched(store, "jd", Listing("E1", None), "no merchant code")
    listings.matched(store, "tb", "E1")
    assert [(r["channel"], r["external_id"]) for r in unmatched(store)] == [("jd", "E1"), ("tb", "E2")]


# --- content / wanted_on_shelf -------------------------------------------------------------------

def config_with(cfg: ChannelConfig) -> Config:
    return Config(path=None, db_path=Path("unused"), channels={cfg.name: cfg})


def test_content_carries_the_master_data(store):
    sku(store, "A", title="Tea 250g", attributes={"size": "250g"}, on_hand=10)
    cfg = ChannelConfig(name="tb", plugin="fake")
    c = listings.content(store, config_with(cfg), cfg, "A")
    # the item-level title is the product's; the SKU's own title travels apart
    assert (c.sku_code, c.product_code, c.title, c.sku_title, c.description, c.on_shelf) == (
        "A", "P", "Green tea", "Tea 250g", "Fine tea", True)
    assert c.attributes == {"size": "250g"}
    assert (c.price, c.quantity) == (1000, 10)
    assert (c.external_id, c.item_id) == (None, None)


def test_content_title_is_the_products_even_without_a_sku_title(store):
    sku(store, "A", title="")
    cfg = ChannelConfig(name="tb", plugin="fake")
    c = listings.content(store, config_with(cfg), cfg, "A")
    assert (c.title, c.sku_title) == ("Green tea", "")


def test_content_price_and_quantity_follow_the_channel_rules(store):
    sku(store, "A", base_price=1000, on_hand=10)
    cfg = ChannelConfig(name="tb", plugin="fake", rules=StockRules(share=Decimal("0.5"), buffer=1),
                        price=PriceRules(markup_percent=Decimal(10), round_ending=90))
    c = listings.content(store, config_with(cfg), cfg, "A")
    assert c.price == 1190  # 1000 * 1.1 = 1100, up to x.90
    assert c.quantity == 4  # floor(10 * 0.5) - 1


def test_content_quantity_is_the_channel_target_net_of_reservations(store):
    sku(store, "A", on_hand=10)
    cur = store.execute("INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, "
                        "updated_at) VALUES ('jd', 'O1', 'paid', ?, ?, ?, ?)", (NOW, NOW, NOW, NOW))
    store.execute("INSERT INTO order_lines (order_id, line_no, sku_code, quantity) VALUES (?, 1, 'A', 3)",
                  (cur.lastrowid,))
    reservations.reserve(store, cur.lastrowid, 1, "A", 3, ())
    cfg = ChannelConfig(name="tb", plugin="fake")
    assert listings.content(store, config_with(cfg), cfg, "A").quantity == 7


def test_content_carries_the_listings_ids(store):
    sku(store, "A")
    listing(store, "tb", "A", 3, external_id="E1", item_id="I1")
    cfg = ChannelConfig(name="tb", plugin="fake")
    c = listings.content(store, config_with(cfg), cfg, "A", listings.get(store, "tb", "A"))
    assert (c.external_id, c.item_id) == ("E1", "I1")


@pytest.mark.parametrize("sku_status, product_status, on_shelf", [
    ("active", "active", True),
    ("discontinued", "active", False),
    ("active", "discontinued", False),
    ("discontinued", "discontinued", False),
])
def test_on_shelf_follows_the_sku_and_the_product(store, sku_status, product_status, on_shelf):
    store.execute("INSERT INTO products (code, title, status, updated_at) VALUES ('Q', 'Q', ?, ?)",
                  (product_status, NOW))
    sku(store, "A", product="Q", status=sku_status, on_hand=5)
    cfg = ChannelConfig(name="tb", plugin="fake")
    c = listings.content(store, config_with(cfg), cfg, "A")
    assert c.on_shelf is on_shelf
    assert listings.wanted_on_shelf(store, "A") is on_shelf


def test_content_of_a_discontinued_sku_offers_nothing(store):
    sku(store, "A", status="discontinued", on_hand=5)
    cfg = ChannelConfig(name="tb", plugin="fake")
    assert listings.content(store, config_with(cfg), cfg, "A").quantity == 0


def test_content_and_shelf_of_an_unknown_sku(store):
    cfg = ChannelConfig(name="tb", plugin="fake")
    assert listings.content(store, config_with(cfg), cfg, "NOPE") is None
    assert listings.wanted_on_shelf(store, "NOPE") is False


def test_a_put_back_close_to_the_read_counts_as_not_shown_by_it(store):
    # a cancel stamped 1 s before the read (whole seconds, another clock) may have landed
    # after it: counted as not in the read, the error can only under-show, never oversell
    listing(store, "tb", "A", 5, external_id="E1")
    t = datetime(2030, 1, 1, tzinfo=timezone.utc)
    listings.begin_read(store, "tb", "A", 5, t, t + timedelta(seconds=1))
    listings.lower_expected(store, "tb", "A", -2, at=t - timedelta(seconds=1))  # expected 7
    listings.settle_reads(store, "tb", t + timedelta(seconds=9))
    assert listings.expected(store, "tb", "A") == 7  # read 5 vs 5 expected then: no drift, 7 stands
    listing(store, "tb", "B", 5, external_id="E2")
    listings.begin_read(store, "tb", "B", 7, t, t + timedelta(seconds=1))
    listings.lower_expected(store, "tb", "B", -2, at=t - timedelta(seconds=10))  # well before: in the read
    assert listings.settle_reads(store, "tb", t + timedelta(seconds=9))[1] == []
    assert listings.expected(store, "tb", "B") == 7
