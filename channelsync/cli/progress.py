"""Progress bars for commands that can take more than a moment: drawn on stderr only when it
is a terminal, with log lines held back while the bar is on screen (then written after it)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

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
