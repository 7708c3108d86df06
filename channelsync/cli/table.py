"""Tables and times for people: a header on every table, columns that line up even with
Chinese names (a CJK character takes two cells), colour only on a terminal, ages not stamps."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def width(text: str) -> int:
    """Terminal cells ``text`` takes: wide and full-width characters count 2, colour codes 0."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in _ANSI.sub("", text))


def _pad(text: str, cells: int, right: bool) -> str:
    gap = " " * max(0, cells - width(text))
    return gap + text if right else text + gap


def render(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = (),
           empty: str = "(none)") -> str:
    """A plain table: a header row, a rule, one line per row; ``right``: column indexes to right-align."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(_pad(v, widths[i], i in right) for i, v in enumerate(values)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells] if cells else [empty]
    return "\n".join(out)


HEALTH_COLOURS = {"ok": "green", "degraded": "yellow", "failing": "red", "unknown": "bright_black",
                  "disabled": "bright_black", "LOW": "red", "EXPIRED": "red"}


def paint(word: str, colour: bool) -> str:
    """``word`` in its health colour when writing to a terminal (never in pipes or --json)."""
    fg = HEALTH_COLOURS.get(word)
    return click.style(word, fg=fg, bold=fg == "red") if colour and fg else word


def age(stamp: str | datetime | None, now: datetime | None = None) -> str:
    """"12 s ago", "5 min ago", "3 h ago", "2 d ago"; "in 4 h" for a time ahead; "never"."""
    if stamp is None or stamp == "":
        return "never"
    when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    ahead, seconds = seconds < 0, abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * (2 if unit != "min" else 1):
            amount = f"{seconds // size} {unit}"
            break
    else:
        amount = f"{seconds} s"
    return f"in {amount}" if ahead else f"{amount} ago"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def change(now: float | None, before: float | None) -> str:
    """"+12.5%", "-3.0%", "new" (nothing before), "-" (nothing either time)."""
    if not before:
        return "new" if now else "-"
    return f"{(now or 0) / before * 100 - 100:+.1f}%"
