"""Resuming an interrupted resync where it stopped, not at page 1.

After each page, in the transaction holding that page's changes, the lane saves the
next page's token, when the run started, its arguments and its counts so far
(``engine/channels.py`` keeps it on the channel's row). A run with the same
arguments started later takes up from there; a finished run clears it. A cursor is
not trusted for ever: one older than ``MAX_AGE`` is dropped (the platform's page
tokens and our picture of its listings would both be stale), and a token the
platform no longer accepts makes the run start over rather than fail.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import structlog

from channelsync.engine import channels
from channelsync.store import parse_ts, ts, utcnow
from channelsync.sync.lane import Lane

log = structlog.get_logger("channelsync.sync.resume")

MAX_AGE = timedelta(hours=6)


def signature(what: set[str], only: set[str] | None) -> dict[str, Any]:
    return {"what": sorted(what), "skus": sorted(only) if only is not None else None}


def take(lane: Lane, sig: dict[str, Any], report_cls: type) -> tuple[str | None, datetime, Any, set[str]]:
    """(page token to start at, when the run started, its report so far or None, SKU codes it has seen)."""
    state = channels.resync_cursor(lane.store, lane.name)
    now = utcnow()
    if not state or state.get("args") != sig:
        return None, now, None, set()
    started = parse_ts(state["started_at"])
    if now - started > MAX_AGE:
        log.info("resync_cursor_stale", channel=lane.name, started_at=state["started_at"])
        return None, now, None, set()
    known = {f.name for f in fields(report_cls)}
    report = report_cls(**{k: v for k, v in state["report"].items() if k in known})
    # what the interrupted part linked: a code met again after the resume is then a duplicate, as before
    seen = {r["sku_code"] for r in lane.store.query(
        "SELECT sku_code FROM listings WHERE channel = ? AND seen_at >= ?", (lane.name, state["started_at"]))}
    log.info("resync_resumed", channel=lane.name, at_page_token=state["token"], seen_before=report.seen)
    return state["token"], started, report, seen


def save(lane: Lane, token: str | None, started: datetime, sig: dict[str, Any], report: Any) -> None:
    """Inside the page's transaction: where the next run goes on (None when the pages are done)."""
    # the counts only, read off the fields: ``asdict`` deep-copied the change list on every page
    counts = {f.name: getattr(report, f.name) for f in fields(report) if f.name not in ("changes", "drift_examples")}
    channels.save_resync_cursor(lane.store, lane.name, None if token is None else
                                {"token": token, "started_at": ts(started), "args": sig, "report": counts})


def clear(lane: Lane) -> None:
    with lane.store.write():
        channels.save_resync_cursor(lane.store, lane.name, None)
