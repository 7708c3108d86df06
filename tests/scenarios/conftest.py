"""What the end-to-end scenarios share."""

import pytest


@pytest.fixture(scope="module")
def short_wechat_minute():
    """WeChat's 45011 "minute quota reached, retry next minute" makes the daemon rightly wait
    until the next whole minute: 0-60 s of nothing per refusal, a random share of a test's time.
    Scenarios shorten the minute to 3 s; the simulator's per-second bucket is refilled well before
    that, so what follows the wait is the same. (The minute itself: plugins/channelsync_wechat/tests.)"""
    from channelsync_wechat import errors as wechat_errors

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(wechat_errors.WAITS, "45011", lambda now: 3.0)
        yield
