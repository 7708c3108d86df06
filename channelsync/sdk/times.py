"""Platform times, read and written one way for every plugin.

Platforms write times as epoch seconds or as text, often without a zone (Taobao,
JD, WeChat and Pinduoduo mean Beijing time, ``BEIJING``). A channel method reads
one with ``Channel.platform_time`` and writes one with ``Channel.platform_text``,
both in its declared ``Capabilities.timezone``; code without a channel at hand
(a translation module, the gateway side of a router, a simulator, an intake
receiver) calls ``parse_time`` and ``format_time`` here with the zone::

    created = parse_time(info["created_time"], BEIJING)   # "2024-11-11 00:00:01" -> aware
    params["start_date"] = format_time(since, BEIJING)     # aware -> "2024-11-11 00:00:01"
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

#: China Standard Time (no daylight saving, so a fixed offset): the zone Taobao, JD, WeChat
#: and Pinduoduo write their naive times in; a plugin declares it as ``Capabilities.timezone``.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

#: ``2016-01-01 12:00:00``: how Taobao, JD and Pinduoduo write a time (naive, in their zone)
PLAIN = "%Y-%m-%d %H:%M:%S"

__all__ = ["BEIJING", "PLAIN", "format_time", "parse_time"]


def parse_time(value: str | int | float | datetime, zone: tzinfo = timezone.utc) -> datetime:
    """A platform time as an aware datetime: epoch seconds (a number), or ISO-8601 /
    ``YYYY-MM-DD HH:MM:SS`` text, with or without fractions and an offset (``+0800``,
    ``+08:00``, ``Z``). Naive text, or a naive datetime, is read in ``zone``; an aware
    one keeps its offset. Raises ``ValueError`` on anything else (a translation
    error the core reports as ``UnexpectedPayload``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def format_time(moment: datetime, zone: tzinfo = timezone.utc) -> str:
    """``moment`` (aware) in ``zone`` as ``YYYY-MM-DD HH:MM:SS``, to the second."""
    return moment.astimezone(zone).strftime(PLAIN)
