"""A progress bar for long file work, on a terminal only (never in pipes, logs or --json)."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

import click

from channelsync.engine.csvfile import CsvFile


@contextlib.contextmanager
def file_progress(csvf: CsvFile, enabled: bool = True) -> Iterator[Callable[[CsvFile], None] | None]:
    """Yields the callback ``import_csv`` calls every few thousand rows, or None off a terminal."""
    if not enabled or not sys.stderr.isatty() or not csvf.size:
        yield None
        return
    with click.progressbar(length=csvf.size, label=f"reading {csvf.source}", file=sys.stderr,
                           show_eta=True, show_percent=True) as bar:
        done = 0

        def advance(f: CsvFile) -> None:
            nonlocal done
            bar.label = f"reading {f.source} (row {f.record:,})"
            bar.update(max(0, f.position - done))
            done = max(done, f.position)

        yield advance

