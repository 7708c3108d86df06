"""Each configured channel's row: registration, order cursor, health, last push and resync,
and the status read of it that ``status`` and ``/healthz`` show (no secrets).

This module is the one writer of the ``channels`` table.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from channelsync.config.settings import Config
from channelsync.engine import listings, outbox
from channelsync.store import Store, parse_ts, ts
from channelsync.telemetry.log import redact_text


def register(store: Store, name: str, plugin: str) -> None:
    """Make sure the channel has its row (its plugin may have changed in the config)."""
    store.execute("INSERT INTO channels (name, plugin) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                  "SET plugin = excluded.plugin", (name, plugin))


def learnt_rate(store: Store, name: str) -> tuple[float, float | None, datetime] | None:
    """(rate, ceiling, when last refused) the channel's platform was found to allow, if any."""
    row = store.one("SELECT learnt_rate, learnt_ceiling, learnt_refused_at FROM channels WHERE name = ?", (name,))
    if not row or row["learnt_rate"] is None or row["learnt_refused_at"] is None:
        return None
    return row["learnt_rate"], row["learnt_ceiling"], parse_ts(row["learnt_refused_at"])


def keep_learnt_rate(store: Store, name: str, rate: float | None, ceiling: float | None,
                     refused_at: datetime | None) -> None:
    """Keep what the rate budget learnt (None: nothing, the declared rate holds again)."""
    store.execute("UPDATE channels SET learnt_rate = ?, learnt_ceiling = ?, learnt_refused_at = ? WHERE name = ?",
                  (rate, ceiling, ts(refused_at), name))


def cursor(store: Store, name: str) -> datetime | None:
    """Where the channel's next order poll starts (before the overlap is taken off)."""
    return parse_ts(store.scalar("SELECT order_cursor FROM channels WHERE name = ?", (name,)))


def move_cursor(store: Store, name: str, to: datetime) -> None:
    """Orders up to ``to`` are in: called inside the transaction that wrote them.

    Only ever forward. Two polls of a channel can overlap (the worker's and a push
    thread's read-and-poll): one that started earlier may commit later, and moving the
    cursor back to its end would strand a platform read taken between the two (kept
    until the poll covers it, no longer re-read meanwhile) for a whole poll interval."""
    store.execute("UPDATE channels SET order_cursor = ? WHERE name = ? AND "
                  "(order_cursor IS NULL OR order_cursor < ?)", (ts(to), name, ts(to)))


def _clean(error: str | None) -> str | None:
    """An error as status and /healthz may show it: a platform or library may echo a token."""
    return None if error is None else redact_text(error)


_RANK = {"unknown": 0, "ok": 0, "degraded": 1, "failing": 2}


def combined(poll: str, push: str, worker_error: str | None, parked: int = 0) -> str:
    """One word for a channel: the worst of its order poll, its pushes, its worker and
    parked pushes (which need a person: "degraded" at least)."""
    words = [poll, push, "failing" if worker_error else "ok", "degraded" if parked else "ok"]
    worst = max(words, key=lambda w: _RANK.get(w, 2))
    return "unknown" if worst == "ok" and poll == "unknown" and push == "unknown" else worst


def _combine(store: Store, name: str) -> None:
    row = store.one("SELECT poll_health, poll_error, push_health, push_error, worker_error FROM channels "
                    "WHERE name = ?", (name,))
    if row is None:
        return
    error = row["worker_error"] or row["poll_error"] or row["push_error"]
    store.execute("UPDATE channels SET health = ?, last_error = ? WHERE name = ?",
                  (combined(row["poll_health"], row["push_health"], row["worker_error"]), error, name))


def record_poll(store: Store, name: str, error: str | None, at: datetime, *,
                token_expires_at: datetime | None) -> None:
    """An order poll's outcome: ok when ``error`` is None, else failing; never touches push health."""
    store.execute(
        "UPDATE channels SET poll_health = ?, poll_error = ?, last_poll_at = ?, "
        "last_poll_ok_at = CASE WHEN ? THEN ? ELSE last_poll_ok_at END, token_expires_at = ? WHERE name = ?",
        ("ok" if error is None else "failing", _clean(error), ts(at), error is None, ts(at), ts(token_expires_at),
         name))
    _combine(store, name)


def record_push(store: Store, name: str, health: str, error: str | None) -> None:
    """A push round's outcome ("ok" or "degraded" while pushes are retried); never touches poll health."""
    store.execute("UPDATE channels SET push_health = ?, push_error = ? WHERE name = ?", (health, _clean(error), name))
    _combine(store, name)


def push_health(store: Store, name: str) -> tuple[str | None, str | None] | None:
    """What ``record_push`` last wrote for the channel: (push health, push error)."""
    row = store.execute("SELECT push_health, push_error FROM channels WHERE name = ?", (name,)).fetchone()
    return None if row is None else (row[0], row[1])


def record_worker(store: Store, name: str, error: str | None) -> None:
    """The daemon's worker for the channel crashed (``error``) or runs again (None)."""
    store.execute("UPDATE channels SET worker_error = ? WHERE name = ?", (_clean(error), name))
    _combine(store, name)


def pushed(store: Store, name: str, at: datetime) -> None:
    store.execute("UPDATE channels SET last_push_at = ? WHERE name = ?", (ts(at), name))


def resynced(store: Store, name: str, at: datetime) -> None:
    store.execute("UPDATE channels SET last_resync_at = ? WHERE name = ?", (ts(at), name))


def resync_cursor(store: Store, name: str) -> dict[str, Any] | None:
    """Where the channel's last resync stopped, if it did not finish (see ``sync/resume.py``)."""
    raw = store.scalar("SELECT resync_cursor FROM channels WHERE name = ?", (name,))
    return json.loads(raw) if raw else None


def save_resync_cursor(store: Store, name: str, state: dict[str, Any] | None) -> None:
    """Record (inside the transaction of a page's changes) where a resync goes on; None: it finished."""
    store.execute("UPDATE channels SET resync_cursor = ? WHERE name = ?",
                  (json.dumps(state) if state is not None else None, name))


def status_rows(store: Store, config: Config) -> list[dict[str, Any]]:
    """Per channel: health, last poll/push, cursor, queue depth, parked failures (no secrets)."""
    rows = []
    for name, cfg in config.channels.items():
        ch = store.one("SELECT * FROM channels WHERE name = ?", (name,)) or {}
        failures = store.query("SELECT sku_code, kind, attempts, last_error, updated_at FROM outbox "
                               "WHERE channel = ? AND status = 'failed' ORDER BY updated_at DESC LIMIT 20", (name,))
        queue = outbox.depth(store, name)
        retrying = store.scalar("SELECT last_error FROM outbox WHERE channel = ? AND status = 'pending' AND "
                                "last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1", (name,))
        poll, push = ch.get("poll_health", "unknown"), ch.get("push_health", "unknown")
        rows.append({
            "channel": name, "plugin": cfg.plugin, "enabled": cfg.enabled,
            "health": combined(poll, push, ch.get("worker_error"), queue["failed"]),
            "last_error": ch.get("last_error") or (f"{queue['failed']} push(es) parked" if queue["failed"] else None),
            "poll": {"health": poll, "error": ch.get("poll_error"), "last_ok_at": ch.get("last_poll_ok_at")},
            "push": {"health": push, "error": ch.get("push_error") or (retrying if push == "degraded" else None),
                     "last_at": ch.get("last_push_at"), "parked": queue["failed"]},
            "worker_error": ch.get("worker_error"),
            "last_poll_ok_at": ch.get("last_poll_ok_at"), "last_push_at": ch.get("last_push_at"),
            "order_cursor": ch.get("order_cursor"), "token_expires_at": ch.get("token_expires_at"),
            "queue": queue, "failures": failures,
            "listings": store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ?", (name,)),
            "unmatched_listings": store.scalar("SELECT COUNT(*) FROM unmatched_listings WHERE channel = ?", (name,)),
            # drift found (and repaired) by the drift check and resync: how many, the latest with SKU, seen, expected
            "drift": listings.drift_summary(store, name),
            "waiting_for_read": listings.waiting(store, name) + listings.pending_reads(store, name),
        })
    return rows

