"""The WeChat simulator: channels/ec and its token endpoint in memory, for tests and the sandbox.

``gateway`` issues tokens and checks and dispatches each call, ``products``
answers the product methods, ``orders`` the order, delivery and after-sale methods.
"""

from channelsync_wechat.sim.gateway import APPID, SECRET, WechatSimulator

__all__ = ["WechatSimulator", "APPID", "SECRET"]
