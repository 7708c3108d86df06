"""The conformance suite against the WooCommerce simulator, in-process and over HTTP."""

from channelsync_ownsite.channel import OwnsiteChannel

from channelsync.testing.conformance import suite

TestConformance = suite(OwnsiteChannel)
