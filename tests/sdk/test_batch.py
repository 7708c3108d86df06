"""run_calls: several platform calls for one batch, one result per update, in the order given."""

from __future__ import annotations

import pytest

from channelsync.sdk.batch import Call, run_calls
from channelsync.sdk.errors import (
    AuthExpired,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
)
from channelsync.sdk.models import StockUpdate


def upd(external_id: str) -> StockUpdate:
    return StockUpdate(sku_code=f"SKU-{external_id}", external_id=external_id, item_id="I1",
                       quantity=5, delta=1, expected=4, key=f"k-{external_id}")


class Platform:
    """Records which calls were made; each named call succeeds or raises what it was given."""

    def __init__(self, **outcomes: Exception) -> None:
        self.outcomes = outcomes
        self.made: list[str] = []

    def send(self, name: str):
        def fn():
            self.made.append(name)
            if name in self.outcomes:
                raise self.outcomes[name]
            return name
        return fn


def by_id(results) -> dict:
    return {r.external_id: r for r in results}


def test_results_follow_the_order_of_the_updates_not_of_the_calls():
    u1, u2, u3 = upd("1"), upd("2"), upd("3")
    p = Platform()
    results = run_calls([u1, u2, u3], [Call([u3], p.send("c3")), Call([u2, u1], p.send("c21"))])
    assert [r.external_id for r in results] == ["1", "2", "3"]
    assert all(r.ok for r in results)
    assert p.made == ["c3", "c21"]  # calls are made in the order given


def test_send_none_is_a_success_without_a_call():
    u1, u2 = upd("1"), upd("2")
    p = Platform()
    results = run_calls([u1, u2], [Call([u1], None), Call([u2], p.send("c2"))])
    assert [r.ok for r in results] == [True, True]
    assert p.made == ["c2"]


def test_send_none_does_not_count_as_sent_so_a_later_retryable_error_is_raised():
    u1, u2 = upd("1"), upd("2")
    busy = Transient("busy")
    p = Platform(c2=busy)
    with pytest.raises(Transient) as info:
        run_calls([u1, u2], [Call([u1], None), Call([u2], p.send("c2"))])
    assert info.value is busy


def test_a_refused_multi_update_call_is_resent_through_its_singles():
    u1, u2, u3 = upd("1"), upd("2"), upd("3")
    gone = NotFound("no such sku", code="404")
    p = Platform(multi=Rejected("one bad value"), s2=gone)
    results = run_calls([u1, u2, u3], [Call([u1, u2, u3], p.send("multi"),
                                            singles=[p.send("s1"), p.send("s2"), p.send("s3")])])
    assert p.made == ["multi", "s1", "s2", "s3"]
    r = by_id(results)
    assert r["1"].ok and r["3"].ok
    assert r["2"].error is gone  # the single's own refusal, not the multi call's


def test_a_refused_call_without_singles_keeps_the_refusal_on_all_its_updates():
    u1, u2, u3 = upd("1"), upd("2"), upd("3")
    refusal = Rejected("bad signature", code="25")
    p = Platform(multi=refusal)
    results = run_calls([u1, u2, u3], [Call([u1, u2], p.send("multi")), Call([u3], p.send("c3"))])
    assert [r.error for r in results[:2]] == [refusal, refusal]
    assert results[2].ok  # a refusal is not a failure of the batch: the next call still goes
    assert p.made == ["multi", "c3"]


def test_singles_are_not_used_when_the_call_succeeds():
    u1, u2 = upd("1"), upd("2")
    p = Platform()
    results = run_calls([u1, u2], [Call([u1, u2], p.send("multi"), singles=[p.send("s1"), p.send("s2")])])
    assert all(r.ok for r in results)
    assert p.made == ["multi"]


@pytest.mark.parametrize("error", [Transient("502"), RateLimited(retry_after=3), AuthExpired("token")])
def test_a_retryable_error_before_anything_was_sent_is_raised(error):
    u1, u2 = upd("1"), upd("2")
    p = Platform(c1=error)
    with pytest.raises(type(error)) as info:
        run_calls([u1, u2], [Call([u1], p.send("c1")), Call([u2], p.send("c2"))])
    assert info.value is error
    assert p.made == ["c1"]


def test_a_refusal_does_not_count_as_sent():
    u1, u2 = upd("1"), upd("2")
    p = Platform(c1=NotFound("gone"), c2=Transient("busy"))
    with pytest.raises(Transient):
        run_calls([u1, u2], [Call([u1], p.send("c1")), Call([u2], p.send("c2"))])


def test_a_retryable_error_in_a_single_before_anything_went_through_is_raised():
    u1, u2 = upd("1"), upd("2")
    p = Platform(multi=Rejected("bad"), s1=Transient("busy"))
    with pytest.raises(Transient):
        run_calls([u1, u2], [Call([u1, u2], p.send("multi"), singles=[p.send("s1"), p.send("s2")])])
    assert p.made == ["multi", "s1"]


def test_after_something_went_through_a_failure_stays_with_its_updates_and_the_rest_is_not_sent():
    u1, u2, u3, u4, u5 = (upd(str(i)) for i in range(1, 6))
    timeout = Transient("timeout")
    p = Platform(c23=timeout)
    results = run_calls([u1, u2, u3, u4, u5], [
        Call([u1], p.send("c1")),
        Call([u2, u3], p.send("c23")),
        Call([u4], p.send("c4")),
        Call([u5], p.send("c5"), singles=[p.send("s5")]),
    ])
    assert p.made == ["c1", "c23"]  # nothing after the failure is sent
    r = by_id(results)
    assert r["1"].ok
    assert r["2"].error is timeout and r["3"].error is timeout  # may have applied: the core re-sends the same key
    for code in ("4", "5"):
        error = r[code].error
        assert isinstance(error, Transient) and error.retryable
        assert error.code == "not-sent"
        assert error.maybe_applied is False  # certainly not applied: a fresh push is safe
        assert "timeout" in str(error)  # names the failure that stopped the batch


def test_after_a_failure_a_refused_calls_singles_are_not_sent_either():
    u0, u1, u2, u3 = upd("0"), upd("1"), upd("2"), upd("3")
    busy = Transient("busy")
    p = Platform(c1=Rejected("bad"), c2=busy)
    results = run_calls([u0, u1, u2, u3], [
        Call([u0], p.send("c0")),
        Call([u2], p.send("c2")),
        Call([u1, u3], p.send("c1"), singles=[p.send("s1"), p.send("s3")]),
    ])
    assert p.made == ["c0", "c2"]
    r = by_id(results)
    assert r["0"].ok
    assert r["2"].error is busy
    assert r["1"].error.code == "not-sent" and r["3"].error.code == "not-sent"


def test_a_call_with_nothing_to_send_still_succeeds_after_a_failure():
    u1, u2, u3 = upd("1"), upd("2"), upd("3")
    p = Platform(c2=Transient("busy"))
    results = run_calls([u1, u2, u3], [Call([u1], p.send("c1")), Call([u2], p.send("c2")), Call([u3], None)])
    assert [r.ok for r in results] == [True, False, True]


def test_a_non_channel_error_is_not_swallowed():
    u1, u2 = upd("1"), upd("2")

    def broken():
        raise KeyError("adapter bug")

    p = Platform()
    with pytest.raises(KeyError):
        run_calls([u1, u2], [Call([u1], p.send("c1")), Call([u2], broken)])


# --- grouped: one call per item, with fall-back to single updates ---------------------------------------------------

def upd_in(external_id: str, item: str) -> StockUpdate:
    return StockUpdate(sku_code=f"SKU-{external_id}", external_id=external_id, item_id=item,
                       quantity=5, delta=1, expected=4, key=f"k-{external_id}")


def test_grouped_makes_one_call_per_item_and_falls_back_to_singles_when_refused():
    from channelsync.sdk.batch import grouped

    sent: list[list[str]] = []

    def send(group):
        sent.append([u.external_id for u in group])
        if any(u.external_id == "b" for u in group):
            raise Rejected("sku b is stale", code="stale")

    updates = [upd_in("a", "I1"), upd_in("c", "I2"), upd_in("b", "I1")]
    results = run_calls(updates, grouped(updates, lambda u: u.item_id, send))
    assert sent == [["a", "b"], ["a"], ["b"], ["c"]]
    assert [(r.external_id, r.ok) for r in results] == [("a", True), ("c", True), ("b", False)]
    assert results[2].error.code == "stale"


def test_grouped_reads_per_record_answers_and_a_missing_one_is_refused():
    from channelsync.sdk.batch import grouped

    updates = [upd_in("a", "I1"), upd_in("b", "I1"), upd_in("c", "I1")]
    answer = {"a": None, "b": NotFound("gone", code="404")}
    results = run_calls(updates, grouped(updates, lambda u: u.item_id, lambda g: answer, answers=lambda r: r))
    assert [r.ok for r in results] == [True, False, False]
    assert isinstance(results[1].error, NotFound) and results[2].error.code == "no-result"
