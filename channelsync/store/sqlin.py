"""IN-lists of ``?``: the placeholders for a list of values, and the list cut in chunks
that keep a statement under SQLite's limit of 32,766 variables.

    for chunk in chunks(codes):
        store.execute(f"SELECT code FROM skus WHERE code IN ({marks(chunk)})", chunk)

A statement that binds other parameters beside the list, or the list twice, passes a
smaller ``size``; a list that is small by nature (a channel's warehouses, the channels
of a report) takes ``marks`` alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

T = TypeVar("T")

#: values per IN-list: far under SQLite's limit of 32,766 variables, and a statement a chunk
CHUNK = 5000


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``values`` (in their order; a set's, or sorted for a stable plan) ``size`` at a time."""
    values = values if isinstance(values, list) else list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def marks(values: Sized) -> str:
    """``?,?,?``: one placeholder per value."""
    return ",".join("?" * len(values))
