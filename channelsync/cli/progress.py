"""Progress bars for long file work, on a terminal only (never in pipes, logs or --json)."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

import click


@contextlib.contextmanager
def file_progress(source: str, enabled: bool = True) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """Yields the ``progress(stage, done, total)`` callback ``import_csv`` calls, or None off a
    terminal. One bar per stage: "reading" counts bytes, "writing" counts rows."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    bars: dict[str, tuple] = {}

    def advance(stage: str, done: int, total: int | None) -> None:
        if stage not in bars:
            for other, (bar, _) in list(bars.items()):
                bar.render_finish()
                del bars[other]
            unit = "" if stage == "writing" else " (bytes)"
            bar = click.progressbar(length=total or None, label=f"{stage} {source}{unit}", file=sys.stderr,
                                    show_eta=bool(total), show_pos=stage == "writing")
            bar.__enter__()
            bars[stage] = (bar, 0)
        bar, before = bars[stage]
        bar.update(max(0, done - before))
        bars[stage] = (bar, max(before, done))

    try:
        yield advance
    finally:
        for bar, _ in bars.values():
            bar.__exit__(None, None, None)
