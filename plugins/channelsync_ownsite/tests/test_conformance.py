"""The conformance suite against the WooCommerce simulator, in-process and over HTTP."""

from channelsync.testing.conformance import suite
from channelsync_ownsite.channel import OwnsiteChannel

TestConformance = suite(OwnsiteChannel)
