"""The Pinduoduo simulator: PDD's ``/api/router`` in memory, for tests and the sandbox.

``gateway`` checks and dispatches each call, ``goods`` answers the goods APIs,
``orders`` the order, shipment and refund APIs.
"""

from channelsync_pdd.sim.gateway import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, PddSimulator

__all__ = ["PddSimulator", "CLIENT_ID", "CLIENT_SECRET", "ACCESS_TOKEN", "REFRESH_TOKEN"]
