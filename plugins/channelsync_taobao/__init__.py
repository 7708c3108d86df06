"""channelsync channel plugin: Taobao / Tmall shops through the TOP router API.

Registers the channel type ``taobao`` (``TaobaoChannel``), whose simulator
(``TaobaoSimulator``) imitates the TOP gateway for tests and the sandbox.
"""

from channelsync import hookimpl


@hookimpl
def register_channels(register):
    """Add the ``taobao`` channel type."""
    from channelsync_taobao.channel import TaobaoChannel

    register("taobao", TaobaoChannel)


@hookimpl
def register_intake(register):
    """TMC messages over a kept connection (see intake.py)."""
    from channelsync_taobao.intake import TmcListener

    register("taobao", TmcListener)
