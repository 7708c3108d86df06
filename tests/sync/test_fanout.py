"""Detail fan-out: the core makes each detail call on its own, under the budget, with its own retries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from channelsync.sdk import Detail, NotFound, PageNumber, Reply, Transient
from channelsync.sdk.models import Page
from channelsync.sync import paging, retry

T0 = datetime(2024, 11, 11, tzinfo=timezone.utc)


class Calls:
    """``Lane.call`` as the tests see it: the core's retry policy, no sleeping, every call counted."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(self, fn):
        def counted():
            self.made += 1
            return fn()
        return retry.call(counted, sleep=lambda s: None)


def test_a_failing_detail_call_is_retried_alone_not_with_the_calls_before_it():
    fetched: list[str] = []
    failures = {"29": 1}

    def detail(key: str):
        if failures.get(key):
            failures[key] -= 1
            raise Transient("HTTP 502")
        fetched.append(key)
        return key

    page = [Detail(str(i), lambda i=i: detail(str(i))) for i in range(1, 31)]
    calls = Calls()
    assert paging.resolve(page, calls) == [str(i) for i in range(1, 31)]
    assert fetched == [str(i) for i in range(1, 31)]  # 1..28 once each: no page-wide re-send
    assert calls.made == 31  # thirty details, one of them twice


def test_details_listed_unchanged_are_not_fetched_and_each_key_is_read_once():
    stored = {"A": T0, "B": T0}
    fetched: list[str] = []
    page = [Detail(k, lambda k=k: fetched.append(k) or k, modified_at=m) for k, m in
            [("A", T0), ("B", T0 + timedelta(seconds=1)), ("C", T0), ("B", T0 + timedelta(seconds=1))]]
    stats = paging.FanOut()
    assert paging.resolve(page, stored=stored.get, stats=stats) == ["B", "C"]
    assert fetched == ["B", "C"] and stats.skipped_unchanged == 1 and stats.fetched == 2


def test_a_detail_gone_between_list_and_read_is_skipped_and_nested_details_are_followed():
    def gone():
        raise NotFound("no such product", code="10020052")

    page = [Detail("x", gone), Detail("after-sale-1", lambda: Detail("order-9", lambda: ["l1", "l2"])),
            Detail("after-sale-2", lambda: Detail("order-9", lambda: ["again"])), "plain"]
    stats = paging.FanOut()
    assert paging.resolve(page, stats=stats) == ["l1", "l2", "plain"]
    assert stats.gone == 1


def test_a_paged_detail_is_read_page_by_page_through_its_paginator():
    variations = list(range(7))
    asked: list[int] = []

    def page(at):
        asked.append(at.page)
        return Reply(variations[(at.page - 1) * 3: at.page * 3], total_pages=3)

    assert paging.resolve([Detail("p1", pages=page, paginator=PageNumber())], size=3) == variations
    assert asked == [1, 2, 3]


def test_items_resolves_every_page():
    book = {None: Page([Detail("1", lambda: "one")], "t2"), "t2": Page(["two"], None)}
    assert list(paging.items(book.__getitem__)) == ["one", "two"]


def test_a_permanent_detail_failure_propagates():
    def refused():
        raise RuntimeError("plugin bug")

    with pytest.raises(RuntimeError):
        paging.resolve([Detail("1", refused)], Calls())
