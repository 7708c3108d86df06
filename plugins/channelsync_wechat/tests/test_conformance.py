"""The core's conformance suite against the WeChat simulator, in-process and over HTTP on 127.0.0.1."""

from channelsync.testing.conformance import suite
from channelsync_wechat.channel import WechatChannel

TestConformance = suite(WechatChannel)
