"""WeChat fixtures shared by the signing and simulator tests; generic ones come from channelsync's pytest plugin."""

import httpx
import pytest

from channelsync_wechat.channel import WechatChannel
from channelsync_wechat.sim import WechatSimulator


@pytest.fixture
def sim(clock):
    return WechatSimulator(clock=clock)


@pytest.fixture
def http(sim):
    """A bare in-process client to ``sim``, for requests the adapter would never send."""
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim.invalid") as client:
        yield client


@pytest.fixture
def adapter(connect_simulator, sim, clock):
    """The adapter connected to ``sim``; its token bookkeeping runs on the test clock too."""
    _, adapter = connect_simulator(WechatChannel, sim)
    adapter.client.clock = adapter.auth.clock = clock
    return adapter
