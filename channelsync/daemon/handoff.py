"""Work the CLI hands to the running daemon (``resync``, ``ship``) through a request row,
so one process owns each channel's rate budget and token.

A request is ``pending`` until a runner claims it (``running``, with its pid and
an attempt count), then ``done`` or ``failed`` with a result. Nothing stays
``running`` after its runner died:

* at start the daemon ``recover``\\s rows whose runner is gone: resumed (back to
  ``pending``; both kinds are safe to run again: a resync only compares and
  queues, a ship refuses an order that is no longer paid) at most
  ``MAX_ATTEMPTS`` times, then failed with a message saying what to do;
* a CLI waiting on a request notices within seconds that no daemon runs any
  more, and runs the request itself (or says so when it cannot).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

import structlog

from channelsync.sdk.errors import ChannelError, ChannelsyncError, UserError
from channelsync.store import Store, ts, utcnow
from channelsync.store.sqlin import marks
from channelsync.sync import reconcile, shipping
from channelsync.sync.lane import Lane
from channelsync.sync.stopping import Interrupted

log = structlog.get_logger("channelsync.daemon.handoff")

#: starts of one request before a crash-looping one is failed instead of resumed
MAX_ATTEMPTS = 3
#: seconds the CLI lets a vanished daemon come back (a supervisor restarts it) before acting
DAEMON_GRACE = 5.0


def submit(store: Store, kind: str, channel: str, args: dict[str, Any]) -> int:
    now = ts(utcnow())
    with store.write():
        cur = store.execute("INSERT INTO requests (kind, channel, args, created_at, updated_at) VALUES (?,?,?,?,?)",
                            (kind, channel, json.dumps(args), now, now))
    return cur.lastrowid


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def daemon_alive(store: Store) -> bool:
    """The daemon that registered in the database is still a live process. Cheap, and it
    never touches the instance lock, so polling it cannot get in a restarting daemon's way."""
    return alive(store.scalar("SELECT pid FROM daemon WHERE id = 1"))


def claim(store: Store, request_id: int, from_status: tuple[str, ...] = ("pending",)) -> bool:
    """Take a request for this process, unless another runner got it first."""
    with store.write():
        row = store.one(f"SELECT owner_pid, status FROM requests WHERE id = ? AND status IN ({marks(from_status)})",
                        (request_id, *from_status))
        if row is None or (row["status"] == "running" and alive(row["owner_pid"])):
            return False
        store.execute("UPDATE requests SET status = 'running', owner_pid = ?, attempts = attempts + 1, "
                      "updated_at = ? WHERE id = ?", (os.getpid(), ts(utcnow()), request_id))
    return True


def finish(store: Store, request_id: int, status: str, result: dict) -> None:
    with store.write():
        store.execute("UPDATE requests SET status = ?, result = ?, updated_at = ? WHERE id = ?",
                      (status, json.dumps(result, default=str), ts(utcnow()), request_id))


def recover(store: Store) -> dict[str, int]:
    """At daemon start: requests left ``running`` by a runner that died are resumed, or
    failed with a message once they have been started ``MAX_ATTEMPTS`` times."""
    counts = {"resumed": 0, "failed": 0}
    with store.write():
        for row in store.query("SELECT * FROM requests WHERE status = 'running'"):
            if alive(row["owner_pid"]) and row["owner_pid"] != os.getpid():
                continue  # a CLI is running it itself
            if row["attempts"] >= MAX_ATTEMPTS:
                message = (f"request {row['id']} ({row['kind']} on {row['channel']}) was interrupted "
                           f"{row['attempts']} times by the process running it stopping (crash or kill); "
                           "it is not retried again: look at the daemon's log for why, then run the "
                           "command again")
                store.execute("UPDATE requests SET status = 'failed', result = ?, updated_at = ? WHERE id = ?",
                              (json.dumps({"message": message, "user": False}), ts(utcnow()), row["id"]))
                counts["failed"] += 1
                log.warning("request_abandoned", request=row["id"], kind=row["kind"], attempts=row["attempts"])
            else:
                store.execute("UPDATE requests SET status = 'pending', owner_pid = NULL, updated_at = ? WHERE id = ?",
                              (ts(utcnow()), row["id"]))
                counts["resumed"] += 1
                log.info("request_resumed", request=row["id"], kind=row["kind"], attempts=row["attempts"])
    return counts


def wait(store: Store, request_id: int, on_progress: Callable[[int], None] = lambda n: None,
         timeout: float = 3600.0, daemon_alive: Callable[[], bool] | None = None,
         run_here: Callable[[Callable[[int], None]], dict] | None = None,
         grace: float = DAEMON_GRACE, daemon_running: Callable[[], bool] | None = None) -> dict:
    """Block until the request is finished; returns its result or raises its error.

    ``daemon_alive`` (polled): when it says no for ``grace`` seconds, and ``daemon_running``
    (the authoritative check, asked once) agrees, the CLI stops waiting on a dead daemon: it
    runs the request itself with ``run_here`` (given a progress callback), or raises a
    message saying what became of the request."""
    deadline = time.monotonic() + timeout
    shown = 0
    gone_since: float | None = None
    next_check = 0.0
    while time.monotonic() < deadline:
        row = store.one("SELECT * FROM requests WHERE id = ?", (request_id,))
        progress = int(row["progress"] or 0)
        if progress > shown:
            on_progress(progress - shown)
            shown = progress
        if row["status"] in ("done", "failed"):
            return _outcome(row)
        now = time.monotonic()
        if daemon_alive is not None and now >= next_check:
            next_check = now + 0.5
            gone_since = None if daemon_alive() else (gone_since or now)
            if gone_since is not None and now - gone_since >= grace:
                if daemon_running is not None and daemon_running():
                    gone_since = None  # a new daemon is up (under another pid namespace?): it serves the row
                else:
                    return _without_daemon(store, row, run_here)
        time.sleep(0.2)
    raise ChannelsyncError(f"the daemon did not finish request {request_id} within {timeout:.0f}s; "
                           "it is still queued and will run")


def _outcome(row: dict) -> dict:
    if row["status"] == "done":
        return json.loads(row["result"])
    error = json.loads(row["result"])
    raise (UserError if error.get("user") else ChannelsyncError)(error["message"])


def _without_daemon(store: Store, row: dict, run_here: Callable[[Callable[[int], None]], dict] | None) -> dict:
    if run_here is None:
        raise ChannelsyncError(f"the daemon stopped before finishing request {row['id']} ({row['kind']} on "
                               f"{row['channel']}); it resumes the request when it starts again "
                               f"(`channelsync run`), or run this command again with no daemon running")
    if not claim(store, row["id"], ("pending", "running")):
        latest = store.one("SELECT * FROM requests WHERE id = ?", (row["id"],))
        if latest["status"] in ("done", "failed"):
            return _outcome(latest)
        raise ChannelsyncError(f"request {row['id']} is being run by process {latest['owner_pid']}; "
                               "wait for it, or look at `channelsync status`")
    log.warning("daemon_gone_running_here", request=row["id"], kind=row["kind"])
    return _run(store, row["id"], lambda progress: run_here(progress))


def _run(store: Store, request_id: int, work: Callable[[Callable[[int], None]], dict]) -> dict:
    """Run a claimed request, recording its progress and its result."""
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        with store.write():
            store.execute("UPDATE requests SET progress = ? WHERE id = ?", (done, request_id))
    try:
        result = work(progress)
        status = "done"
    except Interrupted:  # the daemon is stopping: the request waits for the next start (or a CLI)
        with store.write():
            store.execute("UPDATE requests SET status = 'pending', owner_pid = NULL, attempts = attempts - 1, "
                          "updated_at = ? WHERE id = ?", (ts(utcnow()), request_id))
        raise
    except (UserError, ChannelError) as exc:
        status, result = "failed", {"message": str(exc), "user": isinstance(exc, UserError)}
    except Exception as exc:  # reported to the waiting CLI, and logged with its traceback
        log.exception("request_failed", request=request_id)
        status, result = "failed", {"message": f"{type(exc).__name__}: {exc}", "user": False}
    finish(store, request_id, status, result)
    return _outcome(store.one("SELECT * FROM requests WHERE id = ?", (request_id,)))


def serve_pending(lane: Lane, stopping: Callable[[], bool]) -> None:
    """Run this channel's pending requests, oldest first, recording progress and result."""
    store = lane.store
    for row in store.query("SELECT * FROM requests WHERE channel = ? AND status = 'pending' ORDER BY id",
                           (lane.name,)):
        if stopping():
            return
        if not claim(store, row["id"]):
            continue
        args = json.loads(row["args"])
        kind = row["kind"]

        def work(progress: Callable[[int], None], kind: str = kind, args: dict = args) -> dict:
            if kind == "resync":
                return reconcile.resync(lane, progress=progress, **args).as_dict()
            if kind == "ship":
                return shipping.ship(lane, **args)
            raise UserError(f"unknown request kind {kind!r}")
        try:
            _run(store, row["id"], work)
        except Interrupted:
            return
        except ChannelsyncError:
            pass  # recorded on the row for the CLI that waits on it
