"""resync's change list (what a dry run would change, SKU by SKU) and resuming an interrupted run."""

import pytest

from channelsync.engine import channels
from channelsync.sdk.errors import Rejected, Transient
from channelsync.store import Store
from channelsync.sync import reconcile
from channelsync.testing.harness import Shop

CSV = "product_code,sku_code,price,stock:main\n" + "".join(f"P,S{i:02d},10.00,{i}\n" for i in range(1, 31))


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {"a": {"settings": {"platform": "a", "token": "fake-token", "page_size": 10}}})
    for i in range(1, 31):
        shop.platform("a").seed(f"S{i:02d}", i, 1000)
    shop.import_csv(CSV)
    yield shop
    shop.close()


def test_dry_run_lists_each_change_and_changes_nothing(shop):
    shop.resync_all()
    shop.settle()
    shop.platform("a").set_stock_by_hand("S03", 99)   # someone edited the seller centre
    shop.platform("a").find("S05").price = 1234
    before = shop.store.query("SELECT * FROM listings ORDER BY sku_code")
    report = reconcile.resync(shop.lanes["a"], dry_run=True)
    assert report.changes == [
        {"sku": "S03", "channel": "a", "field": "stock", "from": 99, "to": 3},
        {"sku": "S05", "channel": "a", "field": "price", "from": "12.34", "to": "10.00"}]
    assert report.changes_total == 2
    assert shop.store.query("SELECT * FROM listings ORDER BY sku_code") == before
    assert shop.store.scalar("SELECT COUNT(*) FROM outbox") == 0


def test_the_change_list_is_capped_but_counted(shop):
    for i in range(1, 31):
        shop.platform("a").set_stock_by_hand(f"S{i:02d}", 100)
    report = reconcile.resync(shop.lanes["a"], dry_run=True, change_limit=5)
    assert len(report.changes) == 5 and report.changes_total == 30
    assert len(reconcile.resync(shop.lanes["a"], dry_run=True, change_limit=None).changes) == 30


def test_an_interrupted_resync_resumes_at_the_page_where_it_stopped(shop):
    lane = shop.lanes["a"]
    real = lane.adapter.list_listings
    tokens = []

    def failing_third_page(token):
        tokens.append(token)
        if token == "20":
            raise Rejected("gateway refused", code="isp.down")  # permanent: no inline retries to wait for
        return real(token)

    lane.adapter.list_listings = failing_third_page
    with pytest.raises(Rejected):
        reconcile.resync(lane)
    assert tokens == [None, "10", "20"]
    saved = channels.resync_cursor(shop.store, "a")
    assert saved["token"] == "20" and saved["report"]["seen"] == 20 and saved["report"]["new_links"] == 20
    from types import SimpleNamespace

    from channelsync.cli.status import status_text

    rows = channels.status_rows(shop.store, shop.config)
    shown = status_text(SimpleNamespace(config=shop.config, store=shop.store, reader=shop.store), rows, None, [],
                        details=True)
    assert "a: resync interrupted after 20 listings" in shown

    tokens.clear()
    lane.adapter.list_listings = lambda token: (tokens.append(token), real(token))[1]
    progress = []
    report = reconcile.resync(lane, progress=progress.append)
    assert tokens == ["20"]  # not page 1 again
    assert report.resumed and report.seen == 30 and report.new_links == 30 and report.linked == 30
    assert sum(progress) == 30
    assert channels.resync_cursor(shop.store, "a") is None  # finished: the next run starts at page 1
    tokens.clear()
    reconcile.resync(lane)
    assert tokens == [None, "10", "20"]


def test_a_cursor_survives_a_restart_and_a_refused_token_starts_over(shop, tmp_path):
    lane = shop.lanes["a"]
    real = lane.adapter.list_listings

    def dies(token):
        if token == "10":
            raise Rejected("boom", code="x")
        return real(token)

    lane.adapter.list_listings = dies
    with pytest.raises(Rejected):
        reconcile.resync(lane)
    shop.restart()  # as a restarted daemon would
    assert Store(shop.config.db_path).scalar("SELECT resync_cursor IS NOT NULL FROM channels") == 1
    lane = shop.lanes["a"]
    real = lane.adapter.list_listings
    tokens = []

    def stale_token(token):
        tokens.append(token)
        if token == "10" and tokens.count("10") == 1:
            raise Rejected("invalid page token", code="isv.invalid-parameter")
        return real(token)

    lane.adapter.list_listings = stale_token
    report = reconcile.resync(lane)
    assert tokens == ["10", None, "10", "20"] and report.seen == 30 and not report.resumed


def test_a_different_resync_does_not_take_over_anothers_cursor(shop):
    lane = shop.lanes["a"]
    real = lane.adapter.list_listings

    def flaky(token):
        if token == "10":
            raise Transient("timeout", maybe_applied=False)
        return real(token)

    lane.adapter.list_listings = flaky
    lane.call = lambda fn: fn()  # no inline retries: the run stops at the timeout
    with pytest.raises(Transient):
        reconcile.resync(lane, what=["stock"])
    lane.adapter.list_listings = real
    tokens = []
    lane.adapter.list_listings = lambda token: (tokens.append(token), real(token))[1]
    reconcile.resync(lane, what=["price"])  # other arguments: starts at page 1, leaves nothing behind
    assert tokens[0] is None
