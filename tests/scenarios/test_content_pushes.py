"""Listing content: item-level fields come from the product, once per item; a SKU's
title reaches only SKU-level fields; every SKU's listings see a product change; the
import report counts every push it queued, by kind."""

from __future__ import annotations

import httpx
import pytest
from channelsync_taobao import api as taobao_api

from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.testing.harness import Shop

HEAD = "product_code,product_title,description,sku_code,sku_title,price,status,stock:main\n"
ROWS = ("P,Green tea,Fine tea,T-S,Tea 100g,10.00,active,5\n"
        "P,Green tea,Fine tea,T-L,Tea 250g,20.00,active,5\n")


@pytest.fixture
def shop(tmp_path):
    sim = channel_types(make_manager())["taobao"].simulator()
    shop = Shop(tmp_path, {
        "tb": {"plugin": "taobao", "settings": sim.credentials("http://sim.invalid"),
               "transport": httpx.WSGITransport(app=sim), "rate_per_second": 1000.0, "burst": 1000},
        "fake": {}})
    small = sim.seed("T-S", 0, 1000, title="Green tea")
    sim.seed("T-L", 0, 2000, title="Green tea", item_id=small.item_id)  # two SKUs of one Taobao item
    for code in ("T-S", "T-L"):
        shop.platform("fake").seed(code, 0, 1000, title=code)
    shop.import_csv(HEAD + ROWS)
    shop.resync_all()
    shop.settle()
    shop.sim = sim
    yield shop
    shop.close()


def item_title(shop) -> str:
    return shop.sim.find("T-S").title  # the simulator keeps the item's title on its SKUs


def test_a_sku_title_never_renames_the_item(shop):
    report = shop.import_csv(HEAD + ROWS.replace("Tea 250g", "Tea 250g tin"))
    assert report.queued == {"listing": 2}  # T-L on both channels
    shop.settle()
    assert item_title(shop) == "Green tea", "the Taobao item took a SKU's title"
    assert shop.platform("fake").find("T-L").title == "Tea 250g tin"  # a SKU-level title is the SKU's
    assert shop.platform("fake").find("T-S").title == "T-S"  # untouched: its SKU did not change


def test_a_product_change_reaches_every_skus_listings_and_each_item_once(shop):
    updates = shop.sim.calls.count(taobao_api.ITEM_UPDATE)
    report = shop.import_csv(HEAD + ROWS.replace("Fine tea", "Finest tea").replace("Green tea", "Jade tea"))
    assert report.queued == {"listing": 4}
    shop.settle()
    assert item_title(shop) == "Jade tea"
    assert shop.sim.calls.count(taobao_api.ITEM_UPDATE) == updates + 1, "one item, one update"
    fake = shop.platform("fake")
    assert [fake.find(c).description for c in ("T-S", "T-L")] == ["Finest tea", "Finest tea"]


def test_a_product_change_reaches_skus_the_file_does_not_name(shop):
    # a file with only the first SKU still changes the product every SKU belongs to
    report = shop.import_csv(HEAD + ROWS.splitlines()[0].replace("Fine tea", "Finest tea") + "\n")
    assert report.queued == {"listing": 4}
    shop.settle()
    assert shop.platform("fake").find("T-L").description == "Finest tea"


def test_the_import_report_counts_every_push_by_kind(shop):
    report = shop.import_csv(HEAD + "P,Jade tea,Fine tea,T-S,Tea 100g,12.00,active,7\n"
                                    "P,Jade tea,Fine tea,T-L,Tea 250g,20.00,discontinued,5\n")
    # price: T-S on both; shelf: T-L on both; listing: both SKUs on both; stock: T-S and T-L on both
    assert report.queued == {"price": 2, "shelf": 2, "listing": 4, "stock": 4}
    assert report.pushes_queued == 12
