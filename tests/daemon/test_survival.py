"""`channelsync run` as a real process survives what used to kill it, says so, and recovers:
an adapter raising an unexpected error, a bundle cycle forced into the database behind the
CLI's back, and another process holding the write lock. A planted secret appears nowhere.

The daemon runs with a test plugin (``flaky``: the fake channel whose order poll raises a
RuntimeError while a flag file exists), started through ``channelsync.cli.main`` so the
process is the real console entry with one more plugin.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from channelsync.testing.harness import free_port

SECRET = "planted-SECRET-7f3a9c1e5b"

PLUGIN = textwrap.dedent('''
    import os
    from pathlib import Path

    from channelsync.sdk.hookspecs import hookimpl
    from channelsync.sim.fake import FakeChannel, FakePlatform

    FLAG = Path(os.environ["FLAKY_FLAG"])
    _platform = FakePlatform("flaky-a", token=os.environ["FLAKY_TOKEN"])
    for sku in ("TEA-01", "TEA-02", "BOX-1", "BOX-2"):
        _platform.seed(sku, 0, 1000)

    class Flaky(FakeChannel):
        plugin = "flaky"

        def fetch_orders(self, since, until, page_token):
            if FLAG.exists():
                raise RuntimeError("adapter bug: " + FLAG.read_text())
            return super().fetch_orders(since, until, page_token)

    @hookimpl
    def register_channels(register):
        register("flaky", Flaky)
''')

LAUNCHER = textwrap.dedent('''
    import sys
    sys.path.insert(0, sys.argv.pop(1))
    import flakyplug
    from channelsync.cli import main
    from channelsync.sdk.plugins import make_manager
    main(sys.argv[1:], pm=make_manager(extra=[flakyplug]))
''')



def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {what}")


def healthz(port: int) -> tuple[int, dict]:
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except httpx.HTTPError:
        return 0, {}
    return r.status_code, r.json()


@pytest.mark.slow
def test_the_daemon_survives_adapter_errors_bundle_cycles_and_a_held_lock(tmp_path):
    # order_overlap 20 s: the sweeper re-reads it every overlap/20 = 1 s, and a crashed run is
    # restarted only once its sweeper has woken (with the default 300 s overlap: up to 15 s)
    port = free_port()
    (tmp_path / "flakyplug.py").write_text(PLUGIN)
    (tmp_path / "launch.py").write_text(LAUNCHER)
    (tmp_path / "cs.toml").write_text(f"""
[store]
path = "cs.db"
lock_log_every = 0.5
lock_timeout = 1
[daemon]
http_port = {port}
log_format = "json"
restart_backoff_max = 1
[channels.flaky]
plugin = "flaky"
poll_interval = 0.3
reconcile_interval = 1
order_overlap = 20
[channels.flaky.settings]
platform = "flaky-a"
token = {{ env = "FLAKY_TOKEN" }}
""")
    (tmp_path / "catalog.csv").write_text("product_code,sku_code,price,stock:main,bundle\n"
                                          "TEA,TEA-01,39.90,10,\nTEA,TEA-02,59.90,4,\n"
                                          "BOX,BOX-1,89.00,,TEA-01*2\nBOX,BOX-2,99.00,,TEA-02*1\n")
    flag = tmp_path / "flag"
    env = {**os.environ, "FLAKY_FLAG": str(flag), "FLAKY_TOKEN": SECRET, "CHANNELSYNC_LOG_DIR": str(tmp_path)}
    cs = [sys.executable, str(tmp_path / "launch.py"), str(tmp_path), "--config", str(tmp_path / "cs.toml")]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cs, *args], env=env, capture_output=True, text=True, timeout=120)

    assert cli("catalog", "import", str(tmp_path / "catalog.csv")).returncode == 0
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log_file:
        daemon = subprocess.Popen([*cs, "run"], env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True)
    db = tmp_path / "cs.db"
    outputs = []
    try:
        wait_for(lambda: healthz(port)[0] == 200, "/healthz ok after start")

        # 1. an adapter raising an unexpected error: the channel is marked, the process lives on
        flag.write_text("order list had no 'items'")
        code, body = wait_for(lambda: (lambda h: h if h[0] == 503 else None)(healthz(port)), "/healthz 503")
        reason = body["channels"]["flaky"]["reason"]
        assert "worker crashed" in reason and "RuntimeError: adapter bug" in reason, body
        assert body["reasons"] and body["reasons"][0].startswith("flaky: failing")
        assert daemon.poll() is None
        status = cli("--json", "status")
        outputs.append(status.stdout + status.stderr)
        assert status.returncode == 4 and "worker crashed" in status.stdout
        flag.unlink()
        wait_for(lambda: healthz(port)[0] == 200, "recovery after the adapter error went away")
        assert "worker_recovered" in log_path.read_text()

        # 2. a bundle cycle written behind the CLI's back
        conn = sqlite3.connect(db, isolation_level=None, timeout=30)
        conn.execute("INSERT INTO bundle_components (bundle_code, component_code, qty) VALUES ('TEA-02', 'BOX-2', 1)")
        code, body = wait_for(lambda: (lambda h: h if h[0] == 503 else None)(healthz(port)),
                              "/healthz 503 for the bundle cycle")
        assert "bundle cycle" in body["channels"]["flaky"]["reason"], body
        assert daemon.poll() is None
        shown = cli("stock", "show", "BOX-2")
        outputs.append(shown.stdout + shown.stderr)
        assert shown.returncode == 2 and "bundle cycle" in shown.stderr and "Traceback" not in shown.stderr
        assert "BOX-2 -> TEA-02 -> BOX-2" in shown.stderr or "TEA-02 -> BOX-2 -> TEA-02" in shown.stderr
        # the way out the message names: give one of them other components with an import
        (tmp_path / "fix.csv").write_text("product_code,sku_code,price,bundle\nBOX,BOX-2,99.00,TEA-01*1\n")
        fixed = cli("catalog", "import", str(tmp_path / "fix.csv"))
        assert fixed.returncode == 0, fixed.stderr
        wait_for(lambda: healthz(port)[0] == 200, "recovery after the cycle was removed")

        # 3. another process holds the write lock: the daemon waits and logs, never dies
        before = log_path.read_text().count("database_locked")
        conn.execute("BEGIN IMMEDIATE")
        try:
            wait_for(lambda: log_path.read_text().count("database_locked") >= before + 6,
                     "the daemon logging that it waits for the lock (6 slices: each was a fatal timeout before)")
            assert daemon.poll() is None
            reader = cli("--json", "status")  # read-only: works beside the writer
            assert reader.returncode in (0, 4) and json.loads(reader.stdout)["daemon"]["running"] is True
            writer = cli("stock", "set", "TEA-01", "9")  # lock_timeout = 1: gives up, changes nothing
            assert writer.returncode == 1 and "locked by another process" in writer.stderr, writer.stderr
            heartbeat = conn.execute("SELECT heartbeat_at FROM daemon").fetchone()[0]
        finally:
            conn.execute("ROLLBACK")
        wait_for(lambda: conn.execute("SELECT heartbeat_at FROM daemon").fetchone()[0] > heartbeat,
                 "the heartbeat written once the lock was released")
        assert conn.execute("SELECT on_hand FROM stock WHERE sku_code = 'TEA-01'").fetchone()[0] == 10
        conn.close()
        wait_for(lambda: healthz(port)[0] == 200, "healthy after the lock")
        outputs.append(httpx.get(f"http://127.0.0.1:{port}/metrics").text + json.dumps(healthz(port)[1]))

        # files holding the database and its credentials are the owner's only
        for suffix in ("", "-wal", "-shm", ".lock"):
            path = Path(str(db) + suffix)
            assert path.exists(), (suffix, sorted(p.name for p in tmp_path.iterdir()))
            assert path.stat().st_mode & 0o777 == 0o600, (suffix, oct(path.stat().st_mode))
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    assert daemon.returncode == 0
    logged = log_path.read_text()
    assert "worker_crashed" in logged and "database_locked" in logged
    for text in [logged, *outputs]:
        assert SECRET not in text
    for suffix in ("", "-wal"):
        path = Path(str(db) + suffix)
        assert not path.exists() or SECRET.encode() not in path.read_bytes()
