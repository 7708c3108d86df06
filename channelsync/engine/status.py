"""What ``status`` and ``/healthz`` show per channel, read from the store (no secrets)."""

from __future__ import annotations

from typing import Any

from channelsync.config.settings import Config
from channelsync.engine import outbox
from channelsync.store import Store


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
        })
    return rows

