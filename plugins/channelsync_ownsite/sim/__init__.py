"""The WooCommerce simulator: a shop's REST API v3 in memory, for tests and the sandbox.

``shop`` authenticates and routes each request, ``catalog`` answers products and
variations, ``orders`` orders, notes and refunds; ``wire`` holds their shared
error object, paging and dates.
"""

from channelsync_ownsite.sim.shop import SANDBOX_KEY, SANDBOX_SECRET, OwnsiteSimulator

__all__ = ["OwnsiteSimulator", "SANDBOX_KEY", "SANDBOX_SECRET"]
