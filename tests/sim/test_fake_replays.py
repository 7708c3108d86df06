"""The fake's "replay" flag, which the state machine's keyless-channel promise rests on: a stock
call the platform refused (expired token, rate limit) applied nothing, so sending it again is
no replay; one that failed in a way the caller cannot tell from success (5xx, timeout, a lost
answer) may have applied, so sending it again is."""

from __future__ import annotations

import pytest

from channelsync.sdk.errors import AuthExpired, RateLimited, Transient
from channelsync.sdk.models import StockUpdate
from channelsync.sim.fake import FakeChannel, FakePlatform


@pytest.fixture
def channel():
    FakePlatform.forget_all()
    adapter = FakeChannel("replays", {"stock_mode": "absolute"})
    sku = adapter.platform.seed("A", 5, 100)
    told = []
    adapter.platform.on_told = lambda code, qty, replay: told.append(replay)
    yield adapter, sku, told
    FakePlatform.forget_all()


def send_twice(adapter, sku, fault, raised):
    update = StockUpdate("A", sku.external_id, sku.item_id, 3, -2, 5, "k-" + fault)
    adapter.platform.inject(fault)
    with pytest.raises(raised):
        adapter.set_stock([update])
    adapter.refresh_auth()
    adapter.set_stock([update])


@pytest.mark.parametrize("fault, raised", [("auth_expired", AuthExpired), ("rate_limit", RateLimited)])
def test_a_refused_call_sent_again_is_no_replay(channel, fault, raised):
    adapter, sku, told = channel
    send_twice(adapter, sku, fault, raised)
    assert told == [False]


@pytest.mark.parametrize("fault", ["error_5xx", "timeout", "lost_answer"])
def test_a_call_that_may_have_applied_sent_again_is_a_replay(channel, fault):
    adapter, sku, told = channel
    send_twice(adapter, sku, fault, Transient)
    assert told[-1] is True
