"""The JD simulator: a JOS router and its OAuth endpoint in memory, for tests and the sandbox.

``gateway`` checks and dispatches each call, ``wares`` answers the SKU and ware
methods, ``orders`` the order, shipment and refund methods.
"""

from channelsync_jd.sim.gateway import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    REFRESH_TOKEN,
    JdSimulator,
)

__all__ = ["JdSimulator", "APP_KEY", "APP_SECRET", "ACCESS_TOKEN", "REFRESH_TOKEN"]
