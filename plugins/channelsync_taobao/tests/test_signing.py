"""TOP signing and timestamps: the official worked example exactly, the two HMAC methods,
and the simulator refusing bad signatures, sessions, app keys and timestamps with TOP's envelope."""

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx
import pytest
from channelsync_taobao import api
from channelsync_taobao.channel import TaobaoChannel
from channelsync_taobao.router import (
    BEIJING,
    TopRouter,
    format_millis,
    format_time,
    parse_time,
)
from channelsync_taobao.sim import APP_KEY, APP_SECRET, SESSION, TaobaoSimulator

from channelsync.sdk.errors import AuthExpired, Rejected
from channelsync.sdk.router import SIGN_METHODS, sign, signing_string
from channelsync.testing.pytest_plugin import every_item

# platforms.md, "Signing", worked example (official)
EXAMPLE = {"app_key": "12345678", "fields": "num_iid,title,nick,price,num", "format": "json",
           "method": "taobao.item.seller.get", "num_iid": "11223344", "session": "test", "sign_method": "md5",
           "timestamp": "2016-01-01 12:00:00", "v": "2.0"}
EXAMPLE_SECRET = "helloworld"
EXAMPLE_SIGN = "66987CB115214E59E6EC978214934FB8"


def test_worked_example_md5():
    assert sign(EXAMPLE, EXAMPLE_SECRET, "md5") == EXAMPLE_SIGN


def test_sign_and_empty_values_are_left_out():
    noisy = {**EXAMPLE, "sign": "ANYTHING", "partner_id": "", "q": None}
    assert sign(noisy, EXAMPLE_SECRET, "md5") == EXAMPLE_SIGN


def test_signing_string_is_sorted_key_value_pairs():
    assert signing_string({"b": "2", "a": "1", "sign": "x", "c": ""}) == "a1b2"


def test_hmac_methods_key_the_digest_with_the_secret():
    text = signing_string({**EXAMPLE, "sign_method": "hmac"}).encode()
    assert sign({**EXAMPLE, "sign_method": "hmac"}, EXAMPLE_SECRET, "hmac") == \
        hmac.new(b"helloworld", text, hashlib.md5).hexdigest().upper()
    text = signing_string({**EXAMPLE, "sign_method": "hmac-sha256"}).encode()
    expected = hmac.new(b"helloworld", text, hashlib.sha256).hexdigest().upper()
    assert sign({**EXAMPLE, "sign_method": "hmac-sha256"}, EXAMPLE_SECRET, "hmac-sha256") == expected
    assert len(expected) == 64


def test_unknown_sign_method_is_refused():
    with pytest.raises(ValueError):
        sign(EXAMPLE, EXAMPLE_SECRET, "sha1")


def test_timestamps_are_beijing_time_or_epoch_millis():
    moment = datetime(2016, 1, 1, 4, 0, 0, 250_000, tzinfo=timezone.utc)
    assert format_time(moment) == "2016-01-01 12:00:00"
    assert parse_time("2016-01-01 12:00:00") == moment.replace(microsecond=0)
    assert parse_time("2016-01-01 12:00:00").utcoffset() == timedelta(hours=8)
    assert format_millis(moment) == "1451620800250"
    assert parse_time("1451620800250") == moment
    with pytest.raises(ValueError):
        parse_time("2016/01/01 12:00")


# --- the simulator's gateway checks ------------------------------------------------------

@pytest.fixture
def sim():
    return TaobaoSimulator()


def call(sim, params, secret=APP_SECRET, sign_method="md5", sign_value=None):
    """One signed POST to the simulator's router, system params in the query, business in the body."""
    system = {"method": api.ITEMS_ONSALE, "app_key": APP_KEY, "session": SESSION, "format": "json", "v": "2.0",
              "sign_method": sign_method, "timestamp": format_time(datetime.now(timezone.utc)), **params}
    business = {"fields": "num_iid", "page_no": "1", "page_size": "10"}
    system["sign"] = sign_value or sign({**system, **business}, secret, sign_method)
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim.invalid") as client:
        response = client.post(TopRouter.path, params=system, content=urlencode(business),
                               headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
    assert response.status_code == 200  # TOP reports errors with HTTP 200
    return response.json()


def error_code(body):
    return body["error_response"]["code"]


@pytest.mark.parametrize("method", SIGN_METHODS)
def test_simulator_accepts_each_sign_method(sim, method):
    body = call(sim, {}, sign_method=method)
    assert body["items_onsale_get_response"]["total_results"] == 0


def test_simulator_accepts_epoch_millisecond_timestamps(sim):
    body = call(sim, {"timestamp": format_millis(datetime.now(timezone.utc))})
    assert "items_onsale_get_response" in body


def test_simulator_rejects_a_bad_signature(sim):
    body = call(sim, {}, secret="not-the-secret")
    assert body["error_response"]["code"] == 25 and body["error_response"]["msg"] == "Invalid Signature"
    assert "request_id" in body["error_response"]
    assert sim.calls == []  # refused at the gateway: no API ran


def test_simulator_rejects_a_signature_of_another_method(sim):
    assert error_code(call(sim, {}, sign_method="hmac", sign_value=sign(EXAMPLE, APP_SECRET, "md5"))) == 25


def test_simulator_rejects_an_unknown_session(sim):
    body = call(sim, {"session": "someone-elses-session"})
    assert body["error_response"]["code"] == 27
    assert body["error_response"]["sub_code"] == "invalid-sessionkey"


@pytest.mark.parametrize("params,code", [({"session": ""}, 26), ({"app_key": "other"}, 29), ({"app_key": ""}, 28),
                                         ({"method": "taobao.no.such"}, 22), ({"v": "1.0"}, 34),
                                         ({"timestamp": "yesterday"}, 31)])
def test_simulator_gateway_errors(sim, params, code):
    assert error_code(call(sim, params)) == code


@pytest.mark.parametrize("offset,code", [(timedelta(minutes=11), 31), (timedelta(minutes=-11), 31)])
def test_simulator_enforces_ten_minutes_of_skew(sim, offset, code):
    moment = datetime.now(timezone.utc) + offset
    assert error_code(call(sim, {"timestamp": format_time(moment)})) == code
    assert error_code(call(sim, {"timestamp": format_millis(moment)})) == code
    near = datetime.now(timezone.utc) + offset / 2
    assert "items_onsale_get_response" in call(sim, {"timestamp": format_time(near.astimezone(BEIJING))})


@pytest.mark.parametrize("sign_method", SIGN_METHODS)
def test_channel_signs_with_the_configured_method(sim, sign_method, connect_simulator):
    sim.seed("SIG-1", 3, 990)
    _, adapter = connect_simulator(TaobaoChannel, sim, settings={"sign_method": sign_method,
                                                                 "timestamp_format": "millis"})
    assert [ls.sku_code for ls in every_item(adapter.list_listings)] == ["SIG-1"]


def test_channel_with_a_wrong_secret_gets_rejected_without_leaking_it(sim, connect_simulator):
    _, adapter = connect_simulator(TaobaoChannel, sim, settings={"app_secret": "leaky-secret-value"})
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == "25"
    assert "leaky-secret-value" not in str(info.value)


def test_expired_session_is_auth_expired_until_refreshed(sim, connect_simulator):
    sim.seed("EXP-1", 3, 990)
    _, adapter = connect_simulator(TaobaoChannel, sim)
    sim.expire_tokens()
    for _ in range(2):  # stays expired: the fault is not a one-off
        with pytest.raises(AuthExpired) as info:
            adapter.list_listings(None)
        assert info.value.code == "invalid-sessionkey"
    adapter.refresh_auth()
    assert adapter.auth.token() != SESSION and adapter.list_listings(None).items
    assert adapter.token_expires_at() is not None and adapter.token_expires_at() > datetime.now(timezone.utc)
