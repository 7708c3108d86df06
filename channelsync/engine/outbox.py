"""The outbox: durable, coalescing pushes to channels.

A row means "(channel, SKU, kind) needs pushing"; the value is computed when
it is sent, so a newer desired value always replaces an older unsent one. An
increment in flight keeps its key and delta on the row so that a retry after
a crash or timeout re-sends exactly the same call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from channelsync.store import Store, ts, utcnow
from channelsync.store.sqlin import chunks, marks


_QUEUE = """
    INSERT INTO outbox (channel, sku_code, kind, status, attempts, next_at, queued_at, updated_at)
    VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)
    ON CONFLICT (channel, sku_code, kind) DO UPDATE SET
        status = 'pending',
        attempts = CASE WHEN outbox.status = 'failed' THEN 0 ELSE outbox.attempts END,
        next_at = CASE WHEN outbox.status = 'failed' THEN excluded.next_at ELSE outbox.next_at END,
        last_error = CASE WHEN outbox.status = 'failed' THEN NULL ELSE outbox.last_error END,
        updated_at = excluded.updated_at
"""
_UNQUEUE = ("DELETE FROM outbox WHERE channel = ? AND sku_code = ? AND kind = ? AND status = 'pending' "
            "AND inflight_key IS NULL")


def queue(store: Store, channel: str, sku_code: str, kind: str, now: datetime | None = None) -> None:
    """Ask for a push. A parked (failed) row is revived: a new desired value deserves a new try."""
    queue_many(store, [(channel, sku_code)], kind, now)


def queue_many(store: Store, rows: list[tuple[str, str]], kind: str, now: datetime | None = None) -> None:
    """``queue`` for each (channel, SKU), in one statement (a resync page queues its SKUs at once)."""
    now_s = ts(now or utcnow())
    store.conn.executemany(_QUEUE, [(channel, code, kind, now_s, now_s, now_s) for channel, code in rows])


def unqueue(store: Store, channel: str, sku_code: str, kind: str) -> None:
    """Drop a pending row that is no longer needed, unless a call is in flight."""
    unqueue_many(store, [(channel, sku_code)], kind)


def unqueue_many(store: Store, rows: list[tuple[str, str]], kind: str) -> None:
    """``unqueue`` for each (channel, SKU), in one statement."""
    store.conn.executemany(_UNQUEUE, [(channel, code, kind) for channel, code in rows])


def queue_pending(store: Store, rows: list[tuple[str, str]], kind: str, now: datetime | None = None) -> None:
    """``queue_many`` for rows the caller read as pending in this transaction: on a pending row
    the upsert changes only ``updated_at``, but it names ``status`` and ``next_at``, so SQLite
    rewrote the row's ``outbox_due`` entry too (3.5x the time of this UPDATE by key; an ingest
    page queues ~300 rows, most still pending from the page before). A row that is not pending
    after all (read outside a transaction) gets the upsert, as ``queue_many`` would."""
    now_s = ts(now or utcnow())
    cur = store.conn.executemany(
        "UPDATE outbox SET updated_at = ? WHERE channel = ? AND sku_code = ? AND kind = ? AND status = 'pending'",
        [(now_s, channel, code, kind) for channel, code in rows])
    if cur.rowcount != len(rows):  # the upsert again is harmless on the rows this did touch
        queue_many(store, rows, kind, now)


def due(store: Store, channel: str, kind: str, limit: int, now: datetime | None = None) -> list[dict]:
    """Up to ``limit`` pending rows of one kind whose time has come, oldest first."""
    return store.query(
        "SELECT * FROM outbox WHERE channel = ? AND kind = ? AND status = 'pending' AND next_at <= ? "
        "ORDER BY next_at, sku_code LIMIT ?",
        (channel, kind, ts(now or utcnow()), limit))


def due_kinds(store: Store, channel: str, now: datetime | None = None) -> set[str]:
    """The kinds that have a pending row due now: one query for an idle channel's whole
    look at its outbox (instead of one ``due`` per kind)."""
    return {r[0] for r in store.execute(
        "SELECT DISTINCT kind FROM outbox WHERE channel = ? AND status = 'pending' AND next_at <= ?",
        (channel, ts(now or utcnow())))}


def done(store: Store, row: dict) -> None:
    """The push went through (or is no longer needed): remove the row."""
    store.execute("DELETE FROM outbox WHERE channel = ? AND sku_code = ? AND kind = ?",
                  (row["channel"], row["sku_code"], row["kind"]))


def mark_in_flight(store: Store, row: dict, key: str, target: int, delta: int) -> None:
    """An increment is about to be sent: keep its key and delta, so that a retry after a
    timeout or a crash sends exactly the same call (never a second, different one)."""
    store.execute("UPDATE outbox SET inflight_key = ?, inflight_target = ?, inflight_delta = ? "
                  "WHERE channel = ? AND sku_code = ? AND kind = ?",
                  (key, target, delta, row["channel"], row["sku_code"], row["kind"]))


def clear_in_flight(store: Store, row: dict) -> None:
    """The call in flight settled (applied, or certainly not): the next push computes afresh."""
    store.execute("UPDATE outbox SET inflight_key = NULL, inflight_target = NULL, inflight_delta = NULL "
                  "WHERE channel = ? AND sku_code = ? AND kind = ?", (row["channel"], row["sku_code"], row["kind"]))


def due_again(store: Store, row: dict, now: datetime | None = None) -> None:
    """A newer change arrived while the row's call was in flight: send again now, as a fresh
    row. Queued again if it is gone (an ingest that found the target back at the old
    ``expected`` un-queued a row whose call was not tracked)."""
    now_s = ts(now or utcnow())
    store.execute(
        "INSERT INTO outbox (channel, sku_code, kind, status, attempts, next_at, queued_at, updated_at) "
        "VALUES (?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (channel, sku_code, kind) DO UPDATE SET "
        "status = 'pending', attempts = 0, next_at = excluded.next_at, last_error = NULL",
        (row["channel"], row["sku_code"], row["kind"], now_s, now_s, now_s))


#: how long a held stock row waits before it is looked at again
HOLD_SECONDS = 1.0


def hold(store: Store, row: dict, now: datetime | None = None) -> None:
    """The row waits for a read of its listing to settle: look again shortly, no attempt counted."""
    store.execute("UPDATE outbox SET next_at = ? WHERE channel = ? AND sku_code = ? AND kind = ?",
                  (ts((now or utcnow()) + timedelta(seconds=HOLD_SECONDS)), row["channel"], row["sku_code"],
                   row["kind"]))


def release(store: Store, channel: str, sku_codes, kind: str = "stock", now: datetime | None = None) -> None:
    """Rows held for their listings' reads are due now (the reads settled)."""
    codes, now_s = list(sku_codes), ts(now or utcnow())
    for chunk in chunks(codes, _CHUNK):  # one statement a chunk, not one a SKU
        # ``+status``: by the row's key, never by outbox_due (channel, status): with a long IN-list
        # SQLite chose that index and walked every pending row of the channel for each chunk
        # (a 100k resync queues one per SKU: 8 of its 24 s at 60k)
        # ``next_at > ?``: a row due already stays as it is (in its place in the queue, and unwritten:
        # after a resync all 100,000 of a channel's were rewritten for nothing)
        store.execute(f"UPDATE outbox SET next_at = ? WHERE channel = ? AND sku_code IN ({marks(chunk)}) "
                      f"AND kind = ? AND +status = 'pending' AND next_at > ?", (now_s, channel, *chunk, kind, now_s))


#: SKUs per IN-list, well under SQLite's limit of 32,766 variables
_CHUNK = 500


def retry_later(store: Store, row: dict, delay: float, error: str, now: datetime | None = None) -> None:
    """A retryable failure: count the attempt and try again after ``delay`` seconds."""
    now = now or utcnow()
    store.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?, updated_at = ? "
        "WHERE channel = ? AND sku_code = ? AND kind = ?",
        (ts(now + timedelta(seconds=delay)), error, ts(now), row["channel"], row["sku_code"], row["kind"]))


def hurry(store: Store, channel: str, limit: int | None = None, now: datetime | None = None) -> int:
    """The channel answers again: rows waiting out a back-off become due now (the soonest
    ``limit`` of them, for a probe). Their attempt counts stay, so a row that still fails
    resumes its back-off where it was."""
    now_s = ts(now or utcnow())
    cur = store.execute(
        "UPDATE outbox SET next_at = ? WHERE rowid IN (SELECT rowid FROM outbox WHERE channel = ? "
        "AND status = 'pending' AND attempts > 0 AND next_at > ? ORDER BY next_at LIMIT ?)",
        (now_s, channel, now_s, -1 if limit is None else limit))
    return cur.rowcount


def park(store: Store, row: dict, error: str, now: datetime | None = None) -> None:
    """A permanent failure: kept, visible in ``status``, retried by ``resync``."""
    store.execute(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ?, "
        "inflight_key = NULL, inflight_target = NULL, inflight_delta = NULL "
        "WHERE channel = ? AND sku_code = ? AND kind = ?",
        (error, ts(now or utcnow()), row["channel"], row["sku_code"], row["kind"]))


def revive_failed(store: Store, channel: str | None = None, now: datetime | None = None) -> int:
    """Turn parked rows back into pending ones (``resync`` does this)."""
    now_s = ts(now or utcnow())
    cur = store.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_at = ?, updated_at = ? "
        "WHERE status = 'failed' AND (? IS NULL OR channel = ?)", (now_s, now_s, channel, channel))
    return cur.rowcount


def depth(store: Store, channel: str) -> dict[str, int]:
    """Rows waiting for the channel: ``{"pending": n, "failed": m}``."""
    rows = store.execute("SELECT status, COUNT(*) FROM outbox WHERE channel = ? GROUP BY status", (channel,)).fetchall()
    counts = {"pending": 0, "failed": 0}
    counts.update({r[0]: r[1] for r in rows})
    return counts
