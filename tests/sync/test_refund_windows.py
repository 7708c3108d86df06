"""Order and refund polling have their own window limits: a short after-sale window (WeChat:
24 h) is cut inside each order window and never shortens the order window itself."""

from dataclasses import replace
from datetime import timedelta

from channelsync.config.settings import ChannelConfig
from channelsync.sdk.channel import Capabilities
from channelsync.sdk.models import Page
from channelsync.sync.paging import order_windows
from channelsync.testing.harness import Shop


def test_refund_windows_are_cut_inside_each_order_window(tmp_path):
    shop = Shop(tmp_path, {"a": {"initial_lookback": 2 * 86400.0, "order_overlap": 0.0}})
    try:
        adapter = shop.lanes["a"].adapter
        adapter.capabilities = replace(adapter.capabilities, max_order_window=timedelta(days=1),
                                       max_refund_window=timedelta(hours=6))
        seen = {"orders": [], "refunds": []}
        real_orders = adapter.fetch_orders

        def orders(since, until, token):
            seen["orders"].append((since, until))
            return real_orders(since, until, token)

        def refunds(since, until, token):
            seen["refunds"].append((since, until))
            return Page([], None)

        adapter.fetch_orders, adapter.fetch_refunds = orders, refunds
        assert shop.runners["a"].poll().error is None
        assert len(seen["orders"]) in (2, 3)  # two days (plus a sliver): whole-day order windows
        assert all(end - start <= timedelta(days=1) for start, end in seen["orders"])
        assert all(end - start <= timedelta(hours=6) for start, end in seen["refunds"])
        # the refund windows tile the order windows exactly: nothing skipped, nothing read twice
        assert seen["refunds"][0][0] == seen["orders"][0][0] and seen["refunds"][-1][1] == seen["orders"][-1][1]
        assert all(a[1] == b[0] for a, b in zip(seen["refunds"], seen["refunds"][1:]))
        assert len(seen["refunds"]) >= 8
    finally:
        shop.close()


def test_the_channels_config_can_only_shorten_the_platforms_limits():
    caps = Capabilities(max_order_window=timedelta(days=7), max_refund_window=timedelta(hours=24))
    assert order_windows(caps, ChannelConfig("w", "wechat")) == (timedelta(days=7), timedelta(hours=24))
    shorter = ChannelConfig("w", "wechat", order_window=3600.0, refund_window=600.0)
    assert order_windows(caps, shorter) == (timedelta(hours=1), timedelta(minutes=10))
    longer = ChannelConfig("w", "wechat", order_window=30 * 86400.0, refund_window=7 * 86400.0)
    assert order_windows(caps, longer) == (timedelta(days=7), timedelta(hours=24))
    # no refund limit of its own: the order window's; a refund window never exceeds the order window
    assert order_windows(Capabilities(max_order_window=timedelta(hours=2)), ChannelConfig("x", "fake")) == (
        timedelta(hours=2), timedelta(hours=2))
