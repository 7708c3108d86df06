"""channelsync channel plugin: Pinduoduo (拼多多) shops through the PDD open platform's router.

Registers the channel type ``pdd`` (``PddChannel``), whose simulator
(``PddSimulator``) imitates the ``/api/router`` gateway for tests and the
sandbox. See README.md in this package for what is confirmed and what is not.
"""

from channelsync import hookimpl


@hookimpl
def register_channels(register):
    """Add the ``pdd`` channel type."""
    from channelsync_pdd.channel import PddChannel

    register("pdd", PddChannel)
