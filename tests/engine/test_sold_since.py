"""listings.to_check's "pushed or sold since": which listings a periodic drift check reads first.

"Sold since" is read from the channel's orders updated since then (index orders_updated,
migration m200), not from every line ever sold of each listing's SKU (order_lines_sku,
dropped: it made ingest slow down with history). These pin what counts as sold since.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channelsync.engine import listings
from channelsync.store import Store, ts

SINCE = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
NOW = ts(SINCE - timedelta(days=30))


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    s.execute("INSERT INTO products (code, title, description, updated_at) VALUES ('P', 'Tea', '', ?)", (NOW,))
    for i, code in enumerate("ABCDEF"):
        s.execute("INSERT INTO skus (code, product_code, title, attributes, base_price, status, updated_at) "
                  "VALUES (?, 'P', '', '{}', 1000, 'active', ?)", (code, NOW))
        for channel in ("tb", "jd"):  # checked longest ago first: A, B, C, ...
            s.execute("INSERT INTO listings (channel, sku_code, external_id, expected, linked_at, checked_at) "
                      "VALUES (?, ?, ?, 5, ?, ?)", (channel, code, f"{channel}-{code}", NOW,
                                                   ts(SINCE - timedelta(days=10 - i))))
    yield s
    s.close()


def order(store: Store, channel: str, external_id: str, updated: datetime, skus: list[str | None]) -> None:
    cur = store.execute("INSERT INTO orders (channel, external_id, status, created_at, modified_at, first_seen_at, "
                        "updated_at) VALUES (?, ?, 'paid', ?, ?, ?, ?)",
                        (channel, external_id, NOW, NOW, NOW, ts(updated)))
    for no, code in enumerate(skus, 1):
        store.execute("INSERT INTO order_lines (order_id, line_no, sku_code, external_sku_id, quantity) "
                      "VALUES (?, ?, ?, ?, 1)", (cur.lastrowid, no, code, None if code else "X9"))


def test_listings_sold_or_pushed_since_come_first_then_the_longest_unchecked(store):
    order(store, "jd", "j1", SINCE + timedelta(minutes=1), ["A"])        # another channel's sale
    order(store, "tb", "t1", SINCE + timedelta(minutes=1), ["B", None])  # sold here (and an unmatched line)
    order(store, "tb", "t0", SINCE - timedelta(minutes=1), ["C"])        # sold here, before the check
    order(store, "tb", "t2", SINCE, ["E"])                                # updated at the very moment: counts
    store.execute("UPDATE listings SET pushed_at = ? WHERE channel = 'tb' AND sku_code = 'D'",
                  (ts(SINCE + timedelta(seconds=5)),))
    chosen = [r["sku_code"] for r in listings.to_check(store, "tb", since=SINCE, limit=10)]
    assert chosen == ["B", "D", "E", "A", "C", "F"]
    recent = {r["sku_code"]: r["recent"] for r in listings.to_check(store, "jd", since=SINCE, limit=10)}
    assert recent["A"] == 1 and not any(recent[c] for c in "BCDEF")


def test_an_order_updated_since_makes_its_lines_recent_whenever_it_was_created(store):
    order(store, "tb", "old", SINCE - timedelta(days=3), ["C"])
    assert listings.to_check(store, "tb", since=SINCE, limit=1)[0]["sku_code"] == "A"
    store.execute("UPDATE orders SET status = 'shipped', updated_at = ? WHERE external_id = 'old'",
                  (ts(SINCE + timedelta(hours=1)),))
    assert listings.to_check(store, "tb", since=SINCE, limit=1)[0]["sku_code"] == "C"
