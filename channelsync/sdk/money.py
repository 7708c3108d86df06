"""Money as integer fen; yuan strings converted exactly (never through float)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext


def yuan_to_fen(text: str) -> int:
    """"12.9" -> 1290. Raises ValueError naming the problem."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"not a price: {text!r} (expected yuan like 12.90)") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a price: {text!r} (expected a non-negative amount)")
    with localcontext() as ctx:  # exact for any length: the default 28 digits would round silently
        ctx.prec = max(28, len(value.as_tuple().digits) + 4)
        fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{text!r} has more than 2 decimals")
    return int(fen)


def fen_to_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
