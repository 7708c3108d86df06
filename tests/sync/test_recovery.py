"""Prompt recovery: when a channel answers again, its waiting pushes go out at once,
not after the back-off they collected during the outage."""

from datetime import timedelta

from channelsync.engine import catalog
from channelsync.store import parse_ts, ts, utcnow
from channelsync.testing.harness import Shop

CSV = "product_code,sku_code,price,stock:main\nP,A,10.00,10\nP,B,10.00,10\n"


def opened(tmp_path) -> Shop:
    # waits=False: a poll during the outage retries inline without sleeping out its back-off
    # (what these tests check is the outbox's own back-off, in next_at, not the inline one)
    shop = Shop(tmp_path, {"a": {}, "b": {}}, waits=False)
    for name in ("a", "b"):
        shop.platform(name).seed("A", 0, 1000)
        shop.platform(name).seed("B", 0, 1000)
    shop.import_csv(CSV)
    shop.resync_all()
    shop.settle()
    assert shop.platform("b").stock("A") == 10
    return shop


def outage(shop: Shop, channel: str, calls: int = 10_000) -> None:
    shop.platform(channel).inject("error_5xx", count=calls)


def backed_off(shop: Shop, channel: str) -> list[dict]:
    return shop.store.query("SELECT * FROM outbox WHERE channel = ? AND status = 'pending'", (channel,))


def test_pushes_go_out_as_soon_as_the_channel_answers_again(tmp_path):
    shop = opened(tmp_path)
    outage(shop, "b")
    for qty in (7, 6, 5, 4):  # several failed tries: the back-off grows
        catalog.change_stock(shop.store, shop.config, "A", "main", set_to=qty)
        for row in backed_off(shop, "b"):
            shop.store.execute("UPDATE outbox SET next_at = ? WHERE channel = 'b'", (row["queued_at"],))
        shop.drain_all()
    rows = backed_off(shop, "b")
    assert rows and rows[0]["attempts"] >= 3, "b's push failed several times"
    # as the issue measured it: 10 attempts, the next try 4 minutes away
    shop.store.execute("UPDATE outbox SET attempts = 10, next_at = ? WHERE channel = 'b'",
                       (ts(utcnow() + timedelta(minutes=4)),))
    shop.runners["b"].poll()  # b is down for reads too (its poll retries, then gives up)
    assert shop.platform("a").stock("A") == 4
    shop.platform("b").faults.clear()  # b is back
    shop.poll_all()  # its first successful answer
    shop.drain_all()
    assert shop.platform("b").stock("A") == 4, "the waiting push went out on recovery, not after its back-off"
    assert not backed_off(shop, "b")


def test_after_a_push_only_outage_one_probe_then_the_rest(tmp_path):
    """Polls kept working while writes failed: one row probes; when it succeeds, all go."""
    shop = opened(tmp_path)
    b = shop.platform("b")
    catalog.change_stock(shop.store, shop.config, "A", "main", set_to=8)
    catalog.change_stock(shop.store, shop.config, "B", "main", set_to=8)
    outage(shop, "b", calls=1)  # the first write fails; polls are fine
    shop.runners["b"].drain()
    assert len(backed_off(shop, "b")) == 2 and all(r["attempts"] == 1 for r in backed_off(shop, "b"))
    shop.runners["b"].poll()  # the channel answers: one probe row is brought forward
    due = [r for r in backed_off(shop, "b") if parse_ts(r["next_at"]) <= utcnow()]
    assert len(due) == 1, "only a probe, not every row, while writes may still be failing"
    shop.runners["b"].drain()  # the probe succeeds, so the rest follow in the same drain
    assert (b.stock("A"), b.stock("B")) == (8, 8)
    assert not backed_off(shop, "b")


def test_a_restart_sends_rows_left_in_back_off(tmp_path):
    shop = opened(tmp_path)
    outage(shop, "b")
    catalog.change_stock(shop.store, shop.config, "B", "main", set_to=3)
    shop.drain_all()
    assert backed_off(shop, "b")
    shop.platform("b").faults.clear()
    shop.restart()
    shop.settle(rounds=1)
    assert shop.platform("b").stock("B") == 3 and not backed_off(shop, "b")
