"""WooCommerce authentication: OAuth 1.0a one-legged over http, Basic over https.

platforms.md gives no worked WooCommerce example, so the vector below was
written out by hand from its rule (METHOD & pct(URL) & pct(sorted, normalised
params), key = secret + "&", base64 HMAC) and its signatures computed with
``openssl dgst -hmac 'cs_test&' -binary | base64``, independently of this code.
"""

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from channelsync_ownsite.channel import OwnsiteChannel
from channelsync_ownsite.signing import base_string, basic_header, oauth_params, parse_basic, pct, signature
from channelsync_ownsite.sim import SANDBOX_KEY, SANDBOX_SECRET, OwnsiteSimulator

from channelsync.sdk.errors import AuthExpired, Rejected

URL = "http://shop.example.com/wp-json/wc/v3/products"
PARAMS = {"per_page": "100", "page": "1", "modified_after": "2024-05-01T08:00:00",
          "oauth_consumer_key": "ck_test", "oauth_nonce": "abc123", "oauth_signature_method": "HMAC-SHA256",
          "oauth_timestamp": "1700000000"}
BASE = ("GET&http%3A%2F%2Fshop.example.com%2Fwp-json%2Fwc%2Fv3%2Fproducts&"
        "modified_after%3D2024-05-01T08%253A00%253A00%26oauth_consumer_key%3Dck_test%26oauth_nonce%3Dabc123"
        "%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000%26page%3D1%26per_page%3D100")


def test_base_string_sorts_and_encodes_twice_as_woocommerce_does():
    assert base_string("get", URL, PARAMS.items()) == BASE


def test_hmac_sha256_signature_vector():
    assert signature("GET", URL, PARAMS.items(), "cs_test") == "E3E4ut8tSvSR9zbHAHcweRzyh39Ip1WDG2X3ZsLiAAs="


def test_hmac_sha1_signature_vector():
    params = {**PARAMS, "oauth_signature_method": "HMAC-SHA1"}
    assert signature("GET", URL, params.items(), "cs_test", "HMAC-SHA1") == "otcDAAsdFlQnSOaafFbE92pWtEI="


def test_pct_is_rfc3986():
    assert pct("a b+c/~é") == "a%20b%2Bc%2F~%C3%A9"


def test_oauth_params_adds_the_five_parameters_and_signs_them():
    signed = oauth_params("GET", URL, {"page": "1", "per_page": "100", "modified_after": "2024-05-01T08:00:00"},
                          "ck_test", "cs_test", timestamp=1700000000, nonce="abc123")
    assert signed["oauth_signature"] == "E3E4ut8tSvSR9zbHAHcweRzyh39Ip1WDG2X3ZsLiAAs="
    assert {k for k in signed if k.startswith("oauth_")} == {
        "oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature_method", "oauth_signature"}


def test_basic_header_round_trips():
    assert basic_header("ck_test", "cs_test") == "Basic Y2tfdGVzdDpjc190ZXN0"
    assert parse_basic("Basic Y2tfdGVzdDpjc190ZXN0") == ("ck_test", "cs_test")
    assert parse_basic("Bearer x") is None


# --- the simulator verifies what the client signs -----------------------------------------

def call(sim, url, params, headers=None):
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        return client.get(url, params=params, headers=headers or {})


def signed(sim, url="http://sim.invalid/wp-json/wc/v3/products", secret=SANDBOX_SECRET, **overrides):
    params = oauth_params("GET", url, {"per_page": "10"}, SANDBOX_KEY, secret,
                          timestamp=int(sim.now().timestamp()), nonce=overrides.pop("nonce", None))
    return {**params, **overrides}


def assert_woo_error(response, status, code, message):
    assert response.status_code == status
    assert response.json() == {"code": code, "message": message, "data": {"status": status}}


def test_simulator_accepts_a_good_signature():
    sim = OwnsiteSimulator()
    sim.seed("A-1", 3, 1290)
    response = call(sim, "http://sim.invalid/wp-json/wc/v3/products", signed(sim))
    assert response.status_code == 200 and response.json()[0]["sku"] == "A-1"


def test_simulator_rejects_a_bad_signature_with_woocommerces_error():
    sim = OwnsiteSimulator()
    response = call(sim, "http://sim.invalid/wp-json/wc/v3/products", signed(sim, secret="wrong"))
    assert_woo_error(response, 401, "woocommerce_rest_authentication_error",
                     "Invalid signature - provided signature does not match.")


def test_simulator_rejects_a_signature_made_for_another_url():
    sim = OwnsiteSimulator()
    params = signed(sim, url="http://sim.invalid/wp-json/wc/v3/orders")
    response = call(sim, "http://sim.invalid/wp-json/wc/v3/products", params)
    assert response.json()["message"] == "Invalid signature - provided signature does not match."


def test_simulator_rejects_an_unknown_key_and_an_unknown_method():
    sim = OwnsiteSimulator()
    assert_woo_error(call(sim, "http://sim.invalid/wp-json/wc/v3/products",
                          signed(sim, oauth_consumer_key="ck_other")),
                     401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    assert_woo_error(call(sim, "http://sim.invalid/wp-json/wc/v3/products",
                          signed(sim, oauth_signature_method="PLAINTEXT")),
                     401, "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid.")


def test_simulator_rejects_a_reused_nonce():
    sim = OwnsiteSimulator()
    params = signed(sim, nonce="same-nonce-1")
    assert call(sim, "http://sim.invalid/wp-json/wc/v3/products", params).status_code == 200
    assert_woo_error(call(sim, "http://sim.invalid/wp-json/wc/v3/products", params),
                     401, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.")


@pytest.mark.parametrize("skew,ok", [(timedelta(minutes=14), True), (timedelta(minutes=16), False),
                                     (timedelta(minutes=-16), False)])
def test_simulator_allows_fifteen_minutes_of_clock_skew(skew, ok):
    shop_time = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    sim = OwnsiteSimulator(clock=lambda: shop_time)
    params = oauth_params("GET", "http://sim.invalid/wp-json/wc/v3/products", {}, SANDBOX_KEY, SANDBOX_SECRET,
                          timestamp=int((shop_time + skew).timestamp()))
    response = call(sim, "http://sim.invalid/wp-json/wc/v3/products", params)
    if ok:
        assert response.status_code == 200
    else:
        assert_woo_error(response, 401, "woocommerce_rest_authentication_error", "Invalid timestamp.")


def test_simulator_names_missing_oauth_parameters():
    sim = OwnsiteSimulator()
    params = signed(sim)
    del params["oauth_nonce"]
    assert_woo_error(call(sim, "http://sim.invalid/wp-json/wc/v3/products", params),
                     401, "woocommerce_rest_authentication_missing_parameter", "Missing OAuth parameter oauth_nonce")


def test_plain_http_ignores_basic_auth():
    sim = OwnsiteSimulator()
    response = call(sim, "http://sim.invalid/wp-json/wc/v3/products", {},
                    {"Authorization": basic_header(SANDBOX_KEY, SANDBOX_SECRET)})
    assert_woo_error(response, 401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")


def test_https_takes_basic_auth_and_query_credentials():
    sim = OwnsiteSimulator()
    url = "https://sim.invalid/wp-json/wc/v3/products"
    assert call(sim, url, {}, {"Authorization": basic_header(SANDBOX_KEY, SANDBOX_SECRET)}).status_code == 200
    assert call(sim, url, {"consumer_key": SANDBOX_KEY, "consumer_secret": SANDBOX_SECRET}).status_code == 200
    assert_woo_error(call(sim, url, {}, {"Authorization": basic_header(SANDBOX_KEY, "cs_wrong")}),
                     401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")


# --- the adapter over each scheme -------------------------------------------------------

@pytest.mark.parametrize("base_url,auth", [("https://sim.invalid", "auto"), ("https://sim.invalid", "query"),
                                           ("http://sim.invalid", "auto"), ("https://sim.invalid", "oauth")])
def test_adapter_authenticates_by_scheme(base_url, auth, connect_simulator):
    sim, adapter = connect_simulator(OwnsiteChannel, settings={"base_url": base_url, "auth": auth})
    sim.seed("A-1", 3, 1290)
    assert [ls.sku_code for ls in adapter.list_listings(None).items] == ["A-1"]


def test_adapter_signs_with_sha1_when_configured(connect_simulator):
    sim, adapter = connect_simulator(OwnsiteChannel, settings={"signature_method": "HMAC-SHA1"})
    sim.seed("A-1", 3, 1290)
    assert adapter.list_listings(None).items[0].quantity == 3


def test_adapter_with_a_wrong_secret_is_rejected_without_echoing_it(connect_simulator):
    _, adapter = connect_simulator(OwnsiteChannel, settings={"consumer_secret": "cs_not-the-secret"})
    with pytest.raises(Rejected) as info:
        adapter.list_listings(None)
    assert info.value.code == "woocommerce_rest_authentication_error"
    assert "cs_not-the-secret" not in str(info.value)


def test_adapter_adopts_the_shops_clock_after_a_refused_timestamp(clock, connect_simulator):
    clock.now = datetime.now(timezone.utc) + timedelta(hours=1)  # the shop's clock runs an hour ahead
    sim, adapter = connect_simulator(OwnsiteChannel, clock=clock)
    sim.seed("A-1", 3, 1290)
    with pytest.raises(AuthExpired) as info:
        adapter.list_listings(None)
    assert info.value.code == "woocommerce_rest_authentication_error"
    adapter.refresh_auth()
    assert adapter.list_listings(None).items
