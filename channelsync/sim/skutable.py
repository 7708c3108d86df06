"""A compact SKU table for the in-process fake platform.

A resync of 100,000 SKUs on four fakes is measured in one process, fakes included:
as a ``dict`` of ``SimSku`` dataclasses they held ~430 bytes a SKU (170 MB for
400,000) before the resync read a page. Here every column is an array of ints, a
list of shared strings or a sparse dict of the rare values (a title that is not
the merchant code, a description, an id the platform did not number itself), about
60 bytes a SKU. To every caller it is still the ``dict`` of ``SimSku`` by external
id the simulators use: each access hands out a ``SkuRow`` view that reads and
writes the columns, so the platform's arithmetic (sales, pushes, refusals at 0) is
the same code on the same numbers.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import MutableMapping
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ODD = -1  # an id kept in the sparse dicts, not in the int column


def _num(value: Any) -> int | None:
    """The int a platform-numbered id stands for ("1000001" -> 1000001), else None."""
    if isinstance(value, str) and value.isdigit() and value.isascii() and (value == "0" or value[0] != "0"):
        return int(value)
    return None


class SkuRow:
    """One SKU of a ``SkuTable``: the attributes of ``SimSku``, read from and written to its columns."""

    __slots__ = ("_t", "_i")

    def __init__(self, table: SkuTable, row: int) -> None:
        self._t, self._i = table, row

    @property
    def sku_code(self) -> str | None:
        return self._t._code[self._i]

    @sku_code.setter
    def sku_code(self, value: str | None) -> None:
        title = self.title  # a title that followed the old code keeps its text
        self._t._code[self._i] = value
        self.title = title

    @property
    def external_id(self) -> str:
        return self._t._ext_of(self._i)

    @property
    def item_id(self) -> str:
        t, i = self._t, self._i
        return t._item_odd[i] if t._item[i] == _ODD else str(t._item[i])

    @item_id.setter
    def item_id(self, value: str) -> None:
        self._t._set_item(self._i, value)

    @property
    def quantity(self) -> int:
        return self._t._qty[self._i]

    @quantity.setter
    def quantity(self, value: int) -> None:
        self._t._qty[self._i] = value

    @property
    def price(self) -> int:
        return self._t._price[self._i]

    @price.setter
    def price(self, value: int) -> None:
        self._t._price[self._i] = value

    @property
    def title(self) -> str:
        return self._t._title.get(self._i, self._t._code[self._i] or "")

    @title.setter
    def title(self, value: str) -> None:
        if value == (self._t._code[self._i] or ""):
            self._t._title.pop(self._i, None)
        else:
            self._t._title[self._i] = value

    @property
    def description(self) -> str:
        return self._t._desc.get(self._i, "")

    @description.setter
    def description(self, value: str) -> None:
        if value:
            self._t._desc[self._i] = value
        else:
            self._t._desc.pop(self._i, None)

    @property
    def on_shelf(self) -> bool:
        return bool(self._t._shelf[self._i])

    @on_shelf.setter
    def on_shelf(self, value: bool) -> None:
        self._t._shelf[self._i] = int(bool(value))

    @property
    def modified_at(self) -> datetime:
        t, i = self._t, self._i
        return t._mod_odd[i] if i in t._mod_odd else _EPOCH + timedelta(microseconds=t._mod[i])

    @modified_at.setter
    def modified_at(self, value: datetime) -> None:
        self._t._set_mod(self._i, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SkuRow) and other._t is self._t and other._i == self._i

    def __hash__(self) -> int:
        return hash((id(self._t), self._i))

    def __repr__(self) -> str:
        return (f"SkuRow(sku_code={self.sku_code!r}, external_id={self.external_id!r}, item_id={self.item_id!r}, "
                f"quantity={self.quantity}, price={self.price}, on_shelf={self.on_shelf})")


class SkuTable(MutableMapping):
    """SKUs by external id, in insertion order, stored by column (see the module's doc)."""

    def __init__(self) -> None:
        self._code: list[str | None] = []
        self._ext = array("q")  # the platform's own ids, ascending; an odd row repeats the one before
        self._ext_odd: dict[str, int] = {}  # other ids -> row
        self._odd_rows: dict[int, str] = {}  # row -> its other id
        self._item = array("q")
        self._item_odd: dict[int, str] = {}
        self._qty = array("q")
        self._price = array("q")
        self._shelf = bytearray()
        self._alive = bytearray()
        self._title: dict[int, str] = {}
        self._desc: dict[int, str] = {}
        self._mod = array("q")  # microseconds since the epoch, UTC
        self._mod_odd: dict[int, datetime] = {}  # a naive time, kept as it was given
        self._live = 0

    # --- rows ---------------------------------------------------------------
    def _row(self, key: Any) -> int | None:
        """The live row of ``key``, or None."""
        row = self._ext_odd.get(key) if isinstance(key, str) else None
        if row is None:
            n = _num(key)
            if n is None:
                return None
            row = bisect_left(self._ext, n)
            if row >= len(self._ext) or self._ext[row] != n or row in self._odd_rows:
                return None
        return row if self._alive[row] else None

    def _ext_of(self, row: int) -> str:
        return self._odd_rows[row] if row in self._odd_rows else str(self._ext[row])

    def _set_item(self, row: int, value: str) -> None:
        n = _num(value)
        if n is None:
            self._item[row] = _ODD
            self._item_odd[row] = value
        else:
            self._item[row] = n
            self._item_odd.pop(row, None)

    def _set_mod(self, row: int, value: datetime) -> None:
        if value.tzinfo is None:
            self._mod_odd[row] = value
        else:
            self._mod_odd.pop(row, None)
            self._mod[row] = (value - _EPOCH) // timedelta(microseconds=1)

    def _append(self, key: str) -> int:
        row = len(self._code)
        n = _num(key)
        last = self._ext[-1] if self._ext else -1
        if n is not None and n > last:
            self._ext.append(n)
        else:
            self._ext.append(last)
            self._ext_odd[key] = row
            self._odd_rows[row] = key
        self._code.append(None)
        for column in (self._item, self._qty, self._price, self._mod):
            column.append(0)
        self._shelf.append(1)
        self._alive.append(1)
        self._live += 1
        return row

    def row(self, row: int) -> SkuRow:
        return SkuRow(self, row)

    # --- the dict interface ---------------------------------------------------
    def __getitem__(self, key: str) -> SkuRow:
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        return SkuRow(self, row)

    def __setitem__(self, key: str, sku: Any) -> None:
        values = (sku.sku_code, sku.item_id, sku.quantity, sku.price, sku.title, sku.description, sku.on_shelf,
                  sku.modified_at)  # read all first: ``sku`` may be a view of the row written
        row = self._row(key)
        if row is None:
            row = self._append(key)
        view = SkuRow(self, row)
        (code, view.item_id, view.quantity, view.price, title, view.description, view.on_shelf,
         view.modified_at) = values
        self._code[row] = code
        view.title = title

    def __delitem__(self, key: str) -> None:
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        # the row's values stay: a view handed out before (a deleted listing an old order names) still reads them
        self._alive[row] = 0
        self._live -= 1
        if row in self._odd_rows:
            del self._ext_odd[self._odd_rows[row]]

    def __contains__(self, key: object) -> bool:
        return self._row(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (self._ext_of(row) for row in self._live_rows(0))

    def __len__(self) -> int:
        return self._live

    def _live_rows(self, start: int) -> Iterator[int]:
        alive, row = self._alive, start
        while True:
            row = alive.find(1, row)
            if row < 0:
                return
            yield row
            row += 1

    def values(self) -> _Values:  # type: ignore[override]  # a view without a lookup per key
        return _Values(self)

    def items(self) -> Iterator[tuple[str, SkuRow]]:  # type: ignore[override]
        return ((self._ext_of(row), SkuRow(self, row)) for row in self._live_rows(0))

    def clear(self) -> None:
        # every row dead, its values kept (as ``del``: a view handed out before still reads them)
        self._alive = bytearray(len(self._alive))
        self._ext_odd.clear()
        self._live = 0

    # --- what the fake's own calls use ----------------------------------------
    def by_code(self, code: str) -> SkuRow | None:
        """The first live SKU with merchant code ``code`` (a scan at C speed, no view per row)."""
        row = -1
        while True:
            try:
                row = self._code.index(code, row + 1)
            except ValueError:
                return None
            if self._alive[row]:
                return SkuRow(self, row)

    def page(self, start: int, size: int) -> tuple[list[SkuRow], int | None]:
        """Up to ``size`` live SKUs from row ``start`` on, and the row the next page starts at
        (None: none left). A token is a row, so a listing deleted meanwhile moves no other."""
        found: list[SkuRow] = []
        rows = self._live_rows(start)
        for row in rows:
            if len(found) == size:
                return found, row
            found.append(SkuRow(self, row))
        return found, None

    def listed_page(self, start: int, size: int) -> tuple[list[tuple], int | None]:
        """``page`` with each SKU as a ``Listing``'s fields (external_id, sku_code, item_id,
        quantity, price, on_shelf, title), read off the columns without a view per row (a
        100,000-SKU resync reads 16,000 pages of the fakes)."""
        out: list[tuple] = []
        code, item, item_odd, qty, price, shelf, title = (self._code, self._item, self._item_odd, self._qty,
                                                          self._price, self._shelf, self._title)
        for row in self._live_rows(start):
            if len(out) == size:
                return out, row
            c = code[row]
            out.append((self._ext_of(row), c, item_odd[row] if item[row] == _ODD else str(item[row]), qty[row],
                        price[row], bool(shelf[row]), title.get(row, c or "")))
        return out, None


class _Values:
    def __init__(self, table: SkuTable) -> None:
        self._t = table

    def __iter__(self) -> Iterator[SkuRow]:
        return (SkuRow(self._t, row) for row in self._t._live_rows(0))

    def __len__(self) -> int:
        return len(self._t)
