"""Progress bars for commands that can take more than a moment: drawn on stderr only when it
is a terminal, with log lines held back while a bar is on screen (then written after it)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click

from channelsync.telemetry import log


@contextlib.contextmanager
def bar(label: str, length: int, show_pos: bool = True) -> Iterator[click.progressbar]:
    """A click progress bar on stderr; the bar clamps when ``length`` was an underestimate."""
    # no terminal, no bar drawn: log lines then go out as they come, not at the end
    holding = log.held() if sys.stderr.isatty() else contextlib.nullcontext()
    with holding, click.progressbar(length=max(1, length), label=label, file=sys.stderr,
                                       show_pos=show_pos) as b:
        yield b


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
            for other, (b, _) in list(bars.items()):
                b.render_finish()
                del bars[other]
            unit = "" if stage == "writing" else " (bytes)"
            b = click.progressbar(length=total or None, label=f"{stage} {source}{unit}", file=sys.stderr,
                                  show_eta=bool(total), show_pos=stage == "writing")
            b.__enter__()
            bars[stage] = (b, 0)
        b, before = bars[stage]
        b.update(max(0, done - before))
        bars[stage] = (b, max(before, done))

    with log.held():
        try:
            yield advance
        finally:
            for b, _ in bars.values():
                b.__exit__(None, None, None)
