"""Each stock mode's policy: how the core tells a channel a quantity without erasing a
sale or doubling a change (the design's "Telling a channel its quantity"). Pure rules,
no SQL: ``listings`` keeps the numbers they are applied to, ``sync.stockpush`` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from channelsync.sdk.channel import Capabilities


@dataclass(frozen=True)
class Policy:
    """How the core tells one channel a quantity without erasing a sale or doubling a change.

    * increment: send ``target - expected``. With idempotency keys a call that may have
      applied is sent again with its key; without, it is never sent again blindly: the
      listing is read, the read settled against the orders, and a fresh delta computed.
    * compare_and_set: send ``target`` on condition ``expected``; a conflict reads first.
    * absolute, able to read: set ``min(target, current + target - expected)`` so sales
      not ingested yet stay off, then verify the set against the next read.
    * absolute, blind: set ``target``; its own orders make ``expected`` unknown, and the
      target is set again right after each ingest (the only window left is the poll's).
    """

    mode: str
    keys: bool
    reads: bool

    @classmethod
    def of(cls, caps: Capabilities, reads: bool) -> Policy:
        return cls(caps.stock_mode, caps.idempotency_keys and caps.stock_mode == "increment", reads)

    @property
    def blind(self) -> bool:
        """Absolute without reads: own orders cannot tell what the platform shows."""
        return self.mode == "absolute" and not self.reads

    @property
    def resend_safe(self) -> bool:
        """Sending a call that may have applied again cannot apply it twice."""
        return self.keys or self.mode == "compare_and_set"

    @property
    def tracks_calls(self) -> bool:
        """A call in flight is recorded, so a crash or timeout cannot let it apply twice."""
        return not self.blind


def absolute_value(target: int, expected: int | None, current: int | None) -> int:
    """The quantity an absolute set sends: the target less the sales the platform took
    that we have not ingested (``current`` below ``expected``); never above the target,
    never below 0. Unknown ``expected`` or ``current``: the target."""
    if expected is None or current is None:
        return max(0, target)
    return max(0, min(target, current + target - expected))
