"""The scripted scenario of the core issue, and the stock semantics around it."""

from decimal import Decimal

import pytest

from channelsync.testing.harness import Shop

CATALOG = """product_code,product_title,sku_code,price,cost,stock:main
TEA,Green tea,TEA-01,39.90,12.00,10
TEA,Green tea,TEA-02,59.90,20.00,4
"""


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {"a": {}, "b": {}})
    for name in ("a", "b"):
        shop.platform(name).seed("TEA-01", 0, 3990)
        shop.platform(name).seed("TEA-02", 0, 5990)
    shop.import_csv(CATALOG)
    shop.resync_all()
    shop.settle()
    yield shop
    shop.close()


def pushes_to(shop, name):
    return len(shop.platform(name).told)


def test_resync_links_and_pushes_targets(shop):
    for name in ("a", "b"):
        assert shop.platform(name).stock("TEA-01") == 10
        assert shop.platform(name).stock("TEA-02") == 4
        assert shop.expected(name, "TEA-01") == 10


def test_order_on_one_channel_lowers_the_other_and_cancel_restores(shop):
    told_a = pushes_to(shop, "a")
    order = shop.platform("a").place_order([("TEA-01", 3)])
    assert shop.platform("a").stock("TEA-01") == 7  # the platform took its own sale off
    shop.settle()
    assert shop.platform("b").stock("TEA-01") == 7  # the other channel dropped
    assert pushes_to(shop, "a") == told_a, "a channel's own order must cause no push to it"
    assert shop.expected("a", "TEA-01") == 7

    shop.platform("a").cancel(order.order_id)
    assert shop.platform("a").stock("TEA-01") == 10  # the platform put the units back itself
    shop.settle()
    assert shop.platform("b").stock("TEA-01") == 10
    assert pushes_to(shop, "a") == told_a
    assert shop.store.scalar("SELECT status FROM orders WHERE external_id = ?", (order.order_id,)) == "cancelled"


def test_shipment_turns_reservation_into_ledger_row(shop):
    order = shop.platform("b").place_order([("TEA-02", 2)])
    shop.settle()
    assert shop.platform("a").stock("TEA-02") == 2
    shop.platform("b").ship(order.order_id, "SF", "SF1")
    shop.settle()
    on_hand = shop.store.scalar("SELECT on_hand FROM stock WHERE sku_code = 'TEA-02'")
    ledger = shop.store.scalar("SELECT SUM(delta) FROM stock_movements WHERE sku_code = 'TEA-02'")
    assert on_hand == ledger == 2
    assert shop.platform("a").stock("TEA-02") == 2  # availability unchanged by the shipment itself


def test_reingesting_the_same_orders_changes_nothing(shop):
    shop.platform("a").place_order([("TEA-01", 1)])
    shop.settle()
    before = shop.store.query("SELECT channel, sku_code, expected FROM listings ORDER BY 1, 2")
    shop.store.execute("UPDATE channels SET order_cursor = NULL")  # forget where we were: read it all again
    shop.settle()
    assert shop.store.query("SELECT channel, sku_code, expected FROM listings ORDER BY 1, 2") == before
    assert shop.store.scalar("SELECT COUNT(*) FROM orders") == 1


def test_buffer_and_share_and_zero_below(tmp_path):
    shop = Shop(tmp_path, {"a": {"share": Decimal("0.5"), "buffer": 1, "zero_below": 3}})
    shop.platform("a").seed("X", 0, 100)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,X,1.00,9\n")
    shop.resync_all()
    shop.settle()
    assert shop.platform("a").stock("X") == 3  # floor(9 * 0.5) - 1
    shop.store.execute("UPDATE stock SET on_hand = 3")  # below zero_below: nothing shown
    from channelsync.engine import catalog
    catalog.change_stock(shop.store, shop.config, "X", "main", set_to=3)
    shop.settle()
    assert shop.platform("a").stock("X") == 0
    shop.close()


def test_bundle_availability_and_reservation(tmp_path):
    shop = Shop(tmp_path, {"a": {}, "b": {}})
    for name in ("a", "b"):
        for code in ("CUP", "TEA", "GIFT"):
            shop.platform(name).seed(code, 0, 100)
    shop.import_csv("product_code,sku_code,price,bundle,stock:main\n"
                    "P,CUP,1.00,,5\nP,TEA,1.00,,9\nG,GIFT,3.00,CUP*1+TEA*2,\n")
    shop.resync_all()
    shop.settle()
    assert shop.platform("b").stock("GIFT") == 4  # min(5/1, 9/2)
    shop.platform("a").place_order([("GIFT", 2)])
    shop.settle()
    assert shop.platform("b").stock("CUP") == 3
    assert shop.platform("b").stock("TEA") == 5
    assert shop.platform("b").stock("GIFT") == 2
    assert shop.platform("a").stock("GIFT") == 2  # the platform's own subtraction, no push needed
    shop.close()


def test_permanent_failure_is_parked_and_does_not_block_others(shop):
    shop.platform("b").skus.pop(shop.platform("b").find("TEA-01").external_id)  # deleted in the seller centre
    shop.platform("a").place_order([("TEA-01", 1), ("TEA-02", 1)])
    shop.settle()
    failed = shop.store.query("SELECT sku_code, last_error FROM outbox WHERE status = 'failed'")
    assert [f["sku_code"] for f in failed] == ["TEA-01"]
    assert "no SKU" in failed[0]["last_error"]
    assert shop.platform("b").stock("TEA-02") == 3  # the good record went through


def test_transient_failure_is_retried_with_same_key(shop):
    shop.platform("a").place_order([("TEA-01", 2)])
    shop.poll_all()
    shop.platform("b").inject("error_5xx", count=1)
    shop.runners["b"].drain()
    row = shop.store.one("SELECT * FROM outbox WHERE channel = 'b'")
    assert row["attempts"] == 1 and "error_5xx" in row["last_error"]
    assert row["inflight_key"], "a call that may have applied keeps its key"
    key = row["inflight_key"]
    shop.store.execute("UPDATE outbox SET next_at = '2000-01-01T00:00:00.000000+00:00'")  # back-off elapsed
    shop.runners["b"].drain()
    assert key in shop.platform("b").keys
    assert shop.platform("b").stock("TEA-01") == 8
    assert shop.store.scalar("SELECT COUNT(*) FROM outbox") == 0


def test_decrement_racing_a_sale_never_puts_sold_units_back(shop):
    """A platform floors an over-large decrement at 0; the sale it raced must not come back."""
    from channelsync.engine import catalog

    catalog.change_stock(shop.store, shop.config, "TEA-02", "main", set_to=1)  # target 4 -> 1
    shop.platform("a").place_order([("TEA-02", 4)])  # a buyer takes all 4 before the push lands
    shop.runners["a"].drain()  # delta -3 on a platform showing 0: floored at 0
    assert shop.platform("a").stock("TEA-02") == 0
    shop.settle()  # the order is ingested: 4 reserved of 1 on hand
    assert shop.platform("a").stock("TEA-02") == 0
    assert shop.platform("b").stock("TEA-02") == 0
    assert shop.expected("a", "TEA-02") == 0


def test_order_first_seen_cancelled_after_a_floored_decrement(shop):
    """Found by the state machine: the put-back of a sale absorbed by a floored decrement is real."""
    from channelsync.engine import catalog

    order = shop.platform("a").place_order([("TEA-02", 4)])  # unseen: a shows 0
    catalog.change_stock(shop.store, shop.config, "TEA-02", "main", set_to=0)
    shop.runners["a"].drain()  # delta -4 floored at 0 on a
    shop.platform("a").cancel(order.order_id)  # a puts the 4 back: shows 4
    shop.settle()
    assert shop.platform("a").stock("TEA-02") == 0  # target 0: the 4 put back are taken off again


def test_refund_after_an_unseen_shipment_books_the_shipment(shop):
    """Found by the state machine: goods that left must leave the ledger too."""
    order = shop.platform("a").place_order([("TEA-02", 2)])
    shop.settle()
    shop.platform("a").ship(order.order_id, "SF", "SF9")
    shop.platform("a").refund(order.order_id)  # refunded after shipment, before we saw "shipped"
    shop.settle()
    assert shop.store.scalar("SELECT SUM(on_hand) FROM stock WHERE sku_code = 'TEA-02'") == 2
    assert shop.platform("b").stock("TEA-02") == 2
    assert shop.platform("a").stock("TEA-02") == 2


@pytest.mark.parametrize("reads", [False, True], ids=["blind", "reads"])
def test_absolute_channel_sale_erased_by_our_set_is_taken_off_again(tmp_path, reads):
    """An absolute set that lands just after an unseen sale erases it on the platform; the
    ingest of that sale must lead to the target being set again (found by the JD e2e test).
    A channel that can be read keeps the unseen sale off in the first place."""
    from channelsync.engine import catalog

    shop = Shop(tmp_path, {"abs": {"stock_mode": "absolute", "read_stock": reads}, "other": {}})
    for name in ("abs", "other"):
        shop.platform(name).seed("X", 0, 100)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,X,1.00,10\n")
    shop.resync_all()
    shop.settle()
    catalog.change_stock(shop.store, shop.config, "X", "main", set_to=8)
    shop.platform("abs").place_order([("X", 3)])  # platform 7, unseen
    shop.runners["abs"].drain()  # blind, absolute 8: the sale is erased; read: min(8, 7 + 8 - 10) = 5
    assert shop.platform("abs").stock("X") == (5 if reads else 8)
    shop.settle()
    assert shop.platform("abs").stock("X") == 5
    assert shop.platform("other").stock("X") == 5
    shop.close()
