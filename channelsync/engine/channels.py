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


def register(store: Store, name: str, plugin: str) -> None:
    """Make sure the channel has its row (its plugin may have changed in the config)."""
    store.execute("INSERT INTO channels (name, plugin) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                  "SET plugin = excluded.plugin", (name, plugin))


def cursor(store: Store, name: str) -> datetime | None:
    """Where the channel's next order poll starts (before the overlap is taken off)."""
    return parse_ts(store.scalar("SELECT order_cursor FROM channels WHERE name = ?", (name,)))


def move_cursor(store: Store, name: str, to: datetime) -> None:
    """Orders up to ``to`` are in: called inside the transaction that wrote them."""
    store.execute("UPDATE channels SET order_cursor = ? WHERE name = ?", (ts(to), name))


def record_health(store: Store, name: str, health: str, error: str | None, at: datetime, *, poll_ok: bool,
                  token_expires_at: datetime | None) -> None:
    """The outcome of a poll or a push round: ``health`` is "ok", "degraded" or "failing"."""
    store.execute(
        "UPDATE channels SET health = ?, last_error = ?, last_poll_at = ?, "
        "last_poll_ok_at = CASE WHEN ? THEN ? ELSE last_poll_ok_at END, token_expires_at = ? WHERE name = ?",
        (health, error, ts(at), poll_ok, ts(at), ts(token_expires_at), name))


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
        rows.append({
            "channel": name, "plugin": cfg.plugin, "enabled": cfg.enabled,
            "health": ch.get("health", "unknown"), "last_error": ch.get("last_error"),
            "last_poll_ok_at": ch.get("last_poll_ok_at"), "last_push_at": ch.get("last_push_at"),
            "order_cursor": ch.get("order_cursor"), "token_expires_at": ch.get("token_expires_at"),
            "queue": outbox.depth(store, name), "failures": failures,
            "listings": store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ?", (name,)),
            "unmatched_listings": store.scalar("SELECT COUNT(*) FROM unmatched_listings WHERE channel = ?", (name,)),
            # drift found (and repaired) by the drift check and resync: how many, the latest with SKU, seen, expected
            "drift": listings.drift_summary(store, name),
            "waiting_for_read": listings.waiting(store, name) + listings.pending_reads(store, name),
        })
    return rows

