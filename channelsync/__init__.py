"""channelsync: one master catalog, many shops, kept consistent.

Plugin authors need three names from here::

    from channelsync import hookimpl, Channel, Capabilities

``hookimpl`` marks the functions of a plugin module (see ``hookspecs``),
``Channel`` is the adapter base class a channel type subclasses, and
``Capabilities`` declares what its platform can do. Everything a plugin
translates to or from lives in ``channelsync.models``; the errors it raises in
``channelsync.errors``.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("channelsync")

from channelsync.channel import Capabilities, Channel, Setting  # noqa: E402

__all__ = ["hookimpl", "Channel", "Capabilities", "Setting"]
