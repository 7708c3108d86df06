"""API efficiency, counted in calls (behaviour, not timing): a burst costs
ceil(changed SKUs / batch size) stock calls per channel, nothing changed costs
no writes, the overlap costs list calls only, a resync reads each page once."""

import math
from collections import Counter

import pytest

from channelsync.testing.harness import Shop

CHANNELS = ("a", "b", "c", "d")
SKUS = 100


def counting(shop: Shop) -> Counter:
    """Count every adapter call the core makes, per (channel, method)."""
    calls: Counter = Counter()
    for name, lane in shop.lanes.items():
        for method in ("fetch_orders", "fetch_refunds", "set_stock", "set_prices", "list_listings", "read_stock",
                       "set_shelf", "update_listing", "publish"):
            real = getattr(lane.adapter, method)

            def counted(*args, _real=real, _key=(name, method), **kwargs):
                calls[_key] += 1
                return _real(*args, **kwargs)
            setattr(lane.adapter, method, counted)
    return calls


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {c: {} for c in CHANNELS})
    for c in CHANNELS:
        for i in range(SKUS):
            shop.platform(c).seed(f"S{i:03d}", 0, 1000)
    rows = "".join(f"P{i // 4},S{i:03d},10.00,50\n" for i in range(SKUS))
    shop.import_csv("product_code,sku_code,price,stock:main\n" + rows)
    shop.resync_all()
    shop.settle()
    yield shop
    shop.close()


def writes(calls: Counter, channel: str | None = None) -> int:
    return sum(n for (c, m), n in calls.items() if m in ("set_stock", "set_prices") and channel in (None, c))


def beyond_polls(calls: Counter) -> Counter:
    """Every call but the order polls' list calls (writes, reads of stock, listing pages)."""
    return Counter({k: n for k, n in calls.items() if k[1] not in ("fetch_orders", "fetch_refunds") and n})


def test_a_burst_costs_one_stock_call_per_batch_per_channel(shop):
    calls = counting(shop)
    sold = 45
    for i in range(sold):
        shop.platform("a").place_order([(f"S{i:03d}", 1)])
    shop.poll_all()
    shop.drain_all()
    batch = shop.lanes["b"].adapter.capabilities.stock_batch_size
    per_channel = math.ceil(sold / batch)
    # the channel that sold has nothing to be told (its platform took the units off itself)
    assert writes(calls, "a") == 0
    for c in ("b", "c", "d"):
        assert calls[(c, "set_stock")] == per_channel, calls
    assert writes(calls) <= 1.05 * 3 * per_channel
    # and nothing else: no read before a keyed increment, no listing page
    assert beyond_polls(calls) == Counter({(c, "set_stock"): per_channel for c in ("b", "c", "d")})
    for c in ("b", "c", "d"):
        assert shop.platform(c).stock("S000") == 49 and shop.platform(c).stock(f"S{sold:03d}") == 50


def test_nothing_changed_costs_no_writes_and_the_overlap_only_list_calls(shop):
    for i in range(60):  # orders inside every later poll's overlap window
        shop.platform("a").place_order([(f"S{i % SKUS:03d}", 1)])
    shop.settle()
    calls = counting(shop)
    for _ in range(3):
        shop.poll_all()
        shop.drain_all()
    assert beyond_polls(calls) == Counter(), calls  # not a write, not a read of stock
    page = shop.lanes["a"].adapter.capabilities.order_page_size
    # a re-read of the overlap is its pages of the order list, nothing per order
    assert calls[("a", "fetch_orders")] == 3 * math.ceil(60 / page)
    assert all(calls[(c, "fetch_orders")] == 3 for c in ("b", "c", "d"))


def test_a_daemon_poll_reads_from_the_cursor_and_the_sweep_reads_the_overlap(shop):
    for i in range(60):
        shop.platform("a").place_order([(f"S{i % SKUS:03d}", 1)])
    shop.settle()
    calls = counting(shop)
    runner = shop.runners["a"]
    assert runner.poll(overlap=False).orders_seen == 0  # nothing new since the cursor
    assert calls[("a", "fetch_orders")] == 1
    swept = runner.sweep()
    assert swept.orders_seen == 60 and swept.orders_changed == 0
    assert beyond_polls(calls) == Counter()


def test_a_resync_reads_each_page_once_and_pushes_nothing_when_in_step(shop):
    calls = counting(shop)
    reports = shop.resync_all()
    shop.drain_all()
    page = shop.lanes["a"].adapter.capabilities.listing_page_size
    for c in CHANNELS:
        assert calls[(c, "list_listings")] == math.ceil(SKUS / page)
        assert reports[c].seen == SKUS
    assert writes(calls) == 0, calls
