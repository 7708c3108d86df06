"""Two polls of one channel can overlap (the worker's and a push thread's read-and-poll).
One that started earlier may commit later: the order cursor never moves back, or a
platform read taken between the two would wait a whole poll interval to be settled."""

import threading
from dataclasses import replace

import pytest

from channelsync.engine import channels, listings
from channelsync.store import Store
from channelsync.sync.runner import ChannelRunner
from channelsync.testing.harness import Shop


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {"a": {}})
    shop.platform("a").seed("A", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,10\n")
    shop.resync_all()
    shop.settle()
    yield shop
    shop.close()


def test_a_poll_that_commits_after_a_later_one_leaves_the_cursor_where_the_later_put_it(shop):
    lane, runner = shop.lanes["a"], shop.runners["a"]
    in_fetch, go_on = threading.Event(), threading.Event()
    real_fetch = lane.adapter.fetch_orders
    early = None  # the thread of the early poll

    def fetch_orders(since, until, token):
        if threading.current_thread() is early:  # the early poll: its window ends before the read
            in_fetch.set()
            go_on.wait(30)
        return real_fetch(since, until, token)

    lane.adapter.fetch_orders = fetch_orders

    def poll_early():
        store = Store(shop.config.db_path)
        try:
            ChannelRunner(replace(lane, store=store)).poll(overlap=False)
        finally:
            store.close()

    slow = threading.Thread(target=poll_early)
    early = slow
    slow.start()
    assert in_fetch.wait(30)
    shop.platform("a").set_stock_by_hand("A", 500)  # a seller-centre edit...
    assert runner.drift.read(force=True) == 1       # ...read after the early poll's window ended

    # The late poll (the read's own) commits its cursor, and before it settles the early poll
    # commits its own, older, end: the read must still be settled, by one poll or the other.
    real_answered = runner._answered

    def answered(probe):
        go_on.set()
        slow.join(30)
        return real_answered(probe)

    runner._answered = answered
    runner.poll(overlap=False)
    assert not slow.is_alive()
    assert shop.store.scalar("SELECT read_qty FROM listings WHERE channel = 'a' AND sku_code = 'A'") is None, \
        "the read was left pending: the early poll moved the cursor back"
    assert [d["seen"] for d in listings.drift_summary(shop.store, "a")["latest"]] == [500]
    shop.settle()
    assert shop.platform("a").stock("A") == 10  # repaired


def test_the_cursor_only_moves_forward(shop):
    now = channels.cursor(shop.store, "a")
    with shop.store.write():
        channels.move_cursor(shop.store, "a", now.replace(year=now.year - 1))
    assert channels.cursor(shop.store, "a") == now
