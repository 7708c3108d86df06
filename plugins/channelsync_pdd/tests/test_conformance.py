"""The core conformance suite against the Pinduoduo simulator (in-process and over HTTP)."""

from channelsync_pdd.channel import PddChannel

from channelsync.testing.conformance import suite

TestConformance = suite(PddChannel)
