"""``channelsync demo``: a seeded catalog, the sandbox, the daemon and simulated buyers."""

from channelsync.demo.run import Demo, Options

__all__ = ["Demo", "Options"]
