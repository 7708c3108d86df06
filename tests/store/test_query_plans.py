"""The questions asked of a channel's listings on every poll or push tick are answered from a
partial index holding only the few listings concerned, never by walking the channel's
listings (at 100k SKUs a walk cost 15 ms per poll per channel)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channelsync.engine import listings


def plans(store, call) -> list[str]:
    """The query plan of every statement ``call`` runs."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        call()
    finally:
        store.conn.set_trace_callback(None)
    details = []
    for sql in seen:
        if sql.lstrip().upper().startswith("SELECT"):
            rows = store.conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            details += [row[-1] for row in rows]
    return details


@pytest.mark.parametrize("ask, index", [
    (lambda s: listings.reads_due(s, "a", datetime.now(UTC)), "listings_reading"),
    (lambda s: listings.pending_reads(s, "a"), "listings_reading"),
    (lambda s: listings.wanted(s, "a"), "listings_wanted"),
    (lambda s: listings.waiting(s, "a"), "listings_wanted"),
])
def test_per_tick_questions_use_their_partial_index(store, ask, index):
    details = plans(store, lambda: ask(store))
    assert details and all(f"USING INDEX {index}" in d or f"USING COVERING INDEX {index}" in d
                           for d in details if "listings" in d), details
