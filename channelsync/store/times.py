"""Time as the store keeps it: timezone-aware, UTC ISO-8601 text whose order is time order."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def ts(dt: datetime | None) -> str | None:
    """Stored form of a time: UTC ISO-8601 with microseconds, so text order is time order."""
    if dt is None:
        return None
    if dt.tzinfo is not timezone.utc:  # already UTC (most times): no converted copy (an ingest makes thousands)
        if dt.tzinfo is None:
            raise ValueError(f"naive datetime {dt!r}: channelsync stores only timezone-aware times")
        dt = dt.astimezone(timezone.utc)
    return dt.isoformat(timespec="microseconds")


def parse_ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
