"""Taobao TMC: the daemon keeps a signed client connection to the message server, rings on
each trade message, confirms it, treats a redelivery as a replay, and reconnects after failures."""

from channelsync.config.settings import ChannelConfig, ChannelIntake, Config
from channelsync.daemon.intake import Intake, IntakeServer
from channelsync.sdk.plugins import channel_types, intake_types, make_manager
from channelsync.sim.server import serve
from channelsync.testing import wait_for

PM = make_manager()


def listener(tmp_path, sim, base_url, rings, **overrides):
    settings = sim.messages.settings(base_url) | {"poll_wait": 0.5} | overrides
    cfg = ChannelConfig(name="tb", plugin="taobao", intake=ChannelIntake(True, None, settings))
    config = Config(path=None, db_path=tmp_path / "x.db", channels={"tb": cfg})
    receiver = intake_types(PM)["taobao"]("tb", settings)
    return IntakeServer(Intake(config, {"tb": receiver}, lambda ch, bells: rings.append(bells))).start()


def test_trade_messages_ring_once_and_are_confirmed(tmp_path):
    sim = channel_types(PM)["taobao"].simulator()
    sim.seed("A", 5, 100)
    rings = []
    with serve(sim) as http:
        sim.notify_to(None, duplicate=1.0)  # every message twice: the second is a replay
        server = listener(tmp_path, sim, http.base_url, rings)
        try:
            order = sim.place_order([("A", 1)])
            wait_for(lambda: server.intake.ledger.totals.get("tb", {}).get("replay") == 1, 20, "the duplicate")
            assert [[b.order_id for b in bells] for bells in rings] == [[order.order_id]]
            assert rings[0][0].topic == "taobao_trade_TradeBuyerPay"
            wait_for(lambda: not sim.held.unconfirmed and not sim.held.queue, 30, "the confirmation")
        finally:
            server.stop()
            sim.stop_notifying()


def test_a_wrong_secret_never_connects_and_the_listener_keeps_trying(tmp_path):
    sim = channel_types(PM)["taobao"].simulator()
    sim.seed("A", 5, 100)
    rings = []
    with serve(sim) as http:
        sim.notify_to(None)
        server = listener(tmp_path, sim, http.base_url, rings, app_secret="wrong")
        try:
            sim.place_order([("A", 1)])
            wait_for(lambda: server.intake.ledger.links.get("tb") is False, 30, "a refused connection")
            assert rings == [] and server.listeners[0].is_alive()  # still trying, with back-off
            assert len(sim.held.queue) == 1  # still held for a client that signs correctly
        finally:
            server.stop()
            sim.stop_notifying()


def test_the_listener_reconnects_when_the_server_comes_back(tmp_path):
    sim = channel_types(PM)["taobao"].simulator()
    sim.seed("A", 5, 100)
    rings = []
    with serve(sim) as first:
        port = int(first.base_url.rsplit(":", 1)[1])
    server = listener(tmp_path, sim, f"http://127.0.0.1:{port}", rings)  # nothing listens there now
    try:
        sim.notify_to(None)
        sim.place_order([("A", 1)])
        with serve(sim, port=port):
            wait_for(lambda: len(rings) == 1, 30, "the message after the reconnect")
    finally:
        server.stop()
        sim.stop_notifying()
