"""One daemon per database: an OS file lock beside it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from channelsync.sdk.errors import UserError


class InstanceLock:
    """An OS file lock beside the database: released by the kernel even after kill -9."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(str(db_path) + ".lock")
        self.fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # it sits with the database: owner only
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)  # left 0644 by an older release
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise UserError(f"another channelsync daemon (pid {other}) is already running on {self.path.with_suffix('')}; "
                            "stop it first, or point this one at another database") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    @staticmethod
    def held(db_path: Path) -> bool:
        """Is a daemon running on this database right now?"""
        path = Path(str(db_path) + ".lock")
        if not path.exists():
            return False
        try:
            fd = os.open(path, os.O_RDONLY)  # read-only: works on a read-only copy too
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
