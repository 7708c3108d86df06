"""The TinyShop simulator, for tests and ``channelsync sandbox``: ``shop`` imitates the API."""

from channelsync_tinyshop.sim.shop import API_KEY, TinyShopSimulator

__all__ = ["TinyShopSimulator", "API_KEY"]
