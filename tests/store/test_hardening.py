"""The store under pressure and at rest: opening read-only writes nothing and works on a
read-only copy; a held lock is waited for with a log line per slice; files are 0600;
renewed credentials are HMAC-fingerprinted and Fernet-encrypted; the stock maths refuses a
bundle cycle instead of recursing."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading

import pytest
from structlog.testing import capture_logs

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import catalog, inventory
from channelsync.store import Store, StoreBusy, StoreError
from channelsync.sync import credentials

SECRET = "planted-refresh-SECRET-91c2e7"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_wal_shm_and_lock_files_are_created_0600_whatever_the_umask(tmp_path):
    from channelsync.daemon import InstanceLock

    old = os.umask(0o022)
    try:
        store = Store(tmp_path / "cs.db")
        store.execute("INSERT INTO warehouses (code, name) VALUES ('m', 'M')")
        lock = InstanceLock(tmp_path / "cs.db")
        lock.acquire()
    finally:
        os.umask(old)
    try:
        for name in ("cs.db", "cs.db-wal", "cs.db-shm", "cs.db.lock"):
            assert mode(tmp_path / name) == 0o600, name
    finally:
        lock.release()
        store.close()


def test_an_older_world_readable_database_is_tightened_on_open(tmp_path):
    Store(tmp_path / "cs.db").close()
    os.chmod(tmp_path / "cs.db", 0o644)
    Store(tmp_path / "cs.db").close()
    assert mode(tmp_path / "cs.db") == 0o600


def test_opening_read_only_writes_nothing(tmp_path):
    path = tmp_path / "cs.db"
    Store(path).close()
    before = path.read_bytes()
    reader = Store(path, readonly=True)
    assert reader.scalar("SELECT COUNT(*) FROM skus") == 0
    with pytest.raises(StoreError, match="read-only"):
        with reader.write():
            pass
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("INSERT INTO warehouses (code, name) VALUES ('x', 'x')")
    reader.close()
    assert path.read_bytes() == before  # no migration, no journal-mode switch: not a byte
    # at most SQLite's empty WAL index beside it, private like the database
    assert {p.name for p in tmp_path.iterdir()} <= {"cs.db", "cs.db-wal", "cs.db-shm"}
    assert all(mode(p) == 0o600 for p in tmp_path.iterdir())


def test_reading_a_missing_database_is_an_empty_one_and_creates_nothing(tmp_path):
    reader = Store(tmp_path / "none" / "cs.db", readonly=True)
    assert reader.query("SELECT * FROM channels") == []
    assert not (tmp_path / "none").exists()


def test_read_only_open_beside_a_writer_holding_the_lock(tmp_path):
    path = tmp_path / "cs.db"
    Store(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO warehouses (code, name) VALUES ('w', 'uncommitted')")
    try:
        reader = Store(path, readonly=True, lock_log_every=0.1)
        assert reader.query("SELECT * FROM warehouses") == []  # the last committed state, no wait
        reader.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def _run_as_nobody(args: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to read as another user (root ignores file modes)")
def test_cli_read_commands_work_on_a_read_only_copy(tmp_path):
    """status, stock show, orders list and catalog export on a copy nobody may write: not the
    file, not its directory (so not even the WAL index can be created)."""
    import tempfile

    top = tempfile.mkdtemp(prefix="cs-ro-")  # outside pytest's 0700 tree: the other user must reach it
    os.chmod(top, 0o755)
    work = __import__("pathlib").Path(top) / "ro"
    work.mkdir()
    (work / "cs.toml").write_text('[store]\npath = "cs.db"\n[daemon]\nhttp_port = 0\n[warehouses]\nmain = "M"\n')
    (work / "c.csv").write_text("product_code,sku_code,price,stock:main\nTEA,TEA-01,39.90,10\n")
    cs = [sys.executable, "-m", "channelsync", "--config", str(work / "cs.toml")]
    assert subprocess.run([*cs, "catalog", "import", str(work / "c.csv")], capture_output=True).returncode == 0
    for extra in ("cs.db-wal", "cs.db-shm"):
        assert not (work / extra).exists()  # the importer closed cleanly
    os.chmod(work / "cs.db", 0o444)
    os.chmod(work / "cs.toml", 0o644)
    os.chmod(work, 0o555)
    env_dir = str(work)
    try:
        before = (work / "cs.db").read_bytes()
        shown = _run_as_nobody([*cs, "stock", "show", "TEA-01"], env_dir)
        assert shown.returncode == 0 and "main                 10" in shown.stdout, shown.stderr
        exported = _run_as_nobody([*cs, "catalog", "export"], env_dir)
        assert exported.returncode == 0 and "TEA-01" in exported.stdout, exported.stderr
        listed = _run_as_nobody([*cs, "orders", "list"], env_dir)
        assert listed.returncode == 0 and "no orders" in listed.stdout, listed.stderr
        status = _run_as_nobody([*cs, "status"], env_dir)
        assert status.returncode == 4 and "daemon: not running" in status.stdout, status.stderr
        writing = _run_as_nobody([*cs, "stock", "set", "TEA-01", "3"], env_dir)
        assert writing.returncode in (1, 2) and "Traceback" not in writing.stderr
        assert (work / "cs.db").read_bytes() == before
    finally:
        os.chmod(work, 0o755)
        shutil.rmtree(top)


def test_a_held_write_lock_is_waited_for_with_a_log_line_per_slice(tmp_path):
    path = tmp_path / "cs.db"
    store = Store(path, lock_log_every=0.1)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release_after_logs(logs):
        while sum(e["event"] == "database_locked" for e in logs) < 3:
            released.wait(0.02)
        holder.execute("ROLLBACK")
        released.set()

    with capture_logs() as logs:
        thread = threading.Thread(target=release_after_logs, args=(logs,))
        thread.start()
        with store.write():  # waits through three slices, then gets the lock
            store.execute("INSERT INTO warehouses (code, name) VALUES ('m', 'M')")
        thread.join()
    waits = [e for e in logs if e["event"] == "database_locked"]
    assert len(waits) >= 3 and waits[0]["log_level"] == "warning" and waits[0]["db"] == str(path)
    assert store.scalar("SELECT name FROM warehouses") == "M"
    holder.close()
    store.close()


def test_a_lock_timeout_gives_up_with_store_busy_and_changes_nothing(tmp_path):
    path = tmp_path / "cs.db"
    store = Store(path, lock_timeout=0.3, lock_log_every=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy, match="locked by another process; gave up after"):
            with store.write():
                store.execute("INSERT INTO warehouses (code, name) VALUES ('m', 'M')")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.scalar("SELECT COUNT(*) FROM warehouses") == 0
    store.close()


# --- credentials at rest -----------------------------------------------------------------------

def _raw(path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_replaces_is_an_hmac_with_a_random_key_per_database(tmp_path):
    configured = {"refresh_token": "configured-value-1"}
    fingerprints = []
    for name in ("one.db", "two.db"):
        store = Store(tmp_path / name)
        credentials.save(store, "tb", configured, {"refresh_token": "renewed"})
        fingerprints.append(store.scalar("SELECT replaces FROM credentials"))
        store.close()
    assert fingerprints[0] != fingerprints[1], "a random key per database: the same secret fingerprints differently"
    plain = hashlib.sha256(b"configured-value-1").hexdigest()
    assert all(f.startswith("hmac-sha256:") and plain not in f for f in fingerprints)


def test_renewed_tokens_are_encrypted_when_a_key_is_configured(tmp_path):
    path = tmp_path / "cs.db"
    store = Store(path)
    key = b"k" * 44
    configured = {"refresh_token": "configured-value-1"}
    credentials.save(store, "tb", configured, {"refresh_token": SECRET}, key=key)
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert SECRET.encode() not in _raw(path)
    assert store.scalar("SELECT value FROM credentials").startswith("fernet:")
    assert credentials.overlay(store, "tb", configured, key)["refresh_token"] == SECRET
    with capture_logs() as logs:  # no key, or another key: the configured value, and a warning saying why
        assert credentials.overlay(store, "tb", configured)["refresh_token"] == "configured-value-1"
        assert credentials.overlay(store, "tb", configured, b"x" * 44)["refresh_token"] == "configured-value-1"
    assert [e["event"] for e in logs] == ["credential_unreadable"] * 2
    assert all(SECRET not in str(e) for e in logs)
    store.close()


def test_without_a_key_renewed_tokens_are_stored_as_sent_and_still_restored(tmp_path):
    store = Store(tmp_path / "cs.db")
    configured = {"refresh_token": "configured-value-1"}
    credentials.save(store, "tb", configured, {"refresh_token": "renewed-plain"})
    assert credentials.overlay(store, "tb", configured)["refresh_token"] == "renewed-plain"
    assert credentials.overlay(store, "tb", {"refresh_token": "edited"})["refresh_token"] == "edited"
    store.close()


def test_store_key_from_a_file_reaches_the_config(tmp_path):
    from channelsync.config import loads

    (tmp_path / "store.key").write_text("s" * 40 + "\n")
    config = loads('[store]\nkey = { file = "store.key" }\n', {}, base_dir=tmp_path)
    assert config.store.key == b"s" * 40 and "s" * 40 not in repr(config)


# --- the stock maths and a cycle ---------------------------------------------------------------

def test_available_refuses_a_bundle_cycle_instead_of_recursing(tmp_path):
    store = Store(tmp_path / "cs.db")
    config = Config(path=None, db_path=tmp_path / "cs.db", channels={"a": ChannelConfig(name="a", plugin="fake")})
    catalog.sync_warehouses(store, config)
    catalog.import_csv(store, config, __import__("io").StringIO(
        "product_code,sku_code,price,bundle\nP,A,1.00,\nP,B,1.00,A*1\nP,C,1.00,B*1\n"))
    store.execute("INSERT INTO bundle_components (bundle_code, component_code, qty) VALUES ('A', 'C', 1)")
    with pytest.raises(inventory.BundleCycle, match="bundle cycle C -> B -> A -> C"):
        inventory.available(store, "C")
    with pytest.raises(inventory.BundleCycle):
        catalog.stock_report(store, config, "B")
    store.close()
