"""The intake server itself: a slow sender cannot hold it, a receiver's bug is one 400 (never the
server's death), a taken port stops the daemon's start with one message, the control API
turns a simulator's messages on."""

import socket
from dataclasses import replace

import httpx
import pytest

from channelsync.config.settings import (
    ChannelConfig,
    ChannelIntake,
    Config,
    DaemonConfig,
    IntakeConfig,
)
from channelsync.daemon import Daemon
from channelsync.daemon.intake import Intake, IntakeServer
from channelsync.sdk.errors import UserError
from channelsync.sdk.intake import Bell, Receiver, Verified
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop


class Plain(Receiver):
    deadline = 2.0

    def verify(self, request):
        if request.body == b"boom":
            raise RuntimeError("a receiver bug")
        return Verified([Bell(request.body.decode() or "empty")])


def server_for(tmp_path, rings):
    cfg = ChannelConfig(name="a", plugin="fake", intake=ChannelIntake(True))
    config = Config(path=None, db_path=tmp_path / "x.db", channels={"a": cfg})
    return IntakeServer(Intake(config, {"a": Plain("a", {})}, lambda ch, bells: rings.append(bells))).start()


def test_a_slow_sender_is_cut_off_and_does_not_block_others(tmp_path):
    rings = []
    server = server_for(tmp_path, rings)
    host, port = server.httpd.server_address[:2]
    try:
        slow = socket.create_connection((host, port))
        slow.sendall(b"POST /intake/a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
        assert httpx.post(f"{server.base_url}/intake/a", content=b"m1").status_code == 200  # served meanwhile
        slow.settimeout(30)
        assert slow.recv(4096).startswith(b"HTTP/1.1 400")  # the read timed out: refused, connection closed
        slow.close()
        assert [[b.message_id for b in bells] for bells in rings] == [["m1"]]
        assert server.intake.ledger.totals["a"] == {"accepted": 1, "malformed": 1}
    finally:
        server.stop()


def test_a_receiver_bug_is_a_400_and_the_server_goes_on(tmp_path):
    rings = []
    server = server_for(tmp_path, rings)
    try:
        assert httpx.post(f"{server.base_url}/intake/a", content=b"boom").status_code == 400
        assert httpx.post(f"{server.base_url}/intake/a", content=b"m2").status_code == 200
        assert server.intake.ledger.totals["a"] == {"malformed": 1, "accepted": 1}
    finally:
        server.stop()


def test_a_body_of_exactly_max_body_is_read(tmp_path):
    rings = []
    server = server_for(tmp_path, rings)
    try:
        body = b"x" * Plain.max_body
        assert httpx.post(f"{server.base_url}/intake/a", content=body).status_code == 200
        assert httpx.post(f"{server.base_url}/intake/a", content=body + b"x").status_code == 413
    finally:
        server.stop()


def test_a_taken_intake_port_stops_the_start_with_one_message(tmp_path):
    shop = Shop(tmp_path, {"a": {}})
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        channels = {"a": replace(shop.config.channels["a"], intake=ChannelIntake(True))}
        config = replace(shop.config, channels=channels, daemon=DaemonConfig(http_port=0),
                         intake=IntakeConfig(port=taken.getsockname()[1]))
        pm = shop.pm
        pm.register(FakeIntake())
        with pytest.raises(UserError, match=r"intake: cannot listen on 127\.0\.0\.1:\d+ .*choose another"):
            Daemon(config, pm).run(install_signals=False)
    finally:
        taken.close()
        shop.close()


class FakeIntake:
    """Registers a receiver for the fake channel type, as a plugin would."""

    from channelsync.sdk.hookspecs import hookimpl

    @hookimpl
    def register_intake(self, register):
        register("fake", Plain)


def test_the_control_api_turns_messages_on_with_faults():
    from channelsync.sdk.plugins import channel_types, make_manager
    from channelsync.sim.server import serve

    got = []
    sim = channel_types(make_manager())["jd"].simulator()
    sim.seed("A", 3, 100)
    with serve(_capture(got)) as sink, serve(sim) as http:
        answer = httpx.post(f"{http.base_url}/_sim/notify", json={"url": f"{sink.base_url}/x", "duplicate": 1.0})
        assert answer.status_code == 200
        sim.place_order([("A", 1)])
        wait_for(lambda: len(got) == 2, 20, "the message and its duplicate")
        assert got[0] == got[1] and b'"topic": "jd_order_pay"' in got[0]
        sim.stop_notifying()


def _capture(got):
    def app(environ, start_response):
        got.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return app


def test_a_burst_of_messages_to_the_daemon_is_a_handful_of_polls_not_one_each(tmp_path):
    import time

    from channelsync.telemetry import metrics

    shop = Shop(tmp_path, {"a": {"poll_interval": 300.0}})
    channels = {"a": replace(shop.config.channels["a"], intake=ChannelIntake(True))}
    config = replace(shop.config, channels=channels, daemon=DaemonConfig(http_port=0), intake=IntakeConfig(port=0))
    pm = shop.pm
    pm.register(FakeIntake())
    polls = metrics.INTAKE_POLLS.labels("a")
    try:
        with shop.running_daemon(config) as daemon:
            wait_for(lambda: daemon.started.is_set(), 30, "the daemon")
            before, started = polls._value.get(), time.monotonic()
            with httpx.Client(base_url=daemon.intake_server.base_url) as client:
                for n in range(40):
                    assert client.post("/intake/a", content=f"burst-{n}".encode()).status_code == 200
            took = time.monotonic() - started
            wait_for(lambda: polls._value.get() > before, 30, "the doorbell poll")
            wait_for(lambda: not daemon.workers["a"].doorbell.pending, 30, "the second look")
            # at most one poll per second (the minimum gap) while the burst lasts, one after it, and the second look
            assert polls._value.get() - before <= int(took) + 3
            assert daemon.intake_server.intake.ledger.totals["a"] == {"accepted": 40}
    finally:
        shop.close()


def test_a_config_reload_keeps_the_running_intake_and_says_it_waits_for_a_restart(tmp_path):
    from channelsync.daemon.upkeep import merge

    shop = Shop(tmp_path, {"a": {}})
    try:
        old = replace(shop.config, intake=IntakeConfig(port=9470))
        new = replace(old, intake=IntakeConfig(port=9471),
                      channels={"a": replace(old.channels["a"], intake=ChannelIntake(True), poll_interval=30.0)})
        merged, waiting = merge(old, new)
        assert merged.intake.port == 9470 and not merged.channels["a"].intake.enabled
        assert "intake" in waiting and "channels.a.intake" in waiting
    finally:
        shop.close()
