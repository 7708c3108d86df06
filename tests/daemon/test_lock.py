"""daemon/lock.py: one daemon per database, through an OS lock file beside it.

flock belongs to an open file description, so a second ``InstanceLock`` in this
same process conflicts exactly as another process would.
"""

from __future__ import annotations

import os

import pytest

from channelsync.daemon.lock import InstanceLock
from channelsync.sdk.errors import UserError


@pytest.fixture
def db(tmp_path):
    return tmp_path / "data" / "cs.db"


def test_acquire_writes_the_pid_beside_the_database(db):
    lock = InstanceLock(db)
    lock.acquire()
    try:
        assert lock.path == db.parent / "cs.db.lock"
        assert lock.path.read_text() == str(os.getpid())
    finally:
        lock.release()


def test_acquire_replaces_a_longer_stale_pid(db):
    db.parent.mkdir(parents=True)
    (db.parent / "cs.db.lock").write_text("123456789012")  # left by a daemon killed long ago
    lock = InstanceLock(db)
    lock.acquire()
    try:
        assert lock.path.read_text() == str(os.getpid())
    finally:
        lock.release()


def test_a_second_acquire_names_the_pid_and_the_database(db):
    first = InstanceLock(db)
    first.acquire()
    try:
        with pytest.raises(UserError) as exc:
            InstanceLock(db).acquire()
        message = str(exc.value)
        assert f"pid {os.getpid()}" in message
        assert str(db) in message
        assert first.path.read_text() == str(os.getpid())  # the loser did not touch the file
    finally:
        first.release()


def test_locks_on_different_databases_do_not_conflict(tmp_path):
    a, b = InstanceLock(tmp_path / "a.db"), InstanceLock(tmp_path / "b.db")
    a.acquire()
    b.acquire()
    a.release()
    b.release()


def test_release_lets_another_acquire(db):
    first = InstanceLock(db)
    first.acquire()
    fd = first.fd
    first.release()
    assert first.fd is None
    with pytest.raises(OSError):
        os.fstat(fd)  # closed, not just unlocked
    second = InstanceLock(db)
    second.acquire()
    second.release()


def test_release_twice_or_without_acquire_is_harmless(db):
    lock = InstanceLock(db)
    lock.release()
    lock.acquire()
    lock.release()
    lock.release()


def test_held_follows_the_lock(db):
    assert InstanceLock.held(db) is False  # no lock file at all
    lock = InstanceLock(db)
    lock.acquire()
    assert InstanceLock.held(db) is True
    assert InstanceLock.held(db) is True  # asking does not take it away
    lock.release()
    assert lock.path.exists()
    assert InstanceLock.held(db) is False  # a file left behind is not a lock


def test_held_does_not_keep_the_lock(db):
    lock = InstanceLock(db)
    lock.acquire()
    lock.release()
    assert InstanceLock.held(db) is False
    again = InstanceLock(db)
    again.acquire()  # held() took the lock to test it and let it go
    again.release()
