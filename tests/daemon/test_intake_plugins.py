"""Per plugin, through the real intake server over HTTP: valid messages ring, and every kind of
bad one is refused (signature, stale timestamp, replay, size, unknown channel) — and nothing
that arrives changes the store by itself: a message only rings a doorbell."""

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from channelsync.config.settings import ChannelConfig, ChannelIntake, Config
from channelsync.daemon.intake import Intake, IntakeServer
from channelsync.sdk.plugins import channel_types, intake_types, make_manager
from channelsync.sim.simulator import SimLine, SimOrder
from channelsync.store import Store

PM = make_manager()
TYPES, RECEIVERS = channel_types(PM), intake_types(PM)
WEBHOOKS = ("ownsite", "wechat", "jd")
TABLES = ("orders", "order_lines", "outbox", "listings", "stock", "stock_movements", "channels")


class Clocked:
    """A simulator stand-in for ``Messages.build``: only its clock is read."""

    def __init__(self, now):
        self._now = now

    def now(self):
        return self._now


def order(order_id="2001"):
    now = datetime.now(timezone.utc)
    return SimOrder(order_id, [SimLine("9", "8", "SKU-1", 1, 100)], "paid", now, now, paid=True)


@pytest.fixture
def served(tmp_path):
    """An intake server for one channel per webhook plugin, the store it must leave alone, and the rings."""
    rings = []
    sims = {p: TYPES[p].simulator() for p in WEBHOOKS}
    channels = {p: ChannelConfig(name=p, plugin=p, intake=ChannelIntake(True, None, sims[p].messages.settings()))
                for p in WEBHOOKS}
    channels["off"] = ChannelConfig(name="off", plugin="ownsite")
    config = Config(path=None, db_path=tmp_path / "intake.db", channels=channels)
    receivers = {p: RECEIVERS[p](p, channels[p].intake.settings) for p in WEBHOOKS}
    server = IntakeServer(Intake(config, receivers, lambda ch, bells: rings.append((ch, bells)))).start()
    store = Store(config.db_path)
    before = {t: store.scalar(f"SELECT COUNT(*) FROM {t}") for t in TABLES}
    with httpx.Client(base_url=server.base_url) as client:
        yield server, client, sims, rings
    assert {t: store.scalar(f"SELECT COUNT(*) FROM {t}") for t in TABLES} == before  # nothing written
    store.close()
    server.stop()


def send(client, plugin, out, path=None):
    return client.post(path or f"/intake/{plugin}", content=out.body, headers=out.headers, params=out.query)


def message(sims, plugin, event="paid", at=None, oid="2001"):
    sim = sims[plugin]
    return sim.messages.build(Clocked(at or datetime.now(timezone.utc)), event, order(oid), sim.messages.settings())


@pytest.mark.parametrize("plugin", WEBHOOKS)
def test_a_valid_message_rings_its_channel_once(served, plugin):
    server, client, sims, rings = served
    response = send(client, plugin, message(sims, plugin))
    assert response.status_code == 200
    assert [(ch, [b.order_id for b in bells]) for ch, bells in rings] == [(plugin, ["2001"])]
    assert server.intake.ledger.totals[plugin] == {"accepted": 1}


@pytest.mark.parametrize("plugin", WEBHOOKS)
def test_a_badly_signed_message_is_refused_and_counted_in_metrics(served, plugin):
    from channelsync.telemetry import metrics

    counter = metrics.INTAKE_MESSAGES.labels(plugin, "signature")
    before = counter._value.get()
    server, client, sims, rings = served
    response = send(client, plugin, sims[plugin].messages.forge(message(sims, plugin)))
    assert response.status_code == 401 and rings == []
    assert server.intake.ledger.totals[plugin] == {"signature": 1}
    assert counter._value.get() == before + 1


@pytest.mark.parametrize("plugin", WEBHOOKS)
def test_a_stale_message_rings_nothing(served, plugin):
    server, client, sims, rings = served
    response = send(client, plugin, message(sims, plugin, at=datetime.now(timezone.utc) - timedelta(hours=1)))
    assert response.status_code == 200 and rings == []  # answered (the platform must not retry), not rung
    assert server.intake.ledger.totals[plugin] == {"stale": 1}


@pytest.mark.parametrize("plugin", WEBHOOKS)
def test_a_replayed_message_rings_nothing(served, plugin):
    server, client, sims, rings = served
    out = message(sims, plugin)
    assert send(client, plugin, out).status_code == 200
    assert send(client, plugin, out).status_code == 200
    assert len(rings) == 1 and server.intake.ledger.totals[plugin] == {"accepted": 1, "replay": 1}


@pytest.mark.parametrize("plugin", WEBHOOKS)
def test_an_oversized_body_is_refused_unread(served, plugin):
    server, client, sims, rings = served
    out = message(sims, plugin)
    big = replace(out, body=out.body + b" " * server.intake.receivers[plugin].max_body)
    assert send(client, plugin, big).status_code == 413 and rings == []
    assert server.intake.ledger.totals[plugin] == {"size": 1}


@pytest.mark.parametrize("path", ["/intake/nosuch", "/intake/off", "/other", "/intake/"])
def test_unknown_or_disabled_channels_are_refused(served, path):
    server, client, sims, rings = served
    assert send(client, "ownsite", message(sims, "ownsite"), path=path).status_code == 404 and rings == []


def test_other_methods_and_missing_length_are_refused(served):
    server, client, sims, rings = served
    assert client.put("/intake/ownsite", content=b"{}").status_code == 405
    assert client.post("/intake/ownsite", content=iter([b"{}"])).status_code == 411  # chunked
    assert rings == [] and server.intake.ledger.totals["ownsite"] == {"method": 1, "size": 1}


def test_a_burst_of_valid_messages_is_one_doorbell_poll():
    from channelsync.sync.doorbell import Doorbell

    now = [0.0]
    bell = Doorbell(lag=0.0, min_gap=1.0, clock=lambda: now[0])
    for _ in range(50):
        bell.ring()
    assert bell.due() and not bell.due()  # one poll answers the whole burst
    bell.ring()
    assert not bell.due()  # within the minimum gap
    now[0] = 1.0
    assert bell.due() and bell.polls == 2 and bell.rings == 51


def test_a_ring_waits_for_the_channels_order_lag():
    from channelsync.sync.doorbell import Doorbell

    now = [0.0]
    bell = Doorbell(lag=5.0, min_gap=0.0, clock=lambda: now[0])
    bell.ring()
    now[0] = 3.0
    bell.ring()
    assert not bell.due()
    now[0] = 5.0
    assert bell.due() and bell.pending  # the second ring is not due yet: one more poll later
    now[0] = 8.0
    assert bell.due() and not bell.pending


def test_a_second_look_follows_the_answered_rings_once():
    from channelsync.sync.doorbell import Doorbell

    now = [0.0]
    bell = Doorbell(min_gap=0.0, recheck=5.0, clock=lambda: now[0])
    bell.ring()
    assert bell.due() and bell.pending and not bell.due()
    now[0] = 5.0
    assert bell.due() and not bell.pending  # the second look, and no third
    now[0] = 60.0
    assert not bell.due() and bell.polls == 2


# --- the platforms' own signing, computed here independently of the plugins ---------------

def test_woocommerce_signature_is_base64_hmac_sha256_of_the_raw_body(served):
    server, client, sims, rings = served
    body = json.dumps({"id": 7, "date_modified_gmt": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()})
    secret = sims["ownsite"].messages.settings()["secret"]
    sig = base64.b64encode(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()).decode()
    ok = client.post("/intake/ownsite", content=body, headers={"X-WC-Webhook-Signature": sig,
                                                               "X-WC-Webhook-Topic": "order.updated"})
    assert ok.status_code == 200 and rings[-1][1][0].order_id == "7"
    ping = client.post("/intake/ownsite", content=b"webhook_id=3")  # saving the webhook in the admin
    assert ping.status_code == 200 and len(rings) == 1


def test_wechat_plain_mode_and_url_check_use_sha1_of_sorted_token_timestamp_nonce(served):
    server, client, sims, rings = served
    token = sims["wechat"].messages.settings()["token"]
    ts = str(int(datetime.now(timezone.utc).timestamp()))
    sig = hashlib.sha1("".join(sorted([token, ts, "n1"])).encode()).hexdigest()
    plain = RECEIVERS["wechat"]("wx", {"token": token})
    server.intake.receivers["wx"] = plain
    server.intake.config.channels["wx"] = ChannelConfig(name="wx", plugin="wechat", intake=ChannelIntake(True))
    echo = client.get("/intake/wx", params={"signature": sig, "timestamp": ts, "nonce": "n1", "echostr": "hello"})
    assert echo.status_code == 200 and echo.text == "hello"
    body = json.dumps({"Event": "channels_ec_order_pay", "order_info": {"order_id": 55}})
    ok = client.post("/intake/wx", content=body, params={"signature": sig, "timestamp": ts, "nonce": "n1"})
    assert ok.status_code == 200 and ok.text == "success" and rings[-1][1][0].order_id == "55"
    bad = client.get("/intake/wx", params={"signature": "0" * 40, "timestamp": ts, "nonce": "n1", "echostr": "x"})
    assert bad.status_code == 401 and "x" not in bad.text


def test_wechat_encrypted_mode_refuses_plain_messages_and_other_appids(served):
    server, client, sims, rings = served
    settings = sims["wechat"].messages.settings()
    from channelsync_wechat.intake import aes_key, encrypt

    ts = str(int(datetime.now(timezone.utc).timestamp()))
    token, key = settings["token"], aes_key(settings["encoding_aes_key"])
    plain_sig = hashlib.sha1("".join(sorted([token, ts, "n"])).encode()).hexdigest()
    body = json.dumps({"Event": "channels_ec_order_pay", "order_info": {"order_id": 1}})
    assert client.post("/intake/wechat", content=body, params={"signature": plain_sig, "timestamp": ts,
                                                              "nonce": "n"}).status_code in (400, 401)
    enc = encrypt(body.encode(), "another-appid", key, b"0" * 16)
    msg_sig = hashlib.sha1("".join(sorted([token, ts, "n", enc])).encode()).hexdigest()
    other = client.post("/intake/wechat", content=json.dumps({"Encrypt": enc}),
                        params={"msg_signature": msg_sig, "timestamp": ts, "nonce": "n"})
    assert other.status_code == 401 and rings == []
    xml = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypt(body.encode(), settings['appid'], key, b'1' * 16)}" \
          "</Encrypt></xml>"
    enc2 = xml.split("<Encrypt>")[1].split("</Encrypt>")[0]
    msg_sig2 = hashlib.sha1("".join(sorted([token, ts, "n2", enc2])).encode()).hexdigest()
    ok = client.post("/intake/wechat", content=xml, params={"msg_signature": msg_sig2, "timestamp": ts, "nonce": "n2"})
    assert ok.status_code == 200 and rings[-1][1][0].order_id == "1"


def test_wechat_xml_with_a_dtd_is_refused_before_any_entity_is_read(served):
    server, client, sims, rings = served
    settings = sims["wechat"].messages.settings()
    ts = str(int(datetime.now(timezone.utc).timestamp()))
    evil = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<xml><Encrypt>&e;</Encrypt></xml>")
    sig = hashlib.sha1("".join(sorted([settings["token"], ts, "n", "&e;"])).encode()).hexdigest()
    answer = client.post("/intake/wechat", content=evil, params={"msg_signature": sig, "timestamp": ts, "nonce": "n"})
    assert answer.status_code == 400 and rings == [] and "root:" not in answer.text
    assert server.intake.ledger.totals["wechat"] == {"malformed": 1}
