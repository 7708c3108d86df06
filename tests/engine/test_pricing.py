"""pricing: markup, rounding, overrides, promotions and the cost floor, all in integer fen."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from channelsync.engine.pricing import (PriceDecision, channel_price, decide_price, floor_price, promotion_boundaries,
                                        round_to_ending)
from channelsync.config.settings import ChannelConfig, PriceRules, Promotion, SkuOverride

CST = timezone(timedelta(hours=8))
NOON = datetime(2026, 6, 1, 12, tzinfo=CST)


def channel(name="tb", overrides=None, **rules) -> ChannelConfig:
    return ChannelConfig(name=name, plugin="fake", price=PriceRules(**rules), overrides=overrides or {})


def price(base, ch, cost=None, promotions=(), at=NOON, sku="SKU-1") -> int:
    return channel_price(sku, base, cost, ch, promotions, at).price


def test_no_rules_keeps_the_base_price():
    assert channel_price("SKU-1", 1234, None, channel(), [], NOON) == PriceDecision(
        price=1234, floored=False, floor=0, reason="SKU-1 on tb: 12.34 from base 12.34", promotion=None)


@pytest.mark.parametrize("base, rules, expected", [
    (1000, dict(markup_percent=Decimal(10)), 1100),
    (1000, dict(markup_fixed=50), 1050),
    (1000, dict(markup_percent=Decimal(10), markup_fixed=50), 1150),      # percent first, then fixed
    (1005, dict(markup_percent=Decimal(10)), 1106),                        # 1105.5 rounds half up
    (1004, dict(markup_percent=Decimal(10)), 1104),                        # 1104.4 rounds down
    (999, dict(markup_percent=Decimal("0.1")), 1000),                      # 999.999: exact decimal, no float drift
    (1234, dict(round_ending=90), 1290),
    (1290, dict(round_ending=90), 1290),                                   # already ends in .90
    (1295, dict(round_ending=90), 1390),                                   # past .90: next yuan
    (1201, dict(round_ending=0), 1300),
    (1000, dict(markup_percent=Decimal(15), round_ending=99), 1199),       # 1150 -> 11.99
])
def test_markup_and_rounding(base, rules, expected):
    assert price(base, channel(**rules)) == expected


def test_round_to_ending_is_the_smallest_price_at_or_above():
    for p in range(0, 1000):
        for ending in (0, 9, 90, 99):
            r = round_to_ending(p, ending)
            assert r >= p and r % 100 == ending and r - p < 100


def test_override_replaces_the_markup_and_still_rounds_and_floors():
    ch = channel(overrides={"SKU-1": SkuOverride(price=1500), "SKU-2": SkuOverride(buffer=3)},
                 markup_percent=Decimal(50), round_ending=90, min_margin_percent=Decimal(10))
    assert price(1200, ch, sku="SKU-1") == 1590           # override, then rounding: no markup
    assert price(1200, ch, sku="SKU-2") == 1890           # override without a price: markup 1800 -> 18.90
    assert price(1200, ch, sku="SKU-3") == 1890
    assert price(1200, channel(overrides={"SKU-1": SkuOverride(price=1500)}, markup_percent=Decimal(50)),
                 sku="SKU-1") == 1500
    decision = channel_price("SKU-1", 1200, 1500, ch, [], NOON)
    assert (decision.price, decision.floored, decision.floor) == (1650, True, 1650)


def promo(name="11.11", start=datetime(2026, 11, 11, tzinfo=CST), days=1, **kw) -> Promotion:
    return Promotion(name=name, starts=start, ends=start + timedelta(days=days), **kw)


def test_promotion_switches_on_and_off_at_its_boundaries():
    p = promo(percent_off=Decimal(20))
    ch = channel(round_ending=90)
    start, end = p.starts, p.ends
    assert price(1234, ch, promotions=[p], at=start - timedelta(microseconds=1)) == 1290
    on = channel_price("SKU-1", 1234, None, ch, [p], start)                # starts is inclusive
    assert (on.price, on.promotion) == (1032, "11.11")                     # 1290 * 0.8, no re-rounding to .90
    assert price(1234, ch, promotions=[p], at=end - timedelta(microseconds=1)) == 1032
    off = channel_price("SKU-1", 1234, None, ch, [p], end)                 # ends is exclusive
    assert (off.price, off.promotion) == (1290, None)
    # the same instant in another zone is the same instant
    assert price(1234, ch, promotions=[p], at=start.astimezone(timezone.utc)) == 1032
    assert price(1234, ch, promotions=[p], at=(start - timedelta(seconds=1)).astimezone(timezone.utc)) == 1290


def test_percent_off_rounds_half_up():
    at = datetime(2026, 11, 11, 1, tzinfo=CST)
    assert price(1005, channel(), promotions=[promo(percent_off=Decimal(10))], at=at) == 905  # 904.5
    assert price(999, channel(), promotions=[promo(percent_off=Decimal("12.5"))], at=at) == 874  # 874.125


def test_promotion_matches_channel_and_sku():
    at = datetime(2026, 11, 11, 8, tzinfo=CST)
    p = promo(price=500, channels=("jd",), skus=("SKU-1",))
    assert price(1000, channel("jd"), promotions=[p], at=at, sku="SKU-1") == 500
    assert price(1000, channel("tb"), promotions=[p], at=at, sku="SKU-1") == 1000
    assert price(1000, channel("jd"), promotions=[p], at=at, sku="SKU-2") == 1000


def test_lowest_of_several_promotions_wins():
    at = datetime(2026, 11, 11, 8, tzinfo=CST)
    promotions = [promo("shop-wide", percent_off=Decimal(10)), promo("deal", price=850),
                  promo("big", percent_off=Decimal(20))]
    decision = channel_price("SKU-1", 1000, None, channel(), promotions, at)
    assert (decision.price, decision.promotion) == (800, "big")
    decision = channel_price("SKU-1", 1000, None, channel(), promotions[:2], at)
    assert (decision.price, decision.promotion) == (850, "deal")


def test_fixed_promotion_price_replaces_the_price():
    at = datetime(2026, 11, 11, 8, tzinfo=CST)
    ch = channel(markup_percent=Decimal(10), round_ending=90)
    assert price(1000, ch, promotions=[promo(price=999)], at=at) == 999


def test_floor_refuses_to_go_below_cost_plus_margin_and_says_so():
    at = datetime(2026, 11, 11, 8, tzinfo=CST)
    ch = channel(min_margin_percent=Decimal(5))
    decision = channel_price("SKU-1", 1200, 1000, ch, [promo(price=990)], at)
    assert decision == PriceDecision(
        price=1050, floored=True, floor=1050, promotion="11.11",
        reason="SKU-1 on tb: 9.90 with promotion 11.11 would sell below cost + 5% margin (10.50); using 10.50")
    # at or above the floor nothing changes
    ok = channel_price("SKU-1", 1050, 1000, ch, [], at)
    assert (ok.price, ok.floored, ok.floor) == (1050, False, 1050)
    below = channel_price("SKU-1", 1049, 1000, ch, [], at)
    assert (below.price, below.floored) == (1050, True)
    assert below.reason == "SKU-1 on tb: 10.49 would sell below cost + 5% margin (10.50); using 10.50"
    # unknown cost: no floor at all
    free = channel_price("SKU-1", 1200, None, ch, [promo(price=1)], at)
    assert (free.price, free.floored, free.floor) == (1, False, 0)


def test_floor_rounds_up_to_the_fen():
    assert floor_price(999, Decimal(5)) == 1049        # 1048.95
    assert floor_price(1001, Decimal(5)) == 1052       # 1051.05: up, never to the nearest
    assert floor_price(1000, Decimal("12.5")) == 1125
    assert floor_price(1001, Decimal(0)) == 1001
    decision = channel_price("SKU-9", 100, 999, channel("jd", min_margin_percent=Decimal("12.5")), [], NOON)
    assert decision.price == decision.floor == 1124    # 1123.875 up
    assert decision.reason == "SKU-9 on jd: 1.00 would sell below cost + 12.5% margin (11.24); using 11.24"


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        channel_price("SKU-1", 1000, None, channel(), [], datetime(2026, 11, 11))
    with pytest.raises(ValueError, match="timezone"):
        promotion_boundaries([], datetime(2026, 1, 1), NOON)


def test_promotion_boundaries_in_half_open_interval():
    a = promo("a", start=datetime(2026, 11, 11, tzinfo=CST), days=1, percent_off=Decimal(10))
    b = promo("b", start=datetime(2026, 11, 11, 12, tzinfo=CST), days=1, price=100)
    c = promo("c", start=a.ends, days=2, price=100)     # starts exactly when a ends: one boundary, reported once
    everything = [a, b, c]
    assert promotion_boundaries(everything, datetime(2026, 1, 1, tzinfo=CST), datetime(2027, 1, 1, tzinfo=CST)) == [
        a.starts, b.starts, a.ends, b.ends, c.ends]
    # (after, until]: the left end is excluded, the right end included
    assert promotion_boundaries(everything, a.starts, b.starts) == [b.starts]
    assert promotion_boundaries(everything, a.starts - timedelta(seconds=1), a.starts) == [a.starts]
    assert promotion_boundaries(everything, b.starts, a.ends - timedelta(seconds=1)) == []
    # consecutive scheduler intervals see each boundary exactly once
    t, seen = datetime(2026, 11, 10, tzinfo=timezone.utc), []
    while t < datetime(2026, 11, 15, tzinfo=timezone.utc):
        seen += promotion_boundaries(everything, t, t + timedelta(hours=1))
        t += timedelta(hours=1)
    assert seen == [a.starts, b.starts, a.ends, b.ends, c.ends]


class Lines:
    """A logger that keeps its lines (debug on or off)."""

    def __init__(self, debug: bool) -> None:
        self.debug_on, self.lines = debug, []

    def is_enabled_for(self, level: int) -> bool:
        return self.debug_on or level > logging.DEBUG

    def warning(self, event, **kw):
        self.lines.append(("warning", event, kw["reason"]))

    def debug(self, event, **kw):
        self.lines.append(("debug", event, kw["reason"]))


@pytest.mark.parametrize("debug", [False, True])
def test_a_resync_decides_the_same_price_and_logs_the_same_sentence_only_when_written(debug):
    """``decide_price`` (a resync's, one per listing) gives ``channel_price``'s price and logs
    its reason: a floored price's warning always, the debug line only with debug on."""
    at = datetime(2026, 11, 11, 8, tzinfo=CST)
    ch = channel(overrides={"SKU-2": SkuOverride(price=1500)}, markup_percent=Decimal(10), round_ending=90,
                 min_margin_percent=Decimal(5))
    config = SimpleNamespace(promotions=[promo(percent_off=Decimal(50))])
    for sku, base, cost in (("SKU-1", 1200, None), ("SKU-2", 1200, 100), ("SKU-1", 1200, 1000), ("SKU-3", 1, 0)):
        log = Lines(debug)
        decision = channel_price(sku, base, cost, ch, config.promotions, at)
        assert decide_price(config, ch, sku, base, cost, at, log) == decision.price
        kind = "warning" if decision.floored else "debug"
        event = "price_floored" if decision.floored else "price_decided"
        assert log.lines == ([(kind, event, decision.reason)] if decision.floored or debug else [])
