"""TinyShop: the channel built in the channelsync plugin tutorial."""

from channelsync import hookimpl


@hookimpl
def register_channels(register):
    from channelsync_tinyshop.channel import TinyShopChannel

    register("tinyshop", TinyShopChannel)
