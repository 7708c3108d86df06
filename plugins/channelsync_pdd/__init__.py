"""channelsync channel plugin: Pinduoduo (拼多多) shops through PDD's open-platform router (README.md)."""

from channelsync import hookimpl


@hookimpl
def register_channels(register):
    """Add the ``pdd`` channel type."""
    from channelsync_pdd.channel import PddChannel

    register("pdd", PddChannel)
