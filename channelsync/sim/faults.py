"""Fault injection for simulators: what a real network and a real platform do wrong.

A queued fault plays on the next ``count`` platform calls (optionally only
calls whose path, query or body contain ``match``). Each kind is what a
client really meets, so the client's own handling is what a test exercises:

``latency``       the answer comes ``seconds`` late (default 1).
``error_5xx``     HTTP ``status`` (default 503) with a proxy's HTML page.
``timeout``       the server holds the connection ``seconds`` (default
                  ``HOLD_SECONDS``, past the core's read timeout) and then drops
                  it without an answer. In-process (httpx ``WSGITransport``)
                  there is no socket to hold: ``httpx.ReadTimeout`` is raised.
``reset``         the connection is reset (TCP RST) without an answer;
                  in-process ``httpx.ReadError``.
``rate_limit``    the platform's own rate-limit answer, saying ``seconds``
                  (default 1) where the platform says how long to wait.
``auth_expired``  every issued token/session is invalidated; the platform's
                  expiry answer.
``malformed``     HTTP 200 whose body is not JSON (a proxy's error page).
``truncated``     HTTP 200 announcing more body than it sends, then the
                  connection closes; in-process ``httpx.RemoteProtocolError``.
``lost_answer``   the call is carried out, then the connection closes without
                  an answer (in-process ``httpx.ReadTimeout``): ``applied`` always.

``applied`` (timeout, reset, malformed, truncated; default false): the call is
carried out on the platform's state first and only its answer is lost — the
case where a client cannot know whether its write took effect.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import httpx

from channelsync.sim.types import Request, Response

FAULT_KINDS = ("latency", "error_5xx", "timeout", "reset", "rate_limit", "auth_expired", "malformed", "truncated",
               "lost_answer")

#: how long a ``timeout`` fault holds the connection: past the core's 15 s read timeout
HOLD_SECONDS = 30.0

#: WSGI environ key the real-HTTP server (``sim.server``) sets: it can drop a connection
#: (``DropConnection``) instead of answering; without it the fault raises httpx's own error
DROP_KEY = "channelsync.sim.can_drop"


class DropConnection(Exception):
    """Raised inside a simulator: the server closes the connection without an answer."""

    def __init__(self, reset: bool) -> None:
        super().__init__("connection reset" if reset else "connection dropped")
        self.reset = reset


def check(kind: str, params: dict[str, Any]) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
    if "seconds" in params and float(params["seconds"]) < 0:
        raise ValueError("seconds must not be negative")


def matches(fault: dict[str, Any], req: Request) -> bool:
    text = fault.get("match")
    if not text:
        return True
    haystack = f"{req.path}?{'&'.join(f'{k}={v}' for k, v in req.query_pairs)} {req.body.decode('utf-8', 'replace')}"
    return str(text) in haystack


def play(sim: Any, fault: dict[str, Any], req: Request, environ: dict,
         serve: Callable[[Request], Response]) -> Response | None:
    """The answer ``fault`` gives to ``req`` (None: serve the call normally). ``sim`` is the
    ``Simulator`` (not imported here: it imports this module)."""
    kind = fault["kind"]
    if kind == "latency":
        sim.closing.wait(float(fault.get("seconds", 1.0)))
        return None
    if kind == "error_5xx":
        return Response(int(fault.get("status", 503)), b"<html><body><h1>503 Service Temporarily Unavailable</h1>"
                        b"</body></html>", {"Content-Type": "text/html"})
    if kind == "rate_limit":
        return sim.rate_limit_answer(req, float(fault.get("seconds", 1.0)))
    if kind == "auth_expired":
        sim.expire_tokens()
        return sim.auth_expired_response(req)
    answer = serve(req) if fault.get("applied") or kind == "lost_answer" else None
    drop = environ.get(DROP_KEY)
    if kind == "lost_answer":
        if drop is None:
            raise httpx.ReadTimeout("simulated lost answer (the call applied)")
        raise DropConnection(reset=False)
    if kind == "malformed":
        return Response(200, b"<html><body>502 Bad Gateway</body></html>", {"Content-Type": "application/json"})
    if kind == "truncated":
        if drop is None:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        full = answer.body if answer is not None else {"result": {"items": []}}
        body = full if isinstance(full, bytes) else json.dumps(full, ensure_ascii=False).encode("utf-8")
        return Response(200, body[: max(1, len(body) // 2)], {"Content-Type": "application/json"},
                        declared_length=len(body) + 64)
    if kind == "timeout":
        if drop is None:
            raise httpx.ReadTimeout("simulated timeout: the platform held the connection")
        deadline = time.monotonic() + float(fault.get("seconds", HOLD_SECONDS))
        while time.monotonic() < deadline and not sim.closing.is_set():
            sim.closing.wait(0.1)
        raise DropConnection(reset=False)
    if kind == "reset":
        if drop is None:
            raise httpx.ReadError("[Errno 104] Connection reset by peer")
        raise DropConnection(reset=True)
    raise AssertionError(f"unhandled fault kind {kind}")  # check() keeps this unreachable
