"""What a channel can receive from its platform, and the contract for checking it.

A platform message is a *doorbell, never the truth*: a verified message only
tells the core "look at this channel now" (and, as a hint, which order). The
core then polls the channel the usual way; nothing in a message is written to
the store. So a lost, forged, duplicated or reordered message can cost
latency, never an order or a unit of stock.

A plugin declares what it can receive with one ``Receiver`` subclass and
registers it for its channel type::

    @hookimpl
    def register_intake(register):
        register("ownsite", WooWebhooks)

Two kinds:

* ``kind = "webhook"``: the platform calls us. The core serves one path per
  channel (``/intake/<channel>``), bounds the body to ``max_body`` before
  reading it, and hands the raw request to ``verify``. ``verify`` checks the
  platform's signature or token and returns the doorbells in the message; it
  never calls the platform (the answer is due within ``deadline`` seconds).
* ``kind = "listener"``: we call the platform and keep a long-lived connection
  (Taobao TMC). The core runs ``listen`` in a thread and reconnects with
  back-off whenever it returns or raises; each message read goes through the
  same staleness and replay checks as a webhook's.

The core, not the plugin, rejects stale messages (``Bell.sent_at`` older than
the channel's ``max_age``, or too far in the future) and replays (a
``Bell.message_id`` seen within that window).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, ClassVar, Literal, Mapping

import httpx

from channelsync.sdk.channel import Setting

#: why a message was not accepted; ``status`` and ``/metrics`` count by these
REASONS = ("signature", "stale", "replay", "size", "unknown_channel", "malformed", "method", "disabled")


class IntakeRejected(Exception):
    """Raised by ``Receiver.verify``: the message is not accepted (nothing happens)."""

    def __init__(self, reason: str, detail: str = "", status: int | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown intake rejection reason {reason!r} (expected one of {', '.join(REASONS)})")
        self.reason = reason
        self.detail = detail or reason
        #: the HTTP status to answer; default: 413 for size, 405 for method, 404 unknown, else 401/400
        self.status = status or {"size": 413, "method": 405, "unknown_channel": 404, "disabled": 404,
                                 "malformed": 400}.get(reason, 401)
        super().__init__(f"{reason}: {self.detail}")


@dataclass(frozen=True)
class IntakeRequest:
    """One HTTP request on a channel's intake path, as the platform sent it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class Bell:
    """One verified doorbell: "something happened on this channel".

    ``message_id`` identifies the platform's message for replay detection (a
    retried delivery of the same message is a replay: it is answered as
    accepted but rings nothing). ``sent_at`` is the platform's own timestamp
    covered by its signature when there is one; None when the platform sends
    none (then only the replay check applies). ``order_id`` names the order,
    when the message does; it is a hint for logs, the poll reads the truth.
    """

    message_id: str
    sent_at: datetime | None = None
    topic: str = ""
    order_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """What the intake endpoint answers."""

    status: int = 200
    body: bytes = b"success"
    content_type: str = "text/plain; charset=utf-8"


@dataclass
class Verified:
    """What ``Receiver.verify`` returns: the doorbells, and optionally a special answer."""

    bells: list[Bell] = field(default_factory=list)
    reply: Reply | None = None  # None: ``Receiver.accepted`` (e.g. a URL-verification echo)


class Receiver:
    """What one platform pushes and how to verify it; one instance per channel."""

    kind: ClassVar[Literal["webhook", "listener"]] = "webhook"
    #: the platform messages (topics / events) this receiver turns into doorbells
    topics: ClassVar[tuple[str, ...]] = ()
    #: keys of ``[channels.NAME.intake]`` besides the core's (``enabled``, ``max_age``)
    settings_schema: ClassVar[dict[str, Setting]] = {}
    #: the largest body the platform sends, with room; larger is refused unread (413)
    max_body: ClassVar[int] = 64 * 1024
    #: seconds the platform waits for our answer before it counts a failure
    deadline: ClassVar[float] = 5.0
    #: seconds a message's own timestamp may be old (or ahead, for clock skew)
    max_age: ClassVar[float] = 300.0

    def __init__(self, channel: str, settings: Mapping[str, Any]) -> None:
        self.channel = channel
        self.settings = {key: spec.default for key, spec in self.settings_schema.items()} | dict(settings)

    @classmethod
    def check(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        """Problems with settings the schema cannot express (setting key -> what is expected);
        ``check`` and the daemon's start report them with their key path."""
        return {}

    def verify(self, request: IntakeRequest) -> Verified:
        """Check the signature/token; return the doorbells, or raise ``IntakeRejected``.

        Must not call the platform or block: the answer is due in ``deadline``."""
        raise NotImplementedError

    def accepted(self, request: IntakeRequest) -> Reply:
        """The answer to a verified message (also to a verified replay)."""
        return Reply()

    def rejected(self, request: IntakeRequest, error: IntakeRejected) -> Reply:
        """The answer to a refused message; the reason is named, never a secret."""
        return Reply(error.status, f"rejected: {error.reason}\n".encode())

    # --- listeners only --------------------------------------------------
    def listen(self, http: httpx.Client, deliver: Callable[[list[Bell]], None], stop: threading.Event) -> None:
        """One connection's life: connect, call ``deliver([])`` once connected (``status`` shows the
        connection up), then ``deliver`` each message's doorbells until the connection ends or
        ``stop`` is set. Raise or return to be reconnected (with back-off); never sleep to retry."""
        raise NotImplementedError
