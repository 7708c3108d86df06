"""structlog set-up: console renderer on a terminal, JSON otherwise; secrets redacted."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Iterable

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


def configure(fmt: str = "auto", level: str = "info", stream=None) -> None:
    stream = stream or sys.stderr
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
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
