"""Credentials a platform renewed, kept across restarts (never logged, never shown)."""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

from channelsync.store import Store, ts, utcnow


def fingerprint(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def overlay(store: Store, channel: str, configured: Mapping[str, Any]) -> dict[str, Any]:
    """The configured settings with every renewed value whose configured original is unchanged."""
    settings = dict(configured)
    for row in store.query("SELECT key, value, replaces FROM credentials WHERE channel = ?", (channel,)):
        if fingerprint(configured.get(row["key"])) == row["replaces"]:
            settings[row["key"]] = row["value"]
    return settings


def save(store: Store, channel: str, configured: Mapping[str, Any], values: Mapping[str, str]) -> None:
    with store.write():
        for key, value in values.items():
            store.execute(
                "INSERT INTO credentials (channel, key, value, replaces, updated_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value, replaces = excluded.replaces, "
                "updated_at = excluded.updated_at",
                (channel, key, str(value), fingerprint(configured.get(key)), ts(utcnow())))
