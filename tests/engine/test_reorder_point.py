"""The catalog's reorder_point column: imported, exported, checked, and left alone when absent."""

import io

import pytest

from channelsync.config.settings import Config
from channelsync.engine import catalog, lowstock


@pytest.fixture
def config(tmp_path):
    return Config(path=None, db_path=tmp_path / "cs.db", reorder_point=2)


def test_import_export_and_absent_column(store, config):
    catalog.sync_warehouses(store, config)
    catalog.import_csv(store, config, io.StringIO("product_code,sku_code,price,reorder_point,stock:main\n"
                                                  "P,A,1.00,7,5\nP,B,1.00,,1\n"))
    assert [(r["sku"], r["reorder_point"], r["low"]) for r in lowstock.levels(store, config)] == [
        ("A", 7, True), ("B", 2, True)]  # B: no point of its own, the config's default
    exported = catalog.export_csv(store, config)
    assert "reorder_point" in exported.splitlines()[0] and ",7," in exported
    catalog.import_csv(store, config, io.StringIO("product_code,sku_code,price\nP,A,2.00\n"))
    assert store.scalar("SELECT reorder_point FROM skus WHERE code = 'A'") == 7  # no column: untouched


def test_a_bad_reorder_point_names_row_and_column(store, config):
    catalog.sync_warehouses(store, config)
    with pytest.raises(catalog.CatalogImportError, match="row 2, column reorder_point: '-1'"):
        catalog.import_csv(store, config, io.StringIO("product_code,sku_code,price,reorder_point\nP,A,1.00,-1\n"))


def test_no_point_anywhere_means_never_low(store, tmp_path):
    config = Config(path=None, db_path=tmp_path / "cs.db")
    catalog.sync_warehouses(store, config)
    catalog.import_csv(store, config, io.StringIO("product_code,sku_code,price,stock:main\nP,A,1.00,0\n"))
    assert lowstock.levels(store, config) == [] and lowstock.check(store, config) == []
