"""structlog set-up: console renderer on a terminal, JSON otherwise; secrets redacted."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from typing import Any, Iterable, Iterator

import structlog

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_SENSITIVE_KEYS = ("secret", "password", "token", "sign", "session", "authorization", "cookie")
REDACTED = "***"


def register_secrets(values: Iterable[Any]) -> None:
    """Values that must never appear in a log line (resolved secrets from config)."""
    with _LOCK:
        _SECRETS.update(str(v) for v in values if v and len(str(v)) >= 4)


def redact_text(text: str) -> str:
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact(_, __, event: dict) -> dict:
    for key, value in list(event.items()):
        lowered = key.lower()
        if any(s in lowered for s in _SENSITIVE_KEYS) and key not in ("token_expires_at",):
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = redact_text(value)
        elif isinstance(value, Exception):
            event[key] = redact_text(str(value))
    return event


class _Held:
    """The stream log lines go to; while a progress bar is drawn they wait here and follow it,
    so a bar and a log line never share a terminal line."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.waiting: list[str] | None = None
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            if self.waiting is not None:
                self.waiting.append(text)
                return len(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


_HELD: list[_Held] = []


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold log lines back for the block (a progress bar is on screen); write them after it."""
    target = _HELD[-1] if _HELD else None
    if target is None or target.waiting is not None:
        yield
        return
    target.waiting = []
    try:
        yield
    finally:
        with target.lock:
            lines, target.waiting = target.waiting, None
        for line in lines:
            target.stream.write(line)
        target.stream.flush()


def configure(fmt: str = "auto", level: str = "info", stream=None) -> None:
    stream = stream or sys.stderr
    _HELD[:] = [_Held(stream)]
    json_out = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer = structlog.processors.JSONRenderer() if json_out else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(_HELD[0]),
        cache_logger_on_first_use=False,
    )
