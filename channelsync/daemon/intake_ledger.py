"""What the intake saw: per channel accepted and rejected-by-reason counts, the last
verified message, and the message ids seen recently (replay detection).

Counting happens in memory, in the request (no store write while a platform
waits for its answer); the daemon's main loop adds the counts to the ``intake``
table every second, so ``status`` (another process) can show them. This module
is the one writer of that table.

The replay memory is in memory only: after a restart a replayed message inside
its staleness window is taken once more. That costs one poll, never state — a
message is a doorbell.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from channelsync.sdk.intake import REASONS
from channelsync.store import Store, ts, utcnow
from channelsync.telemetry import metrics

UNKNOWN = "*"  # the row for messages that named no configured channel
_MAX_IDS = 200_000  # bound on remembered ids: a flood of unique ids cannot grow memory without end


class IntakeLedger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: dict[str, int] = {}
        self._rejected: dict[str, dict[str, int]] = {}
        self._last_verified: dict[str, datetime] = {}
        self._last_rejection: dict[str, tuple[datetime, str]] = {}
        self._connected: dict[str, bool] = {}
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()  # (channel, id) -> forget after (monotonic)
        self.totals: dict[str, dict[str, int]] = {}  # since start, for tests and the demo
        self.links: dict[str, bool] = {}  # listener channel -> connected now (for /healthz)

    def is_replay(self, channel: str, message_id: str, now: float, keep_for: float) -> bool:
        """True if the id was seen within ``keep_for`` seconds; remembers it otherwise."""
        with self._lock:
            while self._seen:
                key, until = next(iter(self._seen.items()))
                if until > now and len(self._seen) < _MAX_IDS:
                    break
                self._seen.popitem(last=False)
            key = (channel, message_id)
            if key in self._seen:
                return True
            self._seen[key] = now + keep_for
            return False

    def accepted(self, channel: str, at: datetime, count: int = 1) -> None:
        with self._lock:
            self._accepted[channel] = self._accepted.get(channel, 0) + count
            self._last_verified[channel] = at
            self._total(channel, "accepted", count)
        metrics.INTAKE_MESSAGES.labels(channel, "accepted").inc(count)
        metrics.INTAKE_LAST_VERIFIED.labels(channel).set(at.timestamp())

    def rejected(self, channel: str | None, reason: str, detail: str, at: datetime) -> None:
        assert reason in REASONS, reason
        channel = channel or UNKNOWN
        with self._lock:
            by_reason = self._rejected.setdefault(channel, {})
            by_reason[reason] = by_reason.get(reason, 0) + 1
            self._last_rejection[channel] = (at, f"{reason}: {detail}"[:200])
            self._total(channel, reason, 1)
        metrics.INTAKE_MESSAGES.labels(channel, reason).inc()

    def connected(self, channel: str, up: bool) -> None:
        with self._lock:
            self._connected[channel] = self.links[channel] = up
        metrics.INTAKE_CONNECTED.labels(channel).set(1 if up else 0)

    def _total(self, channel: str, key: str, count: int) -> None:
        by = self.totals.setdefault(channel, {})
        by[key] = by.get(key, 0) + count

    def flush(self, store: Store) -> None:
        """Add what was counted since the last flush to the ``intake`` table."""
        with self._lock:
            accepted, self._accepted = self._accepted, {}
            rejected, self._rejected = self._rejected, {}
            verified, self._last_verified = self._last_verified, {}
            rejection, self._last_rejection = self._last_rejection, {}
            connected, self._connected = self._connected, {}
        names = set(accepted) | set(rejected) | set(verified) | set(rejection) | set(connected)
        if not names:
            return
        with store.write():
            for name in sorted(names):
                row = store.one("SELECT rejected FROM intake WHERE channel = ?", (name,))
                counts = json.loads(row["rejected"]) if row else {}
                for reason, n in rejected.get(name, {}).items():
                    counts[reason] = counts.get(reason, 0) + n
                last_rejected = rejection.get(name)
                store.execute(
                    "INSERT INTO intake (channel, accepted, rejected, last_verified_at, last_rejected_at, "
                    "last_rejection, connected, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (channel) DO UPDATE SET accepted = accepted + excluded.accepted, "
                    "rejected = excluded.rejected, "
                    "last_verified_at = COALESCE(excluded.last_verified_at, last_verified_at), "
                    "last_rejected_at = COALESCE(excluded.last_rejected_at, last_rejected_at), "
                    "last_rejection = COALESCE(excluded.last_rejection, last_rejection), "
                    "connected = COALESCE(excluded.connected, connected), updated_at = excluded.updated_at",
                    (name, accepted.get(name, 0), json.dumps(counts, sort_keys=True), ts(verified.get(name)),
                     ts(last_rejected[0]) if last_rejected else None, last_rejected[1] if last_rejected else None,
                     connected.get(name), ts(utcnow())))


def intake_rows(store: Store) -> dict[str, dict[str, Any]]:
    """Per channel (and ``*`` for unknown channels): what ``status`` shows of the intake."""
    out = {}
    for row in store.query("SELECT * FROM intake ORDER BY channel"):
        out[row["channel"]] = {"accepted": row["accepted"], "rejected": json.loads(row["rejected"]),
                               "last_verified_at": row["last_verified_at"],
                               "last_rejected_at": row["last_rejected_at"], "last_rejection": row["last_rejection"],
                               "connected": None if row["connected"] is None else bool(row["connected"])}
    return out
