"""Wire helpers shared by the simulator's parts: WooCommerce's error object, paging, dates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

from channelsync.sim.simulator import Request, Response
from channelsync_ownsite import api
from channelsync_ownsite.errors import INVALID_PARAM

#: the sandbox shop's WordPress time zone (Settings > General): China, so a client
#: that forgets ``dates_are_gmt=true`` is eight hours off and a test notices.
SITE_OFFSET = timedelta(hours=8)


class WooError(Exception):
    """Raised inside a handler; becomes WooCommerce's error object with that HTTP status."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def response(self) -> Response:
        return error(self.status, self.code, self.message, **self.data)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


def error(status: int, code: str, message: str, **data: Any) -> Response:
    """``{"code", "message", "data": {"status"}}`` with that HTTP status, as WordPress answers."""
    return Response(status, {"code": code, "message": message, "data": {"status": status, **data}})


def invalid_param(name: str, reason: str) -> WooError:
    """WordPress's answer to a parameter failing its schema."""
    return WooError(400, INVALID_PARAM, f"Invalid parameter(s): {name}", params={name: reason})


def int_param(req: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} (inclusive) and {high} (inclusive)" if high else f"greater than or equal to {low}"
        raise invalid_param(name, f"{name} must be {bound}")
    return value


def choice_param(req: Request, name: str, default: str, allowed: Sequence[str]) -> str:
    value = req.query.get(name, default) or default
    if value not in allowed:
        raise invalid_param(name, f"{name} is not one of {', '.join(allowed)}.")
    return value


def paged(req: Request, rows: list, render: Callable[[Any], dict[str, Any]] | None = None) -> Response:
    """One page of ``rows`` with ``X-WP-Total`` / ``X-WP-TotalPages``; ``per_page`` <= 100.
    ``render`` turns the page's rows into their JSON (rendering every row was quadratic in a listing)."""
    per_page = int_param(req, "per_page", 10, 1, api.MAX_PER_PAGE)
    page = int_param(req, "page", 1, 1)
    total = len(rows)
    pages = (total + per_page - 1) // per_page
    start = (page - 1) * per_page
    chunk = rows[start:start + per_page]
    return Response(200, [render(r) for r in chunk] if render else chunk,
                    {api.TOTAL_HEADER: str(total), api.TOTAL_PAGES_HEADER: str(pages)})


def date_param(req: Request, name: str) -> datetime | None:
    """An ISO 8601 query date as aware UTC; without a zone it is GMT when
    ``dates_are_gmt`` is true and the site's local time otherwise, as WooCommerce reads it."""
    raw = req.query.get(name)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_param(name, "Invalid date.") from None
    if parsed.tzinfo is None:
        gmt = req.query.get("dates_are_gmt", "false").lower() in ("1", "true")
        parsed = parsed.replace(tzinfo=timezone.utc) - (timedelta(0) if gmt else SITE_OFFSET)
    return parsed.astimezone(timezone.utc)


def seconds(moment: datetime) -> datetime:
    """WooCommerce stores dates to the second."""
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def gmt_text(moment: datetime | None) -> str | None:
    """``date_*_gmt``: UTC, no zone suffix."""
    return None if moment is None else seconds(moment).replace(tzinfo=None).isoformat()


def local_text(moment: datetime | None) -> str | None:
    """``date_*`` (no suffix): the site's local time, no zone suffix."""
    return None if moment is None else (seconds(moment) + SITE_OFFSET).replace(tzinfo=None).isoformat()
