"""Listings: content and shelf follow the master; publishing where the channel can; reconcile repairs drift."""

import pytest

from channelsync.sync import reconcile
from channelsync.testing.harness import Shop

BASE = "product_code,product_title,description,sku_code,price,status,stock:main\n"


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path, {"a": {}, "b": {"publish_new": True}})
    shop.platform("a").seed("X1", 0, 1000, title="old")
    shop.platform("b").seed("X1", 0, 1000, title="old")
    shop.platform("a").seed(None, 5, 100, title="a listing with no merchant code")
    shop.platform("a").seed("NOT-IN-MASTER", 5, 100)
    shop.import_csv(BASE + "P1,Tea,Fine tea,X1,10.00,active,5\n")
    shop.resync_all()
    shop.settle()
    yield shop
    shop.close()


def test_title_change_is_pushed_to_every_channel(shop):
    shop.import_csv("product_code,product_title,description,sku_code,sku_title,price,status\n"
                    "P1,Tea,Finest tea,X1,Tea 250g,10.00,active\n")
    shop.settle()
    assert shop.platform("a").find("X1").title == "Tea 250g"
    assert shop.platform("b").find("X1").description == "Finest tea"


def test_discontinued_goes_off_shelf_everywhere_and_to_zero(shop):
    shop.import_csv(BASE + "P1,Tea,Fine tea,X1,10.00,discontinued,\n")
    shop.settle()
    for name in ("a", "b"):
        assert shop.platform(name).find("X1").on_shelf is False
        assert shop.platform(name).stock("X1") == 0


def test_new_sku_is_published_where_the_channel_allows(shop):
    shop.import_csv(BASE + "P2,Cup,A cup,CUP-1,29.00,active,4\n")
    shop.settle()
    published = shop.platform("b").find("CUP-1")  # b: publish_new and the fake can publish
    assert published.title == "CUP-1" or published.title
    assert published.price == 2900 and published.quantity == 4
    assert shop.expected("b", "CUP-1") == 4
    with pytest.raises(KeyError):
        shop.platform("a").find("CUP-1")  # a: linking only; reported as not listed
    assert reconcile.resync(shop.lanes["a"]).not_listed == 1


def test_unmatched_listings_are_reported_never_guessed(shop):
    rows = shop.store.query("SELECT sku_code, reason FROM unmatched_listings WHERE channel = 'a' ORDER BY reason")
    assert [(r["sku_code"], r["reason"]) for r in rows] == [(None, "no merchant code"),
                                                             ("NOT-IN-MASTER", "unknown merchant code")]
    assert shop.store.scalar("SELECT COUNT(*) FROM listings WHERE channel = 'a'") == 1


def test_drift_from_a_seller_centre_edit_is_repaired(shop):
    shop.platform("a").set_stock_by_hand("X1", 50)  # somebody typed 50 in the seller centre
    report = reconcile.resync(shop.lanes["a"], what=["stock"])
    assert report.drift == 1 and report.drift_examples == [{"sku": "X1", "expected": 5, "seen": 50}]
    shop.settle()
    assert shop.platform("a").stock("X1") == 5


def test_dry_run_reports_and_changes_nothing(shop):
    shop.platform("a").set_stock_by_hand("X1", 50)
    before = shop.store.query("SELECT * FROM listings ORDER BY channel, sku_code")
    report = reconcile.resync(shop.lanes["a"], dry_run=True)
    assert report.drift == 1 and report.queued["stock"] == 1
    assert shop.store.query("SELECT * FROM listings ORDER BY channel, sku_code") == before
    assert shop.store.scalar("SELECT COUNT(*) FROM outbox") == 0


def test_price_rules_reach_the_channel(tmp_path):
    from decimal import Decimal

    from channelsync.config.settings import PriceRules

    shop = Shop(tmp_path, {"a": {"price": PriceRules(markup_percent=Decimal(10), round_ending=90)}})
    shop.platform("a").seed("X1", 0, 1000)
    shop.import_csv("product_code,sku_code,price,cost,stock:main\nP1,X1,10.00,4.00,5\n")
    shop.resync_all()
    shop.settle()
    assert shop.platform("a").find("X1").price == 1190  # 11.00 rounded up to end in .90
    shop.close()
