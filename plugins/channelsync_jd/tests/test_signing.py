"""JOS signing and timestamps: platforms.md's worked example, and the simulator refusing bad ones."""

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from channelsync_jd.channel import JdChannel
from channelsync_jd.router import format_timestamp, parse_timestamp
from channelsync_jd.sim import ACCESS_TOKEN, APP_KEY, APP_SECRET, JdSimulator

from channelsync.sdk.errors import AuthExpired, Rejected
from channelsync.sdk.router import sign
from channelsync.testing.conformance import connect

# platforms.md, "JD — JOS router API", worked example (official)
VECTOR = {
    "access_token": "yourtoken",
    "app_key": "yourappkey",
    "method": "jingdong.pop.order.search",
    "timestamp": "2021-05-07 09:20:39.683+0800",
    "v": "2.0",
    "360buy_param_json": '{"end_date":null,"optional_fields":null,"order_state":"WAIT_SELLER_STOCK_OUT",'
                         '"page":"1","page_size":"200","start_date":null}',
}


def test_worked_example_from_platforms_md():
    assert sign(VECTOR, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"


def test_sign_ignores_the_sign_parameter_itself():
    assert sign({**VECTOR, "sign": "ANYTHING"}, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"


def test_signature_covers_the_business_json():
    changed = {**VECTOR, "360buy_param_json": VECTOR["360buy_param_json"].replace('"1"', '"2"')}
    assert sign(changed, "yourappSecret") != "D70825340F4084360B9362B60DFD7930"


def test_timestamp_is_beijing_time_with_milliseconds_and_zone():
    moment = datetime(2021, 5, 7, 1, 20, 39, 683_999, tzinfo=timezone.utc)
    assert format_timestamp(moment) == "2021-05-07 09:20:39.683+0800"


@pytest.mark.parametrize("text", ["2021-05-07 09:20:39.683+0800", "2021-05-07 09:20:39"])
def test_both_timestamp_forms_parse_to_the_same_instant(text):
    parsed = parse_timestamp(text)
    assert parsed.tzinfo is not None
    assert parsed.replace(microsecond=0) == datetime(2021, 5, 7, 1, 20, 39, tzinfo=timezone.utc)


def test_unparseable_timestamp_raises():
    with pytest.raises(ValueError):
        parse_timestamp("07/05/2021 09:20")


# --- the simulator checks what the gateway checks -----------------------------------

def raw_call(sim, *, timestamp=None, secret=APP_SECRET, token=ACCESS_TOKEN, method="jingdong.sku.read.searchSkuList",
             where="body", tamper=None):
    """One hand-built gateway request; returns the decoded JSON body."""
    business = json.dumps({"pageNo": 1, "page_size": 10})
    params = {"method": method, "app_key": APP_KEY, "access_token": token, "v": "2.0",
              "timestamp": timestamp or format_timestamp(datetime.now(timezone.utc))}
    params["sign"] = sign({**params, "360buy_param_json": business}, secret)
    if tamper:
        params.update(tamper)
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim.invalid") as client:
        if where == "body":
            response = client.post("/routerjson", params=params, data={"360buy_param_json": business})
        else:
            response = client.post("/routerjson", params={**params, "360buy_param_json": business})
    assert response.status_code == 200  # JD reports gateway errors in a 200 body
    return response.json()


def test_simulator_accepts_a_good_signature_in_body_or_query():
    sim = JdSimulator()
    sim.seed("SIGN-1", 3, 990)
    for where in ("body", "query"):
        body = raw_call(sim, where=where)
        assert body["jingdong_sku_read_searchSkuList_responce"]["page"]["data"][0]["outerId"] == "SIGN-1"


def test_simulator_accepts_the_documented_timestamp_without_millis():
    sim = JdSimulator()
    plain = (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert "jingdong_sku_read_searchSkuList_responce" in raw_call(sim, timestamp=plain)


def test_simulator_rejects_a_bad_signature_with_jd_error_12():
    body = raw_call(JdSimulator(), secret="not-the-secret")
    assert body == {"error_response": {"code": "12", "zh_desc": "无效签名", "en_desc": "Invalid Signature"}}


def test_simulator_rejects_a_changed_parameter_after_signing():
    body = raw_call(JdSimulator(), tamper={"method": "jingdong.pop.order.search"})
    assert body["error_response"]["code"] == "12"


def test_simulator_rejects_a_missing_signature_with_11():
    assert raw_call(JdSimulator(), tamper={"sign": ""})["error_response"]["code"] == "11"


def test_simulator_rejects_an_unknown_token_with_19():
    body = raw_call(JdSimulator(), token="someone-elses-token")
    assert body["error_response"]["code"] == "19"
    assert body["error_response"]["en_desc"] == "Invalid access_token"


def test_simulator_rejects_a_skewed_timestamp_with_8():
    late = format_timestamp(datetime.now(timezone.utc) - timedelta(minutes=7))
    assert raw_call(JdSimulator(), timestamp=late)["error_response"]["code"] == "8"


def test_simulator_rejects_an_unknown_method_with_15():
    assert raw_call(JdSimulator(), method="jingdong.no.such.method")["error_response"]["code"] == "15"


def test_simulator_answers_the_old_stock_method_name():
    sim = JdSimulator()
    sku = sim.seed("OLD-1", 3, 990)
    with connect(JdChannel, "wsgi", sim) as env:
        env.adapter.client.execute("jingdong.stock.updateSkuStock", {"skuId": int(sku.external_id), "stockNum": 8})
    assert sim.stock("OLD-1") == 8


# --- the same refusals through the adapter ---------------------------------------------

def test_adapter_with_wrong_secret_gets_rejected_with_code_12():
    with connect(JdChannel, "wsgi", app_secret="wrong") as env:
        with pytest.raises(Rejected) as info:
            env.adapter.list_listings(None)
    assert info.value.code == "12"
    assert "wrong" not in str(info.value)


def test_adapter_with_unknown_token_gets_auth_expired_with_code_19():
    with connect(JdChannel, "wsgi", access_token="stale") as env:
        with pytest.raises(AuthExpired) as info:
            env.adapter.list_listings(None)
    assert info.value.code == "19"


def test_adapter_clock_seven_minutes_off_is_rejected_five_is_not():
    with connect(JdChannel, "wsgi") as env:
        env.adapter.client.clock = lambda: datetime.now(timezone.utc) + timedelta(minutes=5)
        env.adapter.list_listings(None)
        env.adapter.client.clock = lambda: datetime.now(timezone.utc) + timedelta(minutes=7)
        with pytest.raises(Rejected) as info:
            env.adapter.list_listings(None)
    assert info.value.code == "8"
