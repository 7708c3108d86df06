"""The core's conformance suite against the WeChat simulator, in-process and over HTTP on 127.0.0.1."""

from channelsync_wechat.channel import WechatChannel

from channelsync.testing.conformance import suite

TestConformance = suite(WechatChannel)
