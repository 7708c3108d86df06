"""Requests a crash interrupted: resumed or failed with a message after the restart, never
left ``running``; a CLI waiting on a daemon that died notices within seconds."""

import json
import os
import subprocess
import sys
import time

import pytest

from channelsync.daemon import handoff
from channelsync.sdk.errors import ChannelsyncError


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def running_row(store, kind="resync", attempts=1, pid=None) -> int:
    request_id = handoff.submit(store, kind, "a", {"dry_run": True})
    store.execute("UPDATE requests SET status = 'running', owner_pid = ?, attempts = ? WHERE id = ?",
                  (pid if pid is not None else dead_pid(), attempts, request_id))
    return request_id


def status(store, request_id) -> dict:
    return store.one("SELECT * FROM requests WHERE id = ?", (request_id,))


def test_a_request_its_runner_left_running_is_resumed(store):
    request_id = running_row(store)
    assert handoff.recover(store) == {"resumed": 1, "failed": 0}
    assert status(store, request_id)["status"] == "pending"


def test_one_interrupted_too_often_is_failed_with_a_message(store):
    request_id = running_row(store, attempts=handoff.MAX_ATTEMPTS)
    assert handoff.recover(store) == {"resumed": 0, "failed": 1}
    row = status(store, request_id)
    assert row["status"] == "failed"
    message = json.loads(row["result"])["message"]
    assert "interrupted 3 times" in message and "run the command again" in message
    with pytest.raises(ChannelsyncError, match="interrupted 3 times"):
        handoff.wait(store, request_id, timeout=5)


def test_one_a_live_cli_runs_is_left_alone(store):
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        request_id = running_row(store, pid=helper.pid)
        assert handoff.recover(store) == {"resumed": 0, "failed": 0}
        assert status(store, request_id)["status"] == "running"
    finally:
        helper.kill()
        helper.wait()


def test_the_cli_runs_the_request_itself_when_the_daemon_died(store):
    request_id = handoff.submit(store, "resync", "a", {"dry_run": True})
    started = time.monotonic()
    ran = []

    def here(progress):
        progress(2)
        ran.append(os.getpid())
        return {"seen": 2}

    result = handoff.wait(store, request_id, daemon_alive=lambda: False, run_here=here, grace=0.5, timeout=60)
    assert result == {"seen": 2} and ran == [os.getpid()]
    assert time.monotonic() - started < 30, "noticed within seconds, not after the hour-long timeout"
    row = status(store, request_id)
    assert row["status"] == "done" and row["owner_pid"] == os.getpid() and row["progress"] == "2"


def test_the_cli_takes_over_a_request_the_dead_daemon_was_running(store):
    request_id = running_row(store)
    result = handoff.wait(store, request_id, daemon_alive=lambda: False, run_here=lambda p: {"ok": 1},
                          grace=0.2, timeout=60)
    assert result == {"ok": 1} and status(store, request_id)["attempts"] == 2


def test_without_a_way_to_run_it_the_cli_says_what_became_of_the_request(store):
    request_id = handoff.submit(store, "ship", "a", {})
    with pytest.raises(ChannelsyncError, match="daemon stopped before finishing request .* resumes the request"):
        handoff.wait(store, request_id, daemon_alive=lambda: False, grace=0.2, timeout=60)
    assert status(store, request_id)["status"] == "pending", "left for the daemon's next start"


def test_a_daemon_that_comes_back_within_the_grace_keeps_the_request(store):
    request_id = handoff.submit(store, "resync", "a", {})
    answers = iter([False, False, True])

    def finish_later():
        handoff.finish(store, request_id, "done", {"by": "daemon"})
        return True

    calls = []

    def daemon_alive():
        calls.append(1)
        value = next(answers, None)
        return value if value is not None else finish_later()

    assert handoff.wait(store, request_id, daemon_alive=daemon_alive, run_here=lambda p: {"by": "cli"},
                        grace=5, timeout=60) == {"by": "daemon"}


def test_the_daemon_is_alive_while_its_registered_process_is(store):
    store.execute("INSERT INTO daemon (id, pid) VALUES (1, ?)", (os.getpid(),))
    assert handoff.daemon_alive(store)
    store.execute("UPDATE daemon SET pid = ?", (dead_pid(),))
    assert not handoff.daemon_alive(store)
    store.execute("UPDATE daemon SET pid = NULL")
    assert not handoff.daemon_alive(store)


def test_a_lock_held_by_a_new_daemon_keeps_the_cli_waiting(store):
    request_id = handoff.submit(store, "resync", "a", {})
    checks = []

    def running():
        checks.append(1)
        if len(checks) >= 2:
            handoff.finish(store, request_id, "done", {"by": "daemon"})
        return True

    assert handoff.wait(store, request_id, daemon_alive=lambda: False, daemon_running=running,
                        run_here=lambda p: {"by": "cli"}, grace=0.2, timeout=60) == {"by": "daemon"}
