"""The core's conformance suite against the JD simulator, in-process and over HTTP."""

from channelsync_jd.channel import JdChannel

from channelsync.testing.conformance import suite

TestConformance = suite(JdChannel)
