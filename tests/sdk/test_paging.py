"""The paginators a plugin declares: where each next page is, and the tokens the core keeps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from channelsync.sdk import (
    At,
    Channel,
    Detail,
    Keyset,
    NewestFirst,
    NextToken,
    Offset,
    PageNumber,
    Phases,
    Reply,
)
from channelsync.sdk.errors import Rejected
from channelsync.sdk.paging import decode, encode
from channelsync.sync import paging

T0 = datetime(2024, 11, 11, tzinfo=timezone.utc)


def walk(paginator, data: list, size: int = 3, **reply_fields):
    """Pages of ``data`` as a platform answering ``at`` the paginator's way would serve them."""
    at, seen = paginator.first(size), []
    for _ in range(50):
        start = at.offset if isinstance(paginator, Offset) else (at.page - 1) * size
        chunk = data[start:start + size]
        seen.append(chunk)
        at = paginator.next(at, Reply(chunk, **reply_fields))
        if at is None:
            return seen
    raise AssertionError("never stopped")


@pytest.mark.parametrize("fields", [{}, {"total": 7}, {"total_pages": 3}])
def test_page_numbers_stop_after_the_last_page_by_total_or_short_page(fields):
    assert walk(PageNumber(), list(range(7)), **fields) == [[0, 1, 2], [3, 4, 5], [6]]


def test_page_numbers_on_an_exact_multiple_need_a_total_to_save_the_empty_call():
    assert walk(PageNumber(), list(range(6))) == [[0, 1, 2], [3, 4, 5], []]
    assert walk(PageNumber(), list(range(6)), total=6) == [[0, 1, 2], [3, 4, 5]]


def test_page_numbers_may_start_at_zero():
    pages = PageNumber(first_page=0)
    assert pages.first(10).page == 0 and pages.next(pages.first(10), Reply([1] * 10, total=20)).page == 1


def test_offset_moves_by_the_records_a_page_held_not_the_items_it_became():
    at = Offset().first(3)
    at = Offset().next(at, Reply(["a", "b", "c", "d"], count=3))  # 3 products became 4 listings
    assert at.offset == 3
    assert Offset().next(at, Reply(["e"], count=1)) is None


def test_next_token_follows_the_platform_and_stops_on_none_empty_or_has_more_false():
    at = NextToken().first(10)
    assert NextToken().next(at, Reply([1], next_token="k2")).token == "k2"
    assert NextToken().next(at, Reply([1], next_token=None)) is None
    assert NextToken().next(at, Reply([], next_token="k2")) is None
    assert NextToken().next(at, Reply([1], next_token="k2", has_more=False)) is None


def test_keyset_moves_its_lower_bound_and_counts_pages_within_one_key():
    keys = Keyset(key=lambda o: o[1])
    at = keys.first(2)
    at = keys.next(at, Reply([("a", T0), ("b", T0 + timedelta(seconds=5))]))
    assert (at.key, at.page) == (T0 + timedelta(seconds=5), 1)
    same = keys.next(at, Reply([("c", at.key), ("d", at.key)]))  # a whole page within one second
    assert (same.key, same.page) == (at.key, 2)
    assert keys.next(same, Reply([("e", at.key)])) is None  # short page: done


def test_newest_first_moves_its_upper_bound_down():
    newest = NewestFirst(key=lambda o: o[1])
    at = newest.next(newest.first(2), Reply([("b", T0 + timedelta(seconds=9)), ("a", T0 + timedelta(seconds=4))]))
    assert at.key == T0 + timedelta(seconds=4)


def test_keyset_over_details_needs_the_reply_to_name_its_last_key():
    keys = Keyset()
    with pytest.raises(Rejected) as info:
        keys.next(keys.first(1), Reply([Detail("1", lambda: None)]))
    assert info.value.code == "page-key"
    assert keys.next(keys.first(1), Reply([Detail("1", lambda: None)], last_key=7)).key == 7


def test_phases_page_each_value_in_turn():
    phases = Phases((5, 11), NextToken())
    at = phases.first(30)
    assert at.phase == 5
    at = phases.next(at, Reply([1], next_token="n"))
    assert (at.phase, at.token) == (5, "n")
    at = phases.next(at, Reply([1]))
    assert (at.phase, at.token) == (11, None)
    assert phases.next(at, Reply([1])) is None


@pytest.mark.parametrize("at", [At(size=5, page=3), At(size=5, token="x|y"), At(size=5, key=T0, page=2),
                                At(size=5, phase=11, token="k")])
def test_tokens_round_trip_and_a_foreign_token_is_refused(at):
    paginator = Phases((5, 11), NextToken()) if at.phase else PageNumber()
    assert decode(encode(at, paginator, 5), paginator, 5) == at
    with pytest.raises(Rejected) as info:
        decode("3", paginator, 5)
    assert info.value.code == "page-token"


class Numbered(Channel):
    plugin = "numbered"
    listing_pages = PageNumber()
    order_pages = Keyset(key=lambda o: o)

    def listing_page(self, at):
        return Reply(list(range((at.page - 1) * at.size, min(at.page * at.size, 7))), total=7)

    def order_page(self, since, until, at):
        return Reply([since, until][: at.size])


def test_a_declared_paginator_makes_list_listings_and_the_core_loops():
    assert list(paging.items(Numbered("n", {}).list_listings, size=3)) == list(range(7))
    assert Numbered.capabilities.listing_page_size == 50  # the size the kit asks for
    page = Numbered("n", {}).fetch_orders(T0, T0 + timedelta(hours=1), None)
    assert page.items == [T0, T0 + timedelta(hours=1)] and page.next_token is None
    assert Numbered("n", {}).fetch_refunds(T0, T0, None).items == []  # no refund_pages declared


def test_a_channel_without_paginator_or_override_says_so():
    with pytest.raises(NotImplementedError, match="declare a paginator"):
        Channel("c", {}).list_listings(None)
