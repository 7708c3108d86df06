"""The fake platform's compact SKU table behaves as the dict of SimSku it replaces."""

from datetime import datetime, timedelta, timezone

from channelsync.sim.fake import FakePlatform
from channelsync.sim.simulator import SimSku
from channelsync.sim.skutable import SkuTable

T0 = datetime(2026, 11, 11, 0, 0, 0, 123456, tzinfo=timezone.utc)


def sku(ext: str, code: str | None = None, **kw) -> SimSku:
    return SimSku(sku_code=code, external_id=ext, item_id=kw.pop("item_id", "9" + ext), quantity=kw.pop("quantity", 5),
                  price=kw.pop("price", 1990), modified_at=kw.pop("modified_at", T0), **kw)


def test_it_is_a_dict_of_skus_by_external_id_in_insertion_order():
    table, plain = SkuTable(), {}
    for ext, code in (("1001", "A"), ("1003", "B"), ("x-7", "C"), ("1002", None), ("0042", "E")):
        table[ext] = plain[ext] = sku(ext, code, title="" if code != "B" else "Bee", description="d" * (code == "C"))
    assert list(table) == list(plain) and len(table) == len(plain)
    for ext, s in plain.items():
        row = table[ext]
        assert (row.sku_code, row.external_id, row.item_id, row.quantity, row.price, row.title, row.description,
                row.on_shelf, row.modified_at) == (s.sku_code, s.external_id, s.item_id, s.quantity, s.price, s.title,
                                                   s.description, s.on_shelf, s.modified_at)
    assert "1004" not in table and table.get("nope") is None and "1001" in table


def test_a_view_writes_through_and_outlives_a_delete():
    table = SkuTable()
    table["1001"] = sku("1001", "A")
    table["1002"] = sku("1002", "B")
    view = table["1001"]
    view.quantity -= 2
    view.on_shelf = False
    view.title = "Tea"
    view.modified_at = T0 + timedelta(seconds=1)
    assert (table["1001"].quantity, table["1001"].on_shelf, table["1001"].title) == (3, False, "Tea")
    assert table["1001"].modified_at == T0 + timedelta(seconds=1)
    gone = table.pop("1001")
    assert "1001" not in table and list(table) == ["1002"] and gone.quantity == 3 and gone.sku_code == "A"
    table["1001"] = sku("1001", "A2", quantity=9)  # the same id again: a new row, at the end
    assert list(table) == ["1002", "1001"] and table["1001"].quantity == 9 and gone.quantity == 3
    table.clear()
    assert len(table) == 0 and list(table) == [] and gone.sku_code == "A"


def test_pages_skip_deleted_rows_and_keep_their_place():
    table = SkuTable()
    for n in range(1, 8):
        table[str(1000 + n)] = sku(str(1000 + n), f"S{n}")
    del table["1002"]
    first, after = table.page(0, 3)
    assert [r.sku_code for r in first] == ["S1", "S3", "S4"]
    del table["1005"]  # deleted between two pages: the next page starts where the last stopped
    second, after = table.page(after, 3)
    assert [r.sku_code for r in second] == ["S6", "S7"] and after is None
    assert table.by_code("S6") == second[0] and table.by_code("S2") is None


def test_the_fake_platform_seeds_finds_and_sells_through_its_table():
    p = FakePlatform("table-test")
    a = p.seed("A", 3, 1000)
    p.seed("B", 1, 500, title="Bee")
    assert isinstance(p.skus, SkuTable) and p.find("A") == a and p.find(a.external_id) == a
    p.place_order([("A", 2)])
    assert a.quantity == 1 == p.stock("A") and p.find("B").title == "Bee"


def test_a_listed_page_reads_what_the_rows_say():
    """The fake's listing pages, read straight off the columns: each SKU's fields as its row
    shows them (odd ids, a title of its own, off the shelf), deleted rows skipped."""
    table = SkuTable()
    for ext, code, kw in (("1001", "A", {}), ("x-7", "B", {"title": "Bee", "item_id": "it-1"}),
                          ("1003", None, {"on_shelf": False}), ("1004", "D", {}), ("1005", "E", {})):
        table[ext] = sku(ext, code, **kw)
    del table["1004"]
    rows, after = table.listed_page(0, 3)
    shown = [(r.external_id, r.sku_code, r.item_id, r.quantity, r.price, r.on_shelf, r.title)
             for r in (table[e] for e in ("1001", "x-7", "1003"))]
    assert rows == shown and shown[1][6] == "Bee" and shown[2][5] is False
    rest, end = table.listed_page(after, 3)
    assert [r[0] for r in rest] == ["1005"] and end is None
