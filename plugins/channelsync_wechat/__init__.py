"""channelsync channel plugin: WeChat Channels shops (视频号小店 / 微信小店) through the channels/ec API.

Registers the channel type ``wechat`` (``WechatChannel``), whose simulator
(``WechatSimulator``) imitates the platform for tests and the sandbox.
"""

from channelsync import hookimpl


@hookimpl
def register_channels(register):
    """Add the ``wechat`` channel type."""
    from channelsync_wechat.channel import WechatChannel

    register("wechat", WechatChannel)


@hookimpl
def register_intake(register):
    """Message push, plain and encrypted (see intake.py)."""
    from channelsync_wechat.intake import WechatPush

    register("wechat", WechatPush)
