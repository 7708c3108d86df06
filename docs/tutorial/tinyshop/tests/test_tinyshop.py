from channelsync.testing.conformance import suite
from channelsync_tinyshop.channel import TinyShopChannel

TestConformance = suite(TinyShopChannel)
