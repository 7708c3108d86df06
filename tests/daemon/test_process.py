"""`channelsync run` as a real process: SIGTERM exits 0 after committing; a second daemon refuses."""

import signal
import subprocess
import time

import httpx
import pytest

from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim.server import serve
from channelsync.testing.harness import free_port



@pytest.mark.slow
def test_run_sigterm_and_single_instance(tmp_path, jd_daemon_files):
    sim = channel_types(make_manager())["jd"].simulator()
    sim.seed("P-1", 0, 1990)
    with serve(sim) as server:
        port = free_port()
        creds = sim.credentials(server.base_url)
        cs, env = jd_daemon_files(tmp_path, sim, server, http_port=port, poll_interval=0.5)
        subprocess.run([*cs, "catalog", "import", str(tmp_path / "catalog.csv")], env=env, check=True,
                       capture_output=True)
        daemon = subprocess.Popen([*cs, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and sim.stock("P-1") != 8:
                time.sleep(0.1)
            assert sim.stock("P-1") == 8, "the daemon linked the listing and pushed its target"
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
            second = subprocess.run([*cs, "run"], env=env, capture_output=True, text=True, timeout=30)
            assert second.returncode == 2 and "already running" in second.stderr
            sim.place_order([("P-1", 3)])
            # wait for the poll to commit it (a JD poll window is 3 calls at 2 calls/s), not a fixed sleep
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not _orders_in(tmp_path / "cs.db"):
                time.sleep(0.1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            out, err = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, err[-2000:]
        assert creds["app_secret"] not in out + err and creds["access_token"] not in out + err
        status = subprocess.run([*cs, "--json", "status"], env=env, capture_output=True, text=True)
        assert status.returncode == 4 and '"running": false' in status.stdout  # 4: needs attention
        assert creds["app_secret"] not in status.stdout
        orders = subprocess.run([*cs, "orders", "list"], env=env, capture_output=True, text=True, check=True)
        assert "paid" in orders.stdout, "the order ingested before SIGTERM was committed"


def _orders_in(db) -> int:
    """Orders committed so far, read without disturbing the daemon (read-only, busy-tolerant)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
