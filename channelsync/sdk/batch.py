"""A batch the platform needs several calls for, with one result per update.

Plugins whose platform takes fewer updates per call than the core's batch
(one item per call, one SKU per call) describe the calls and let this run
them with the rules the core's retry policy depends on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from channelsync.sdk.errors import ChannelError, NotFound, Rejected, Transient
from channelsync.sdk.models import UpdateResult


@dataclass
class Call:
    """One platform call covering ``updates`` (``send`` None: nothing to tell the platform);
    ``singles`` replace it one update at a time if it is refused."""

    updates: list[Any]
    send: Callable[[], Any] | None
    singles: list[Callable[[], Any]] = field(default_factory=list)


def run_calls(updates: Sequence[Any], calls: list[Call]) -> list[UpdateResult]:
    """Make the calls in order and give every update a result, in the order given.

    A refusal stays with its updates (and a refused multi-update call is re-sent
    through its ``singles``). A retryable failure before anything was sent is
    raised, so the core refreshes auth or backs off the whole batch; once
    something went through it stays with its updates instead (an increment must
    not be sent twice) and the calls left are reported unsent, certainly not applied.
    """
    results: dict[str, UpdateResult] = {}
    failed: list[ChannelError] = []
    sent = False

    def attempt(batch: list[Any], send: Callable[[], Any]) -> bool:
        """False when the call was refused for good."""
        nonlocal sent
        if failed:
            for u in batch:
                results[u.external_id] = UpdateResult(u.external_id, Transient(
                    f"not sent: an earlier call of the batch failed ({failed[0]})", code="not-sent",
                    maybe_applied=False))
            return True
        try:
            send()
        except (NotFound, Rejected) as error:
            for u in batch:
                results[u.external_id] = UpdateResult(u.external_id, error)
            return False
        except ChannelError as error:
            if not sent:
                raise
            failed.append(error)
            for u in batch:
                results[u.external_id] = UpdateResult(u.external_id, error)
            return True
        for u in batch:
            results[u.external_id] = UpdateResult(u.external_id)
        sent = True
        return True

    for call in calls:
        if call.send is None:
            for u in call.updates:
                results[u.external_id] = UpdateResult(u.external_id)
        elif not attempt(call.updates, call.send) and call.singles:
            for u, single in zip(call.updates, call.singles):
                attempt([u], single)
    return [results[u.external_id] for u in updates]
