"""The core conformance suite against the Taobao simulator (in-process and over HTTP)."""

from channelsync_taobao.channel import TaobaoChannel

from channelsync.testing.conformance import suite

TestConformance = suite(TaobaoChannel)
