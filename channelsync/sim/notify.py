"""Simulators send what their platform sends when buyers act, with the real signing and faults.

A plugin's simulator names its platform's messages with a ``Messages`` object
(class attribute ``messages``): how an order event becomes the request the
platform sends (``build``), and how a badly signed one looks (``forge``).
``Simulator.notify_to(url, settings)`` starts a ``Notifier``: every buyer
action (order placed, paid, cancelled, refunded, shipped, completed) is turned
into a message and sent from a thread — POSTed to ``url``, or, for a platform
whose client keeps a connection (Taobao TMC), held in a queue that the
simulator serves to that client (``Held``).

Faults, each a probability per message: ``lose`` (never sent), ``duplicate``
(sent twice), ``delay`` (held ``delay_seconds``), ``reorder`` (sent after the
next one), ``bad_signature`` (``forge``d). Counts are in ``Notifier.stats``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

EVENTS = ("created", "paid", "cancelled", "refunded", "shipped", "completed")


@dataclass
class Outgoing:
    """One message as the platform sends it."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    message_id: str = ""


class Messages:
    """A platform's messages; plugins subclass it (see module doc)."""

    #: True: the platform holds messages for a connected client instead of POSTing them; the
    #: simulator then routes ``held_path`` to ``serve`` (its message server)
    held: bool = False
    held_path: str = "/tmc/"

    def serve(self, sim: Any, req: Any) -> Any:
        raise NotImplementedError

    def build(self, sim: Any, event: str, order: Any, settings: dict[str, Any]) -> Outgoing | None:
        raise NotImplementedError

    def forge(self, out: Outgoing) -> Outgoing | None:
        """The same message with a wrong signature (default: the body changed after signing)."""
        return Outgoing(out.body + b" ", dict(out.headers), dict(out.query), out.message_id + "-forged")

    def settings(self, base_url: str = "") -> dict[str, Any]:
        """The sandbox's intake settings for the channel side (public fixtures, not secrets);
        ``base_url``: where the simulator is served (a held queue is served there)."""
        return {}


@dataclass
class Faults:
    lose: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    delay_seconds: float = 2.0
    reorder: float = 0.0
    bad_signature: float = 0.0
    seed: int | None = None


class Held:
    """Messages kept for a connected client (TMC): taken by a long poll, deleted on confirm."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.queue: deque[Outgoing] = deque(maxlen=10_000)  # nobody connected for long: the oldest go
        self.unconfirmed: dict[str, Outgoing] = {}

    def put(self, out: Outgoing) -> None:
        with self.cond:
            self.queue.append(out)
            self.cond.notify_all()

    def take(self, wait: float, limit: int = 100) -> list[Outgoing]:
        with self.cond:
            self.cond.wait_for(lambda: bool(self.queue), timeout=wait)
            batch = [self.queue.popleft() for _ in range(min(limit, len(self.queue)))]
            for out in batch:
                self.unconfirmed[out.message_id] = out
            return batch

    def confirm(self, ids: list[str]) -> None:
        with self.cond:
            for i in ids:
                self.unconfirmed.pop(i, None)

    def redeliver(self) -> None:
        """What was taken and not confirmed goes back (a client that dropped its connection)."""
        with self.cond:
            self.queue.extendleft(reversed(list(self.unconfirmed.values())))
            self.unconfirmed.clear()
            self.cond.notify_all()


class Notifier:
    def __init__(self, sim: Any, messages: Messages, settings: dict[str, Any], url: str | None = None,
                 faults: Faults | None = None, held: Held | None = None) -> None:
        self.sim, self.messages, self.settings, self.url = sim, messages, settings, url
        self.faults = faults or Faults()
        self.rnd = random.Random(self.faults.seed)
        self.held = held
        self.stats = {"built": 0, "sent": 0, "lost": 0, "duplicated": 0, "delayed": 0, "reordered": 0,
                      "forged": 0, "failed": 0}
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Outgoing]] = []
        self._seq = 0
        self._held_back: Outgoing | None = None
        self._stop = False
        self._http = httpx.Client(timeout=5.0) if url else None
        self._thread = threading.Thread(target=self._run, name=f"notify-{messages.__class__.__name__}", daemon=True)
        self._thread.start()

    def emit(self, event: str, order: Any) -> None:
        """Called by the simulator (under its lock): build now, send from the thread."""
        out = self.messages.build(self.sim, event, order, self.settings)
        if out is None:
            return
        f, now = self.faults, time.monotonic()
        with self._cond:
            self.stats["built"] += 1
            if self.rnd.random() < f.lose:
                self.stats["lost"] += 1
                return
            if self.rnd.random() < f.bad_signature:
                self.stats["forged"] += 1
                out = self.messages.forge(out)
                if out is None:  # the platform's channel cannot carry a forgery (TMC)
                    return
            due = now
            if self.rnd.random() < f.delay:
                self.stats["delayed"] += 1
                due += f.delay_seconds
            copies = 2 if self.rnd.random() < f.duplicate else 1
            self.stats["duplicated"] += copies - 1
            for _ in range(copies):
                self._seq += 1
                self._queue.append((due, self._seq, out))
            self._queue.sort(key=lambda item: (item[0], item[1]))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._cond.wait(0.05 if self._queue else 0.5)
                if self._stop:
                    return
                _, _, out = self._queue.pop(0)
                if self._held_back is None and self.rnd.random() < self.faults.reorder and self._queue:
                    self.stats["reordered"] += 1
                    self._held_back = out  # goes right after the next one
                    continue
                batch = [out] + ([self._held_back] if self._held_back is not None else [])
                self._held_back = None
            for item in batch:
                self._send(item)

    def _send(self, out: Outgoing) -> None:
        try:
            if self.held is not None:
                self.held.put(out)
            else:
                response = self._http.post(self.url, content=out.body, headers=out.headers, params=out.query)
                if response.status_code >= 500:
                    raise httpx.HTTPStatusError("server error", request=response.request, response=response)
            with self._cond:
                self.stats["sent"] += 1
        except httpx.HTTPError:
            with self._cond:
                self.stats["failed"] += 1

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and self._held_back is None

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=5)
        if self._http is not None:
            self._http.close()
