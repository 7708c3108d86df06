"""A batch the platform needs several calls for, with one result per update.

Plugins whose platform takes fewer updates per call than the core's batch
(one item per call, one SKU per call) describe the calls and let this run
them with the rules the core's retry policy depends on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Mapping, Sequence

from channelsync.sdk.errors import ChannelError, NotFound, Rejected, Transient
from channelsync.sdk.models import UpdateResult


@dataclass
class Call:
    """One platform call covering ``updates`` (``send`` None: nothing to tell the platform);
    ``singles`` replace it one update at a time if it is refused.

    ``answers``: for a platform that answers per record inside a successful call,
    turns ``send()``'s return value into ``{external_id: error or None}``; an
    update it does not mention is refused ("no result in the platform's answer").
    """

    updates: list[Any]
    send: Callable[[], Any] | None
    singles: list[Callable[[], Any]] = field(default_factory=list)
    answers: Callable[[Any], Mapping[str, Exception | None]] | None = None


def grouped(updates: Sequence[Any], by: Callable[[Any], Hashable], send: Callable[[list[Any]], Any], *,
            answers: Callable[[Any], Mapping[str, Exception | None]] | None = None,
            fall_back: bool = True) -> list[Call]:
    """One ``Call`` per group of updates sharing ``by(update)`` (e.g. the item id), in the
    order groups first appear; ``send(group)`` makes the group's call. With ``fall_back`` a
    refused group is re-sent one update at a time, so one stale SKU does not sink its siblings.
    Run them with ``run_calls(updates, grouped(...))``."""
    groups: dict[Hashable, list[Any]] = {}
    for update in updates:
        groups.setdefault(by(update), []).append(update)
    return [Call(group, (lambda g=group: send(g)),
                 [(lambda u=u: send([u])) for u in group] if fall_back and len(group) > 1 else [], answers)
            for group in groups.values()]


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

    def attempt(batch: list[Any], send: Callable[[], Any], answers=None) -> bool:
        """False when the call was refused for good."""
        nonlocal sent
        if failed:
            for u in batch:
                results[u.external_id] = UpdateResult(u.external_id, Transient(
                    f"not sent: an earlier call of the batch failed ({failed[0]})", code="not-sent",
                    maybe_applied=False))
            return True
        try:
            reply = send()
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
        sent = True
        told = answers(reply) if answers is not None else None
        for u in batch:
            if told is None:
                results[u.external_id] = UpdateResult(u.external_id)
            elif u.external_id in told:
                results[u.external_id] = UpdateResult(u.external_id, told[u.external_id])
            else:
                results[u.external_id] = UpdateResult(u.external_id, Rejected(
                    f"the platform's answer has no result for {u.external_id}", code="no-result"))
        return True

    for call in calls:
        if call.send is None:
            for u in call.updates:
                results[u.external_id] = UpdateResult(u.external_id)
        elif not attempt(call.updates, call.send, call.answers) and call.singles:
            for u, single in zip(call.updates, call.singles):
                attempt([u], single, call.answers)
    return [results[u.external_id] for u in updates]
