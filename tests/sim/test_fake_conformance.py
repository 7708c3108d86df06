"""The conformance suite passes against the fake channel: the suite itself is sound."""

from channelsync.testing.conformance import suite
from channelsync.sim.fake import FakeChannel

TestFakeConformance = suite(FakeChannel, transports=("direct",), entry_point=False)
