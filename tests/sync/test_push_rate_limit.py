"""A rate-limited push batch slows the channel once, however many outbox rows it carried."""

from __future__ import annotations

from channelsync.sync.ratelimit import CUT
from channelsync.testing.harness import Shop


def test_one_refused_batch_is_one_refusal_for_the_budget(tmp_path):
    shop = Shop(tmp_path, {"a": {}})
    try:
        codes = [f"RL-{i}" for i in range(5)]
        for code in codes:
            shop.platform("a").seed(code, 0, 990)
        shop.import_csv("product_code,sku_code,price,stock:main\n" + "".join(f"P,{c},9.90,3\n" for c in codes))
        shop.resync_all()
        shop.platform("a").inject("rate_limit", count=1, seconds=0.01)
        lane = shop.lanes["a"]
        before = (lane.budget.refusals, lane.budget.rate)
        stats = shop.runners["a"].drain()
        assert stats.retry == 5  # the whole batch of five rows was refused by one call
        assert lane.budget.refusals == before[0] + 1 and lane.budget.rate == before[1] * CUT
    finally:
        shop.close()


def test_a_channel_to_re_authorise_keeps_its_pushes_waiting_with_the_message_instead_of_parking_them(tmp_path):
    from channelsync.sdk import Reauthorize

    shop = Shop(tmp_path, {"a": {}})
    try:
        codes = [f"RA-{i}" for i in range(3)]
        for code in codes:
            shop.platform("a").seed(code, 0, 990)
        shop.import_csv("product_code,sku_code,price,stock:main\n" + "".join(f"P,{c},9.90,3\n" for c in codes))
        shop.resync_all()
        lane = shop.lanes["a"]

        def spent():
            raise Reauthorize("channel a: the platform refused its refresh token; To fix: authorise again")

        lane.adapter.refresh_auth = spent
        shop.platform("a").expire_tokens()
        stats = shop.runners["a"].drain()
        assert (stats.parked, stats.retry) == (0, 3)
        rows = shop.store.query("SELECT status, last_error FROM outbox WHERE channel = 'a'")
        assert {r["status"] for r in rows} == {"pending"} and all("To fix: authorise again" in r["last_error"]
                                                                  for r in rows)
    finally:
        shop.close()
