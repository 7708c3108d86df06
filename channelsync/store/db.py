"""SQLite via sqlite-utils: connection set-up, write transactions, migrations.

Every state change is one ``with store.write():`` block (``BEGIN IMMEDIATE``),
so ``kill -9`` at any instant leaves either all of it or none. Each thread
opens its own ``Store``; WAL lets readers run beside the one writer.

Opening never writes unless there is something to write (a new file, a
pending migration); ``Store(path, readonly=True)`` never writes at all, so
``status`` and friends work on a read-only copy and beside a busy writer.
Another process holding the write lock is waited for, with a log line every
``lock_log_every`` seconds: for ever by default (the daemon), or up to
``lock_timeout`` seconds, then ``StoreBusy`` (the CLI). The database, its
``-wal`` and ``-shm`` files are created 0600: they hold credentials.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import sqlite_utils
import structlog

from channelsync.store.migrations import migrations

log = structlog.get_logger("channelsync.store")

LOCK_LOG_EVERY = 5.0   # seconds between "still waiting for the write lock" lines
#: FULL: in WAL mode every COMMIT is fsynced, so a power loss keeps every committed
#: transaction (NORMAL would only sync at checkpoints and could lose the last ones,
#: including an increment marked in flight before it was sent). About 0.5 ms a commit
#: on an SSD; see docs/durability.md.
SYNCHRONOUS = "FULL"
PRIVATE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal", ".lock")


#: One writer at a time among this process's connections to one database, queued on a lock
#: of ours before SQLite's: SQLite's busy handler polls a held write lock with sleeps of 1, 2,
#: 5, 10, 15, 20, 25 ms..., so the daemon's threads (a poll, a pusher and a sweeper per
#: channel) meeting each other's short transactions each waited tens of ms longer than the
#: transaction took (the push path's p99). Re-entrant: a thread's second connection (a token
#: stored from the push thread) goes on to SQLite's lock as before. Other processes meet
#: SQLite's lock only.
_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_GUARD = threading.Lock()


def _writer_gate(path: str) -> threading.RLock | None:
    if path == ":memory:":
        return None  # every in-memory connection is a database of its own
    key = os.path.realpath(path)
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(key, threading.RLock())


class StoreError(Exception):
    """The database cannot be opened or used as asked; the message names the file."""


class StoreBusy(StoreError):
    """Another process held the write lock for longer than this one would wait."""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def create_private(path: Path) -> None:
    """Create ``path`` (and its directory) if missing, readable by its owner only; tighten an
    existing database's files that an older release left world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # only a new file is opened here: closing any descriptor of a file drops every POSIX lock
        # this process holds on it, so touching an open database would undo SQLite's locks
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE))
    for candidate in [path] + [Path(str(path) + s) for s in SIDE_FILES]:
        with contextlib.suppress(OSError):  # not ours, or gone: nothing to tighten
            st = candidate.stat()
            if st.st_mode & 0o077 and st.st_uid == os.geteuid():
                candidate.chmod(PRIVATE)


class Store:
    """One connection to the channelsync database."""

    def __init__(self, path: Path | str, *, readonly: bool = False, lock_timeout: float | None = None,
                 lock_log_every: float = LOCK_LOG_EVERY) -> None:
        self.path = str(path)
        self.readonly = readonly
        self.lock_timeout = lock_timeout
        self.lock_log_every = max(0.05, lock_log_every)
        self._depth = 0
        self._thread = threading.get_ident()  # a sqlite connection serves the thread that opened it
        self._gate = None if readonly else _writer_gate(self.path)
        if readonly:
            conn = self._connect_readonly()
        else:
            if self.path != ":memory:":
                try:
                    create_private(Path(self.path))
                except OSError as exc:
                    raise StoreError(f"cannot create the database {self.path}: {exc.strerror or exc} "
                                     "(set store.path in the config to a writable place)") from None
            conn = sqlite3.connect(self.path, timeout=self.lock_log_every, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self.db.execute(f"PRAGMA busy_timeout = {int(self.lock_log_every * 1000)}")
        if readonly:
            return
        self.db.execute("PRAGMA foreign_keys = ON")
        self._wait_for_lock(lambda: self.db.execute("PRAGMA journal_mode = WAL"), "open")
        self.db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        if migrations.pending(self.db):
            with self.write():  # under the write lock: two processes never race to migrate
                migrations.apply(self.db)

    def _connect_readonly(self) -> sqlite3.Connection:
        if self.path == ":memory:" or not Path(self.path).exists():
            # nothing written yet: an empty schema in memory reads as "nothing yet", never as an error
            conn = sqlite3.connect(":memory:", isolation_level=None)
            migrations.apply(sqlite_utils.Database(conn))
            return conn
        uri = "file:" + quote(str(Path(self.path).absolute()))
        last: Exception | None = None
        # mode=ro shares the writer's WAL index; where even that cannot be created (a
        # read-only directory or copy) the file is read as it stands (immutable).
        for flags in ("?mode=ro", "?mode=ro&immutable=1"):
            conn = sqlite3.connect(uri + flags, uri=True, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self.lock_log_every * 1000)}")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as exc:
                conn.close()
                last = exc
                if "not a database" in str(exc) or "malformed" in str(exc):
                    break
                continue
            if migrations.pending(sqlite_utils.Database(conn)):
                conn.close()
                raise StoreError(f"{self.path} was written by an older channelsync; run a command that writes "
                                 "(e.g. `channelsync run`) once to upgrade it")
            return conn
        raise StoreError(f"cannot read the database {self.path}: {last}")

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def _wait_for_lock(self, attempt, what: str):
        """Run ``attempt`` until it gets past another process's lock: log every slice,
        give up (StoreBusy) only after ``lock_timeout`` seconds when one is set."""
        started = time.monotonic()
        while True:
            try:
                return attempt()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                waited = time.monotonic() - started
                if self.lock_timeout is not None and waited >= self.lock_timeout:
                    raise StoreBusy(f"the database {self.path} is locked by another process; gave up after "
                                    f"{waited:.0f} s ({what}); nothing was changed") from None
                log.warning("database_locked", db=self.path, waiting_s=round(waited, 1), doing=what)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work; takes the write lock up front (no upgrade deadlocks).
        A nested block is a savepoint: if it raises, its own changes are undone."""
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only; this command cannot change it")
        if self.conn.in_transaction:
            self._depth += 1
            name = f"cs_nested_{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.db
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            else:
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
            finally:
                self._depth -= 1
            return
        self._enter_gate()
        try:
            self._wait_for_lock(lambda: self.conn.execute("BEGIN IMMEDIATE"), "write")
            try:
                yield self.db
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self._wait_for_lock(lambda: self.conn.execute("COMMIT"), "commit")
        finally:
            if self._gate is not None:
                self._gate.release()

    def _enter_gate(self) -> None:
        """Wait for this process's other writers to this database (``_WRITERS``), logging
        every slice and giving up after ``lock_timeout`` as for another process's lock."""
        if self._gate is None:
            return
        started = time.monotonic()
        while True:
            waited = time.monotonic() - started
            left = None if self.lock_timeout is None else self.lock_timeout - waited
            if left is not None and left <= 0:
                raise StoreBusy(f"the database {self.path} is locked by another writer; gave up after "
                                f"{waited:.0f} s (write); nothing was changed")
            if self._gate.acquire(timeout=self.lock_log_every if left is None else min(left, self.lock_log_every)):
                return
            if left is None or left > self.lock_log_every:
                log.warning("database_locked", db=self.path, waiting_s=round(time.monotonic() - started, 1),
                            doing="write")

    @contextlib.contextmanager
    def relaxed(self) -> Iterator[None]:
        """Commits in this block are not fsynced on their own (WAL, synchronous NORMAL): only
        for transactions whose every write is recomputed if lost, as a resync page's are
        (read again from the platform: its resume cursor is in the same transaction). A
        process crash loses nothing; a power loss may drop the last of them, in order, and
        the next fsynced commit (any connection's) makes them durable too."""
        if self.conn.in_transaction:  # inside another's transaction: its commit decides
            yield
            return
        self.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")

    def query(self, sql: str, params: Any = ()) -> list[dict]:
        # straight on the connection: the same dicts sqlite-utils builds, without its per-call
        # statement inspection, which was a tenth of an ingest's time
        cur = self.conn.execute(sql, params)
        if cur.description is None:
            return []
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur]

    def one(self, sql: str, params: Any = ()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    @contextlib.contextmanager
    def here(self) -> Iterator["Store"]:
        """This store, or, called from another thread, a short-lived connection of that
        thread's to the same database (a renewed token stored from the daemon's push thread)."""
        if threading.get_ident() == self._thread or self.path == ":memory:":
            yield self
            return
        other = Store(self.path, lock_timeout=self.lock_timeout, lock_log_every=self.lock_log_every)
        try:
            yield other
        finally:
            other.close()

    def close(self) -> None:
        self.conn.close()
