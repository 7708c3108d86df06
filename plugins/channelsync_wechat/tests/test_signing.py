"""WeChat's proof of identity: the stable access token, carried as ``?access_token=``.

WeChat channels/ec requests are not signed (platforms.md has no signing
example for it): the token is the only credential. These tests pin the token
flow of platforms.md exactly, on the wire, and the simulator's refusals of a
bad, missing or expired token and of a wrong secret, with WeChat's own codes.
"""

import json
from datetime import timedelta

import httpx
import pytest
import respx

from channelsync.sdk.errors import AuthExpired, RateLimited, Rejected
from channelsync_wechat import api
from channelsync_wechat.channel import WechatChannel
from channelsync_wechat.client import WechatClient
from channelsync_wechat.sim import APPID, SECRET


def token_call(http, **body):
    return http.post(api.STABLE_TOKEN, json={"grant_type": "client_credential", "appid": APPID, "secret": SECRET,
                                            "force_refresh": False, **body}).json()


# --- the wire format of platforms.md ---------------------------------------------------------

def test_token_request_and_business_call_are_exactly_as_documented():
    with respx.mock(assert_all_called=True) as mock:
        token = mock.post("https://api.weixin.qq.com/cgi-bin/stable_token").respond(
            200, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
        delist = mock.post("https://api.weixin.qq.com/channels/ec/product/delisting").respond(
            200, json={"errcode": 0, "errmsg": "ok"})
        adapter = WechatChannel("wx", {"appid": "wx-app", "secret": "s3cret-value"},
                                httpx.Client(base_url=api.DEFAULT_BASE_URL))
        from channelsync.sdk.models import ListingContent

        adapter.set_shelf(ListingContent("A", "P", "t", "", False, item_id="1001"), False)
    sent = token.calls.last.request
    assert sent.headers["content-type"].startswith("application/json")
    assert json.loads(sent.content) == {"grant_type": "client_credential", "appid": "wx-app",
                                        "secret": "s3cret-value", "force_refresh": False}
    call = delist.calls.last.request
    assert dict(call.url.params) == {"access_token": "ACCESS_TOKEN"}
    assert json.loads(call.content) == {"product_id": "1001"}
    assert call.headers["content-type"].startswith("application/json")


def test_token_answer_sets_expiry_from_expires_in(clock):
    with respx.mock() as mock:
        mock.post("https://api.weixin.qq.com/cgi-bin/stable_token").respond(
            200, json={"access_token": "T1", "expires_in": 3600})
        client = WechatClient(httpx.Client(base_url=api.DEFAULT_BASE_URL).request, appid="a", secret="s",
                              clock=clock)
        token = client.fetch_token()
    assert token.token == "T1" and token.expires_at == clock.now + timedelta(seconds=3600)


# --- the simulator's token endpoint ------------------------------------------------------------

def test_simulator_issues_tokens_and_refuses_wrong_credentials(http):
    answer = token_call(http)
    assert answer["access_token"] and answer["expires_in"] == 7200 and "errcode" not in answer
    assert token_call(http, secret="wrong")["errcode"] == 40125
    assert token_call(http, appid="wx0000")["errcode"] == 40013
    assert token_call(http, grant_type="password")["errcode"] == 40002
    assert "invalid appsecret" in token_call(http, secret="wrong")["errmsg"]


def test_normal_call_returns_the_current_token_until_its_last_five_minutes(http, clock):
    first = token_call(http)
    clock.now += timedelta(seconds=6000)
    again = token_call(http)
    assert again["access_token"] == first["access_token"] and again["expires_in"] == 1200
    clock.now += timedelta(seconds=1000)  # 200 s left: the next token is handed out, the old one still works
    fresh = token_call(http)
    assert fresh["access_token"] != first["access_token"] and fresh["expires_in"] == 7200
    assert http.post(api.PRODUCT_LIST, params={"access_token": first["access_token"]},
                     json={"page_size": 1}).json()["errcode"] == 0


def test_forced_refresh_leaves_the_old_token_five_minutes(http, clock):
    old = token_call(http)["access_token"]
    new = token_call(http, force_refresh=True)["access_token"]
    assert new != old
    call = lambda token: http.post(api.PRODUCT_LIST, params={"access_token": token}, json={"page_size": 1}).json()
    assert call(old)["errcode"] == 0
    clock.now += timedelta(seconds=301)
    assert call(old)["errcode"] == 42001
    assert call(new)["errcode"] == 0


def test_forced_refresh_is_limited_to_twenty_a_day(http, clock):
    for _ in range(20):
        assert "access_token" in token_call(http, force_refresh=True)
    refused = token_call(http, force_refresh=True)
    assert refused["errcode"] == 45009
    assert "access_token" in token_call(http)  # the normal call still works
    clock.now += timedelta(days=1)
    assert "access_token" in token_call(http, force_refresh=True)


def test_client_maps_the_forced_refresh_limit_to_rate_limited_until_beijing_midnight(http, clock):
    client = WechatClient(http.request, appid=APPID, secret=SECRET, clock=clock)
    for _ in range(20):
        client.fetch_token(force_refresh=True)
    with pytest.raises(RateLimited) as info:
        client.fetch_token(force_refresh=True)
    # 01:00 UTC is 09:00 in Beijing: fifteen hours to the daily reset
    assert info.value.code == "45009" and info.value.retry_after == 15 * 3600


# --- refusals of a business call ---------------------------------------------------------------

@pytest.mark.parametrize("token,errcode", [(None, 41001), ("not-a-token", 40001)])
def test_simulator_refuses_missing_and_unknown_tokens(http, token, errcode):
    params = {"access_token": token} if token else {}
    answer = http.post(api.PRODUCT_LIST, params=params, json={"page_size": 10})
    assert answer.status_code == 200
    body = answer.json()
    assert body["errcode"] == errcode and " rid: " in body["errmsg"]


def test_simulator_refuses_an_expired_token_and_the_adapter_refreshes(sim, http, clock, adapter):
    sim.seed("EXP-1", 3, 100)
    assert adapter.list_listings(None).items
    token = adapter.auth.current.token
    clock.now += timedelta(seconds=7201)
    assert http.post(api.PRODUCT_LIST, params={"access_token": token}, json={"page_size": 1}).json()["errcode"] == 42001
    # the adapter's own clock says the token is due: it fetches a new one before calling
    assert adapter.list_listings(None).items
    assert adapter.auth.current.token != token


def test_adapter_raises_auth_expired_then_refresh_auth_recovers_without_forcing(sim, connect_simulator):
    sim.seed("EXP-2", 3, 100)
    _, adapter = connect_simulator(WechatChannel, sim)
    adapter.list_listings(None)
    sim.expire_tokens()
    with pytest.raises(AuthExpired) as info:
        adapter.list_listings(None)
    assert info.value.code in ("40001", "42001")
    adapter.refresh_auth()
    assert adapter.list_listings(None).items
    assert sum(sim.forced.values()) == 0, "the normal call already gave a new token"


def test_refresh_auth_forces_only_when_the_platform_returns_the_refused_token(sim, connect_simulator):
    _, adapter = connect_simulator(WechatChannel, sim)
    refused = adapter.auth.token()
    adapter.auth.refused(refused)  # as after a 40001 on a token the platform still hands out
    adapter.refresh_auth()
    assert adapter.auth.current.token != refused
    assert sum(sim.forced.values()) == 1


def test_wrong_secret_is_rejected_with_40125_and_no_secret_in_the_message(sim, connect_simulator):
    _, adapter = connect_simulator(WechatChannel, sim, settings={"secret": "wrong-but-private"})
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == "40125"
    assert "wrong-but-private" not in str(info.value)
