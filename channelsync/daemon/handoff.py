"""Work the CLI hands to the running daemon (``resync``, ``ship``) through a request row,
so one process owns each channel's rate budget and token."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import structlog

from channelsync.sdk.errors import ChannelError, ChannelsyncError, UserError
from channelsync.store import Store, ts, utcnow
from channelsync.sync import reconcile, shipping
from channelsync.sync.lane import Lane

log = structlog.get_logger("channelsync.daemon.handoff")


def submit(store: Store, kind: str, channel: str, args: dict[str, Any]) -> int:
    now = ts(utcnow())
    with store.write():
        cur = store.execute("INSERT INTO requests (kind, channel, args, created_at, updated_at) VALUES (?,?,?,?,?)",
                            (kind, channel, json.dumps(args), now, now))
    return cur.lastrowid


def wait(store: Store, request_id: int, on_progress: Callable[[int], None] = lambda n: None,
         timeout: float = 3600.0) -> dict:
    """Block until the daemon finished the request; returns its result or raises its error."""
    deadline = time.monotonic() + timeout
    shown = 0
    while time.monotonic() < deadline:
        row = store.one("SELECT * FROM requests WHERE id = ?", (request_id,))
        progress = int(row["progress"] or 0)
        if progress > shown:
            on_progress(progress - shown)
            shown = progress
        if row["status"] == "done":
            return json.loads(row["result"])
        if row["status"] == "failed":
            error = json.loads(row["result"])
            raise (UserError if error.get("user") else ChannelsyncError)(error["message"])
        time.sleep(0.2)
    raise ChannelsyncError(f"the daemon did not finish request {request_id} within {timeout:.0f}s; "
                           "it is still queued and will run")


def serve_pending(lane: Lane, stopping: Callable[[], bool]) -> None:
    """Run this channel's pending requests, oldest first, recording progress and result."""
    store = lane.store
    for row in store.query("SELECT * FROM requests WHERE channel = ? AND status = 'pending' ORDER BY id",
                           (lane.name,)):
        if stopping():
            return
        with store.write():
            store.execute("UPDATE requests SET status = 'running', updated_at = ? WHERE id = ?", (ts(utcnow()), row["id"]))
        args = json.loads(row["args"])
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            with store.write():
                store.execute("UPDATE requests SET progress = ? WHERE id = ?", (done, row["id"]))
        try:
            if row["kind"] == "resync":
                result: dict = reconcile.resync(lane, progress=progress, **args).as_dict()
            elif row["kind"] == "ship":
                result = shipping.ship(lane, **args)
            else:
                raise UserError(f"unknown request kind {row['kind']!r}")
            status = "done"
        except (UserError, ChannelError) as exc:
            status, result = "failed", {"message": str(exc), "user": isinstance(exc, UserError)}
        except Exception as exc:  # reported to the waiting CLI, and logged with its traceback
            log.exception("request_failed", request=row["id"])
            status, result = "failed", {"message": f"{type(exc).__name__}: {exc}", "user": False}
        with store.write():
            store.execute("UPDATE requests SET status = ?, result = ?, updated_at = ? WHERE id = ?",
                          (status, json.dumps(result, default=str), ts(utcnow()), row["id"]))
