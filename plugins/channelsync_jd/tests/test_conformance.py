"""The core's conformance suite against the JD simulator, in-process and over HTTP."""

from channelsync.testing.conformance import suite
from channelsync_jd.channel import JdChannel

TestConformance = suite(JdChannel)
