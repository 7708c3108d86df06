"""A renewal whose answer is lost: TOP retired the refresh token, the client never got the new
pair (what a kill between the platform's answer and the commit of the pair also leaves)."""

import httpx

from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.testing.harness import Shop


def test_a_consumed_refresh_token_says_to_re_authorise(tmp_path):
    sim = channel_types(make_manager())["taobao"].simulator()
    sim.seed("A", 0, 1000)
    shop = Shop(tmp_path, {"tb": {"plugin": "taobao", "initial_lookback": 600,
                                  "settings": sim.credentials("http://top"), "transport": httpx.WSGITransport(app=sim)}})
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,10\n")
    shop.resync_all()
    shop.settle()
    sim.inject("auth_expired")
    sim.inject("reset", applied=True, match="taobao.top.auth.token.refresh")  # renewed, answer lost
    for _ in range(3):
        shop.runners["tb"].poll()
    assert len(sim.refresh_tokens) == 1 and "sandbox-taobao-refresh" not in sim.refresh_tokens, \
        "the platform renewed and retired the configured refresh token"
    error = shop.store.scalar("SELECT last_error FROM channels WHERE name = 'tb'")
    assert error and "authoris" in error.lower(), error
