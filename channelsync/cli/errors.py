"""How a failed command ends: one message naming what and where, the documented exit
code, and with ``--json`` the same as JSON on stdout. Never a traceback on an
operator's screen: an unexpected error prints one line and a pointer to the file
its traceback (secrets redacted) was written to.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

import click

from channelsync.cli.app import EXIT_FAILED, EXIT_USAGE
from channelsync.sdk.errors import ChannelError, ChannelsyncError, UserError
from channelsync.store import StoreBusy, StoreError
from channelsync.telemetry import log

EXIT_INTERRUPTED = 130


def problems_of(exc: BaseException) -> list[dict]:
    """The problems an error carries, each {"location", "message"} (location may be None)."""
    source = getattr(exc, "source", None) or (str(exc.path) if getattr(exc, "path", None) else None)
    items = getattr(exc, "problems", None) or getattr(exc, "errors", None)
    if not items:
        return [{"location": source, "message": log.redact_text(str(exc))}]
    out = []
    for text in items:
        text = log.redact_text(str(text))
        where, sep, message = text.partition(": ")
        if not sep or " " in where.strip() and not where.startswith(("row ", "line ", "after line ", "header")):
            where, message = None, text  # no location before the message
        out.append({"file": source, "location": where, "message": message} if source
                   else {"location": where, "message": message})
    return out


def crash_log_path() -> Path:
    """Where an unexpected error's traceback goes: $CHANNELSYNC_LOG_DIR, else the user's state directory."""
    base = os.environ.get("CHANNELSYNC_LOG_DIR") or os.environ.get("XDG_STATE_HOME") or "~/.local/state"
    directory = Path(base).expanduser() / ("" if "CHANNELSYNC_LOG_DIR" in os.environ else "channelsync")
    return directory / "cli-errors.log"


def _write_crash(exc: BaseException) -> Path | None:
    text = log.redact_text("".join(traceback.format_exception(exc)))
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    entry = f"--- {stamp} channelsync {' '.join(sys.argv[1:2])} (pid {os.getpid()})\n{text}\n"
    for path in (crash_log_path(), Path(tempfile.gettempdir()) / f"channelsync-{os.geteuid()}" / "cli-errors.log"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(entry)
            return path
        except OSError:
            continue
    return None


def classify(exc: BaseException) -> tuple[int, str]:
    """(exit code, "error"/"failed"/"internal error") for an exception a command raised."""
    if isinstance(exc, (click.ClickException, UserError)) or type(exc) is StoreError:
        return EXIT_USAGE, "error"
    if isinstance(exc, (ChannelError, ChannelsyncError, StoreBusy)):
        return EXIT_FAILED, "failed"
    if isinstance(exc, (KeyboardInterrupt, click.exceptions.Abort)):
        return EXIT_INTERRUPTED, "interrupted"
    return EXIT_FAILED, "internal error"


def report(exc: BaseException, json_out: bool) -> int:
    """Print ``exc`` the way the operator (or a script) needs it; returns the exit code."""
    code, kind = classify(exc)
    if isinstance(exc, click.ClickException) and not isinstance(exc, click.UsageError):
        code = exc.exit_code if exc.exit_code not in (0, 1) else EXIT_USAGE
    crash = _write_crash(exc) if kind == "internal error" else None
    if kind == "internal error":
        where = f"details in {crash}" if crash else "its details could not be written to a log file"
        message = f"{type(exc).__name__}: {log.redact_text(str(exc)) or '(no message)'} ({where}; please report it)"
        problems = [{"location": None, "message": message}]
    elif kind == "interrupted":
        message, problems = "interrupted; a change in progress was rolled back", []
    elif isinstance(exc, click.ClickException):
        message = exc.format_message()
        where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else None
        problems = [{"location": where, "message": message}]
    else:
        message, problems = log.redact_text(str(exc)), problems_of(exc)
    if json_out:
        click.echo(json.dumps({"ok": False, "exit_code": code, "error": kind, "message": message,
                               "problems": problems}, ensure_ascii=False, indent=2))
    elif isinstance(exc, click.UsageError):
        exc.show()
    else:
        click.echo(f"{kind}: {message}", err=True)
    return code
