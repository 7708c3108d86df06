"""Report figures against values worked out by hand on a seeded set of orders (refunds, a return,
an unpaid and a cancelled order, a SKU without cost, orders either side of Beijing midnight)."""

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import catalog, report
from channelsync.engine.orders import ingest
from channelsync.sdk.models import Order, OrderLine
from channelsync.sdk.models import OrderStatus as S

SH = ZoneInfo("Asia/Shanghai")
CATALOG = """product_code,product_title,sku_code,sku_title,price,cost,bundle,stock:main
TEA,Green tea,TEA-01,龙井 250g,39.90,12.00,,100
CUP,Cup,CUP-01,,25.00,8.00,,100
MUG,Mug,MUG-01,,15.00,,,100
SET,Tea set,SET-01,,60.00,,TEA-01*1+CUP-01*2,
"""


def utc(y, mo, d, h, mi=0, s=0):
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def bj(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def L(sku, qty, yuan_fen):
    return OrderLine(sku, qty, price=yuan_fen)


def seed(store, config):
    catalog.sync_warehouses(store, config)
    catalog.import_csv(store, config, io.StringIO(CATALOG))
    tb, jd = config.channels["tb"], config.channels["jd"]

    def put(cfg, ext, created, *states, lines, total):
        for i, st in enumerate(states):
            ingest(store, config, cfg, [Order(ext, st, created, created.replace(second=i + 1), lines, total)])

    # the period 2026-11-09 .. 2026-11-10 (Beijing days)
    put(tb, "o1", bj(2026, 11, 9, 10), S.PAID, lines=[L("TEA-01", 2, 3990)], total=7980)
    put(tb, "o2", bj(2026, 11, 9, 23, 30), S.PAID, S.SHIPPED, lines=[L("CUP-01", 1, 2500)], total=2500)
    # 00:30 in Beijing is still 11-09 in UTC: it belongs to 11-10
    put(tb, "o3", bj(2026, 11, 10, 0, 30), S.PAID, S.COMPLETED,
        lines=[L("TEA-01", 1, 3990), L("CUP-01", 2, 2500)], total=8990)
    put(tb, "o4", bj(2026, 11, 10, 9), S.PAID, S.REFUNDED, lines=[L("TEA-01", 1, 3990)], total=3990)
    put(tb, "o5", bj(2026, 11, 10, 10), S.NEW, lines=[L("TEA-01", 1, 3990)], total=3990)
    put(jd, "j1", bj(2026, 11, 9, 12), S.PAID, S.SHIPPED, S.COMPLETED, S.REFUNDED,
        lines=[L("CUP-01", 3, 2500)], total=7500)  # a return
    put(jd, "j2", bj(2026, 11, 10, 12), S.PAID, lines=[L("MUG-01", 1, 1500)], total=1500)  # no cost known
    put(jd, "j3", bj(2026, 11, 10, 13), S.CANCELLED, lines=[L("TEA-01", 1, 3990)], total=3990)
    # the previous period 2026-11-07 .. 2026-11-08
    put(tb, "p1", bj(2026, 11, 8, 10), S.PAID, lines=[L("TEA-01", 1, 3990)], total=3990)
    put(jd, "p2", bj(2026, 11, 7, 10), S.PAID, lines=[L("CUP-01", 1, 2500)], total=2500)
    # outside both: a second before 11-07 00:00 Beijing, and 11-11 00:00 Beijing
    put(tb, "x1", utc(2026, 11, 6, 15, 59, 59), S.PAID, lines=[L("TEA-01", 9, 3990)], total=35910)
    put(tb, "x2", utc(2026, 11, 10, 16), S.PAID, lines=[L("TEA-01", 9, 3990)], total=35910)


@pytest.fixture
def config(tmp_path):
    return Config(path=None, db_path=tmp_path / "cs.db", channels={
        "tb": ChannelConfig("tb", "fake", display_name="天猫旗舰店"),
        "jd": ChannelConfig("jd", "fake", display_name="京东自营")})


@pytest.fixture
def data(store, config):
    seed(store, config)
    period = report.make_period("day", SH, date(2026, 11, 10), count=2)
    return report.build(store, config, period, top=10)


def section(data, name):
    return next(s for s in data["channels"] + [data["total"]] if s["name"] == name)


def test_channel_totals_match_the_hand_computed_figures(data):
    tb = section(data, "天猫旗舰店")["total"]
    assert (tb["orders"], tb["valid_orders"], tb["valid_rate"]) == (5, 3, 0.6)
    assert (tb["sales"], tb["cost"], tb["gross_profit"], tb["aov"]) == (19470, 6000, 13470, 6490)
    assert tb["margin"] == 0.6918  # 13470 / 19470
    assert (tb["refunded_orders"], tb["refund_rate"], tb["returned_orders"], tb["return_rate"]) == (1, 0.25, 0, 0.0)
    jd = section(data, "京东自营")["total"]
    assert (jd["orders"], jd["valid_orders"], jd["sales"], jd["cost"], jd["lines_without_cost"]) == (3, 1, 1500, 0, 1)
    assert (jd["refund_rate"], jd["return_rate"], jd["margin"]) == (0.5, 0.5, 1.0)


def test_the_total_and_the_previous_period(data):
    total = data["total"]["total"]
    assert (total["orders"], total["valid_orders"], total["valid_rate"], total["sales"]) == (8, 4, 0.5, 20970)
    assert (total["gross_profit"], total["margin"], total["aov"]) == (14970, 0.7139, 5243)  # 5242.5 rounds up
    assert (total["refund_rate"], total["return_rate"]) == (0.3333, 0.1667)
    assert data["previous_period"] == {"from": "2026-11-07", "to": "2026-11-08"}
    assert section(data, "天猫旗舰店")["previous"]["sales"] == 3990
    assert section(data, "京东自营")["previous"]["sales"] == 2500
    assert data["total"]["previous"]["orders"] == 2


def test_days_are_cut_at_midnight_in_the_report_time_zone(data):
    days = {b["start"]: b for b in section(data, "天猫旗舰店")["buckets"]}
    assert list(days) == ["2026-11-09", "2026-11-10"]
    assert (days["2026-11-09"]["orders"], days["2026-11-09"]["sales"]) == (2, 10480)
    assert (days["2026-11-10"]["orders"], days["2026-11-10"]["valid_orders"], days["2026-11-10"]["sales"]) == (3, 1, 8990)


def test_top_skus_count_units_on_valid_orders_only(data):
    assert [(t["sku"], t["units"], t["sales"], t["previous_units"]) for t in data["top_skus"]] == [
        ("TEA-01", 3, 11970, 1), ("CUP-01", 3, 7500, 1), ("MUG-01", 1, 1500, 0)]
    assert data["top_skus"][0]["title"] == "龙井 250g"
    tb, jd = section(data, "天猫旗舰店")["top_skus"], section(data, "京东自营")["top_skus"]
    assert [(t["sku"], t["units"], t["previous_units"]) for t in tb] == [("TEA-01", 3, 1), ("CUP-01", 3, 0)]
    assert [(t["sku"], t["units"]) for t in jd] == [("MUG-01", 1)]  # j1's CUP-01 came back: not sold


def test_weeks_run_monday_to_sunday(store, config):
    seed(store, config)
    period = report.make_period("week", SH, date(2026, 11, 10), count=1)
    assert (period.start, period.end) == (date(2026, 11, 9), date(2026, 11, 15))
    data = report.build(store, config, period)
    # the week also holds x2 (11-11 00:00 Beijing): 9 more units of TEA-01
    assert data["total"]["total"]["orders"] == 9
    assert data["total"]["previous"]["orders"] == 3  # p1, p2 and x1 fall in 11-02 .. 11-08


def test_a_bundle_without_its_own_cost_costs_its_components(store, config):
    seed(store, config)
    assert report.unit_costs(store)["SET-01"] == 1200 + 2 * 800
    assert report.unit_costs(store)["MUG-01"] is None


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="starts"):
        report.make_period("day", SH, date(2026, 11, 10), start=date(2026, 11, 12), end=date(2026, 11, 10))


def test_a_channel_no_longer_configured_still_counts_in_the_total(store, config):
    seed(store, config)
    data = report.build(store, replace(config, channels={"tb": config.channels["tb"]}),
                        report.make_period("day", SH, date(2026, 11, 10), count=2))
    assert [s["channel"] for s in data["channels"]] == ["tb", "jd"]
    assert section(data, "jd")["total"]["orders"] == 3 and data["total"]["total"]["orders"] == 8
