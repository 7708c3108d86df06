"""The Taobao simulator: a TOP router in memory, for tests and the sandbox.

``gateway`` checks and dispatches each call, ``items`` answers the item
methods, ``orders`` the trade, shipment and refund methods.
"""

from channelsync_taobao.sim.gateway import (
    APP_KEY,
    APP_SECRET,
    REFRESH_TOKEN,
    SESSION,
    TaobaoSimulator,
)

__all__ = ["TaobaoSimulator", "APP_KEY", "APP_SECRET", "SESSION", "REFRESH_TOKEN"]
