"""The documented bounds of every number an operator types (CSV or command line).

Anything outside is refused with the value and what was expected; nothing
beyond these reaches the database, so nothing later overflows a platform's
64-bit field or a sum over many rows.

  price, cost   yuan, digits with at most 2 decimals (an optional leading ¥),
                0 to 99,999,999.99; no exponent ("1e3"), no thousands separator
  stock         whole units, 0 to 1,000,000,000 (and an adjustment at most that)
  bundle qty    1 to 10,000 of each component
  codes         product and SKU codes: 1 to 100 characters, no control characters
"""

from __future__ import annotations

import re

MAX_PRICE_FEN = 99_999_999_99
MAX_UNITS = 1_000_000_000
MAX_BUNDLE_QTY = 10_000
MAX_CODE_LEN = 100

_PRICE = re.compile(r"[¥￥]?\s*(\d+)(?:\.(\d{1,2}))?")
_UNITS = re.compile(r"[+-]?\d+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def price(text: str) -> int:
    """Yuan text -> fen; ValueError saying what was expected."""
    m = _PRICE.fullmatch(text.strip())
    if not m:
        hint = " (no exponent)" if re.search(r"\d[eE][+-]?\d", text) else \
            " (no thousands separator)" if re.search(r"\d,\d{3}", text) else \
            " (more than 2 decimals)" if re.fullmatch(r"\s*\d+\.\d{3,}\s*", text) else ""
        raise ValueError(f"{text!r} is not a price{hint}: expected yuan like 129.90")
    whole, cents = m.group(1), (m.group(2) or "").ljust(2, "0")
    if len(whole.lstrip("0")) > 8:
        raise ValueError(f"{text!r} is too large: a price is at most {MAX_PRICE_FEN // 100:,}.99 yuan")
    return int(whole) * 100 + int(cents)


def units(text: str | int, *, signed: bool = False, what: str = "stock") -> int:
    """Whole units within 0..MAX_UNITS (or ±MAX_UNITS when ``signed``); ValueError otherwise."""
    value = text if isinstance(text, int) else None
    if value is None:
        if not _UNITS.fullmatch(text.strip()):
            raise ValueError(f"{text!r} is not a whole number of units")
        if len(text.strip().lstrip("+-").lstrip("0")) > 10:
            raise ValueError(f"{text!r} is too large: {what} is at most {MAX_UNITS:,}")
        value = int(text)
    low = -MAX_UNITS if signed else 0
    shown = repr(text.strip()) if isinstance(text, str) else str(value)  # as the operator wrote it
    if value < low:
        raise ValueError(f"{shown} is below {low}: {what} cannot be negative" if not signed
                         else f"{shown} is too small: {what} is at least {low:,}")
    if value > MAX_UNITS:
        raise ValueError(f"{shown} is too large: {what} is at most {MAX_UNITS:,}")
    return value


def code(text: str, what: str) -> str:
    """A product or SKU code; ValueError when empty, too long or holding control characters."""
    if not text:
        raise ValueError("is empty")
    if len(text) > MAX_CODE_LEN:
        raise ValueError(f"is {len(text)} characters long: a {what} is at most {MAX_CODE_LEN}")
    if _CONTROL.search(text):
        raise ValueError(f"{text!r} holds a control character")
    return text
