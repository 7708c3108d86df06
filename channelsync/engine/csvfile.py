"""Reading a CSV file as merchants have it, one row at a time.

Encodings: UTF-8 with or without a BOM, GB18030 (a superset of GBK and GB2312,
what Chinese Excel and most 进销存 tools write) and UTF-16 with a BOM (Excel's
"Unicode text"). Delimiters: comma, tab or semicolon, chosen from the header.
Header names are matched case- and space-insensitively ("SKU Code" is
``sku_code``); a name that appears twice is refused, not silently overwritten.
Every problem is a ``CsvError`` naming the file and, where there is one, the row.

Rows stream: nothing holds the whole file, so a million-row file reads in
bounded memory; ``position``/``size`` feed a progress bar.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from typing import IO, Iterator

from channelsync.sdk.errors import UserError

ENCODINGS = ("utf-8", "gb18030", "utf-16")  # in the order they are tried (UTF-16 only with its BOM)
DELIMITERS = (",", "\t", ";")
_SAMPLE = 256 * 1024
_NAMES = {",": "comma", "\t": "tab", ";": "semicolon"}


class CsvError(UserError):
    """The file cannot be read as CSV: ``source`` (the file), ``where`` (a line or row, or
    None for the whole file) and why."""

    def __init__(self, source: str, where: str | None, message: str) -> None:
        self.source = source
        self.problems = [f"{where}: {message}" if where else message]
        super().__init__(f"{source}: {where + ': ' if where else ''}{message}")


def normalize(name: str) -> str:
    """A header name as matched: "  SKU Code " -> "sku_code"; "Stock: WH-SH" -> "stock:WH-SH"."""
    name = name.replace("\ufeff", "").strip()
    head, colon, tail = name.partition(":")
    head = re.sub(r"[\s\-]+", "_", head.strip()).lower()
    return f"{head}:{tail.strip()}" if colon else head


class _Counting(io.RawIOBase):
    """Counts the bytes read, for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[:len(data)] = data
        self.count += len(data)
        return len(data)


class CsvFile:
    """One CSV file: ``encoding``, ``delimiter``, ``columns`` (normalized names), then ``rows()``."""

    def __init__(self, stream: IO[bytes] | IO[str], source: str, size: int | None = None) -> None:
        self.source = source
        self.size = size
        self.line = 0  # physical lines read, for a decoding error's place
        if isinstance(stream, io.TextIOBase):  # already decoded (tests, the demo): no detection
            self._bytes = None
            self.encoding = "text"
            self._lines = iter(stream)
        else:
            self._bytes = _Counting(stream)
            buffered = io.BufferedReader(self._bytes, buffer_size=_SAMPLE)
            self.encoding = self._detect(buffered.peek(_SAMPLE)[:_SAMPLE])
            if self.encoding == "utf-16":  # no byte-wise line split: decoded as a stream
                self._lines = io.TextIOWrapper(buffered, encoding="utf-16", errors="strict", newline="")
            else:
                self._lines = self._decoded(buffered)
        first = self._read_line()
        if not first.strip():
            self._empty(first)
        self.delimiter = max(DELIMITERS, key=lambda d: (len(next(csv.reader([first], delimiter=d))), -DELIMITERS.index(d)))
        self.raw_header = next(csv.reader([first], delimiter=self.delimiter))
        self.columns = [normalize(h) for h in self.raw_header]
        self.record = 1

    # --- detection ---------------------------------------------------------------------
    def _detect(self, sample: bytes) -> str:
        if sample.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if not sample:
            self._empty("")
        if b"\x00" in sample:
            what = ("UTF-16 without a byte-order mark" if sample.count(b"\x00") * 3 > len(sample)
                    else "a binary file, not CSV")
            raise CsvError(self.source, None, f"cannot read: this looks like {what} (tried {', '.join(ENCODINGS)}); "
                           "save it as CSV in UTF-8")
        for encoding in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(encoding)().decode(sample, final=len(sample) < _SAMPLE)
                return encoding
            except UnicodeDecodeError:
                continue
        raise CsvError(self.source, None, f"cannot read: not text in any encoding tried ({', '.join(ENCODINGS)}); "
                       "save it as CSV in UTF-8")

    def _empty(self, first: str) -> None:
        raise CsvError(self.source, None, f"the file is empty{'' if not first else ' (the first line is blank)'}: "
                       "expected a header row such as product_code,sku_code,price")

    def _decoded(self, buffered: io.BufferedReader) -> Iterator[str]:
        """Line by line, so a decoding error names its exact line."""
        for raw in iter(buffered.readline, b""):
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError as exc:
                self._undecodable(exc, self.line + 1)
            self.line += 1

    def _read_line(self) -> str:
        # the header is one physical line: a quoted newline in a header name is not supported
        try:
            first = next(self._lines, "")
        except UnicodeDecodeError as exc:
            self._undecodable(exc, 1)
        return first.lstrip("\ufeff") if self.encoding != "text" else first

    def _undecodable(self, exc: UnicodeDecodeError, line: int):
        where = f"line {line}" if self.encoding != "utf-16" else f"after line {self.line}"
        raise CsvError(self.source, where, f"bytes that are not {self.encoding.removesuffix('-sig')} "
                       f"({exc.reason}): the file mixes encodings (tried {', '.join(ENCODINGS)}); "
                       "save it as CSV in UTF-8") from None

    # --- what callers use ----------------------------------------------------------------
    def describe(self) -> str:
        return f"{self.encoding}, {_NAMES[self.delimiter]}-separated"

    def duplicates(self) -> list[str]:
        """"header: column 'price' appears twice (columns 3 and 7)" for each repeated name."""
        where: dict[str, list[int]] = {}
        for i, name in enumerate(self.columns, start=1):
            where.setdefault(name, []).append(i)
        return [f"header: column {name!r} appears {len(cols)} times (columns {', '.join(map(str, cols[:-1]))} "
                f"and {cols[-1]}): which one is meant?" for name, cols in where.items() if len(cols) > 1 and name]

    @property
    def position(self) -> int:
        """Bytes read so far (0 for a text stream)."""
        return self._bytes.count if self._bytes is not None else 0

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(record number, fields); the header is record 1, blank lines are skipped."""
        reader = csv.reader(self._lines, delimiter=self.delimiter, strict=True)  # an unclosed quote is an error
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:  # from the UTF-16 stream
                self._undecodable(exc, self.line)
            except csv.Error as exc:
                hint = "; is a quote (\") left open?" if "end of data" in str(exc) or "expected after" in str(exc) else ""
                raise CsvError(self.source, f"row {self.record + 1}", f"not valid CSV ({exc}{hint})") from None
            self.record += 1
            if not fields or fields == [""]:
                continue
            yield self.record, fields
