"""The core conformance suite against the Taobao simulator (in-process and over HTTP)."""

from channelsync.testing.conformance import suite
from channelsync_taobao.channel import TaobaoChannel

TestConformance = suite(TaobaoChannel)
