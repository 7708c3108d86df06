"""Paging: the core follows page tokens (and catches loops); windows split a time range."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channelsync.sdk.errors import Rejected
from channelsync.sdk.models import Page
from channelsync.sync import paging


class Pages:
    """A platform whose page for each token is given up front; records the tokens asked for."""

    def __init__(self, book: dict) -> None:
        self.book = book
        self.asked: list[str | None] = []

    def __call__(self, token: str | None) -> Page:
        self.asked.append(token)
        return self.book[token]


def test_pages_follows_tokens_until_none():
    fetch = Pages({None: Page([1, 2], "a"), "a": Page([3], "b"), "b": Page([4, 5], None)})
    assert [list(p.items) for p in paging.pages(fetch)] == [[1, 2], [3], [4, 5]]
    assert fetch.asked == [None, "a", "b"]


def test_a_single_page_is_fetched_once():
    fetch = Pages({None: Page([], None)})
    assert [p.items for p in paging.pages(fetch)] == [[]]
    assert fetch.asked == [None]


def test_an_empty_page_with_a_token_is_followed():
    fetch = Pages({None: Page([], "a"), "a": Page([1], None)})
    assert list(paging.items(fetch)) == [1]


def test_a_repeated_token_is_a_loop():
    fetch = Pages({None: Page([1], "a"), "a": Page([2], "b"), "b": Page([3], "a")})
    seen = []
    with pytest.raises(Rejected) as info:
        for page in paging.pages(fetch):
            seen.extend(page.items)
    assert info.value.code == "paging-loop"
    assert "'a'" in str(info.value)
    assert seen == [1, 2, 3]  # the pages before the loop were given out
    assert fetch.asked == [None, "a", "b"]  # and "a" is not fetched a second time


def test_a_page_pointing_at_itself_is_a_loop():
    fetch = Pages({None: Page([1], "a"), "a": Page([2], "a")})
    with pytest.raises(Rejected) as info:
        list(paging.pages(fetch))
    assert info.value.code == "paging-loop"
    assert fetch.asked == [None, "a"]


def test_more_than_max_pages_is_refused(monkeypatch):
    monkeypatch.setattr(paging, "MAX_PAGES", 3)
    asked: list = []

    def endless(token):
        asked.append(token)
        return Page([len(asked)], f"t{len(asked)}")

    with pytest.raises(Rejected) as info:
        list(paging.pages(endless))
    assert info.value.code == "paging-limit"
    assert len(asked) == 3


def test_exactly_max_pages_is_fine(monkeypatch):
    monkeypatch.setattr(paging, "MAX_PAGES", 3)
    fetch = Pages({None: Page([1], "a"), "a": Page([2], "b"), "b": Page([3], None)})
    assert list(paging.items(fetch)) == [1, 2, 3]


def test_items_flattens_pages_lazily():
    fetch = Pages({None: Page(["x", "y"], "a"), "a": Page(["z"], None)})
    it = paging.items(fetch)
    assert next(it) == "x"
    assert fetch.asked == [None]  # the next page is fetched only when needed
    assert list(it) == ["y", "z"]
    assert fetch.asked == [None, "a"]


def test_a_fetch_error_propagates():
    def fetch(token):
        if token is None:
            return Page([1], "a")
        raise Rejected("bad token", code="40")

    it = paging.items(fetch)
    assert next(it) == 1
    with pytest.raises(Rejected, match="bad token"):
        next(it)


T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def test_windows_split_a_range():
    assert list(paging.windows(T0, T0 + 2.5 * HOUR, HOUR)) == [
        (T0, T0 + HOUR), (T0 + HOUR, T0 + 2 * HOUR), (T0 + 2 * HOUR, T0 + 2.5 * HOUR)]


def test_a_range_shorter_than_the_limit_is_one_window():
    assert list(paging.windows(T0, T0 + timedelta(minutes=5), HOUR)) == [(T0, T0 + timedelta(minutes=5))]


def test_an_exact_multiple_leaves_no_empty_window():
    assert list(paging.windows(T0, T0 + 2 * HOUR, HOUR)) == [(T0, T0 + HOUR), (T0 + HOUR, T0 + 2 * HOUR)]


@pytest.mark.parametrize("until", [T0, T0 - timedelta(seconds=1)])
def test_no_windows_when_since_is_not_before_until(until):
    assert list(paging.windows(T0, until, HOUR)) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(10**3, 10**6))  # at most 1000 windows
def test_windows_are_contiguous_bounded_and_cover_exactly(span_s, longest_s):
    until, longest = T0 + timedelta(seconds=span_s), timedelta(seconds=longest_s)
    wins = list(paging.windows(T0, until, longest))
    if span_s == 0:
        assert wins == []
        return
    assert wins[0][0] == T0 and wins[-1][1] == until
    for (_, e1), (s2, _) in pairwise(wins):
        assert e1 == s2
    assert all(s < e <= s + longest for s, e in wins)
    assert all(e - s == longest for s, e in wins[:-1])  # only the last may be short
