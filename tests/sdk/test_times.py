"""Platform times: ``sdk.times`` and the channel methods that use the declared zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from channelsync.sdk import Capabilities, Channel
from channelsync.sdk.times import BEIJING, format_time, parse_time

MOMENT = datetime(2021, 5, 7, 1, 20, 39, tzinfo=timezone.utc)  # 09:20:39 in Beijing


@pytest.mark.parametrize("value", ["2021-05-07 09:20:39", " 2021-05-07 09:20:39 ", "2021-05-07T09:20:39",
                                   "2021-05-07 09:20:39+0800", "2021-05-07 09:20:39.000+08:00",
                                   "2021-05-07T01:20:39Z", 1620350439, 1620350439.0,
                                   datetime(2021, 5, 7, 9, 20, 39)])
def test_every_form_is_the_same_instant_naive_ones_in_the_zone(value):
    parsed = parse_time(value, BEIJING)
    assert parsed == MOMENT and parsed.utcoffset() is not None


@pytest.mark.parametrize("value", ["07/05/2021 09:20", "", "yesterday", "1451620800000"])
def test_other_text_raises_value_error(value):
    with pytest.raises(ValueError):
        parse_time(value, BEIJING)


def test_format_writes_the_zone_s_wall_clock_to_the_second():
    assert format_time(MOMENT + timedelta(microseconds=999_999), BEIJING) == "2021-05-07 09:20:39"
    assert format_time(MOMENT) == "2021-05-07 01:20:39"
    assert parse_time(format_time(MOMENT, BEIJING), BEIJING) == MOMENT


class Shop(Channel):
    plugin = "shop"
    capabilities = Capabilities(timezone=BEIJING)


def test_a_channel_reads_and_writes_in_its_declared_zone():
    shop = Shop("s", {})
    try:
        assert shop.platform_time("2021-05-07 09:20:39") == MOMENT
        assert shop.platform_text(MOMENT) == "2021-05-07 09:20:39"
    finally:
        shop.close()
