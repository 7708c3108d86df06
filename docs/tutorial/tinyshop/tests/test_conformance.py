"""The core's conformance suite against the TinyShop simulator, in-process and over HTTP on 127.0.0.1."""

from channelsync.testing.conformance import suite
from channelsync_tinyshop.channel import TinyShopChannel

TestConformance = suite(TinyShopChannel)
