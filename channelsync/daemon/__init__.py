"""``channelsync run``: the long-lived process (workers, single-instance lock,
health and metrics endpoint, requests handed over by the CLI)."""

from channelsync.daemon.lock import InstanceLock
from channelsync.daemon.run import Daemon

__all__ = ["Daemon", "InstanceLock"]
