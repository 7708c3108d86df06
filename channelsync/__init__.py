"""channelsync: one master catalog, many shops, kept consistent.

Everything a plugin author needs is importable from here (it is the public
face of ``channelsync.sdk``)::

    from channelsync import hookimpl, Channel, Capabilities, Setting

See ``channelsync.sdk`` for the short tutorial and ``docs/plugins.md`` for the
reference. The rest of the package is the product: ``engine`` (stock, orders,
prices on the store), ``sync`` (one channel against its platform), ``daemon``,
``cli``, ``config``, ``store``; ``sim`` and ``testing`` are the kit shared by
plugins, the sandbox and the tests.
"""

from channelsync.sdk import *  # noqa: F403 - the plugin author's names, in one place
from channelsync.sdk import __all__  # noqa: F401
