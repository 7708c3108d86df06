"""Money: yuan text to integer fen exactly, and back."""

from __future__ import annotations

import pytest

from channelsync.sdk.money import fen_to_yuan, yuan_to_fen


@pytest.mark.parametrize("text, fen", [
    ("12.9", 1290),
    ("12.90", 1290),
    ("12.900", 1290),      # trailing zeros are not extra precision
    ("0", 0),
    ("0.01", 1),
    ("0.1", 10),
    ("  3.5 ", 350),       # surrounding whitespace from a CSV cell
    ("100", 10000),
    ("-0", 0),
    ("0.29", 29),          # 0.29 * 100 is 28.999... in float: must not be
    ("1.15", 115),
    ("99999999.99", 9999999999),
    (12, 1200),            # a number from TOML goes through str()
])
def test_yuan_to_fen(text, fen):
    assert yuan_to_fen(text) == fen
    assert isinstance(yuan_to_fen(text), int)


@pytest.mark.parametrize("text, words", [
    ("12.345", "more than 2 decimals"),
    ("0.001", "more than 2 decimals"),
    ("-1", "non-negative"),
    ("-0.01", "non-negative"),
    ("NaN", "non-negative"),
    ("Infinity", "non-negative"),
    ("abc", "expected yuan"),
    ("", "expected yuan"),
    ("12,90", "expected yuan"),
    ("¥12", "expected yuan"),
])
def test_yuan_to_fen_refuses_with_a_reason(text, words):
    with pytest.raises(ValueError, match=words) as info:
        yuan_to_fen(text)
    assert repr(text) in str(info.value)  # names the bad value


@pytest.mark.parametrize("fen, text", [
    (None, ""),
    (0, "0.00"),
    (1, "0.01"),
    (10, "0.10"),
    (99, "0.99"),
    (100, "1.00"),
    (1290, "12.90"),
    (-5, "-0.05"),
    (-1290, "-12.90"),
    (123456789, "1234567.89"),
])
def test_fen_to_yuan(fen, text):
    assert fen_to_yuan(fen) == text


def test_round_trip():
    for fen in list(range(1001)) + [10**12 + 7]:
        assert yuan_to_fen(fen_to_yuan(fen)) == fen
