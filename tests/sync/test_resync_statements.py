"""A resync's SQL, counted (behaviour, not timing): statements per listing stay a small
constant and the rest is per page. Before the page was recorded at once (issue 14) each
listing cost about eighteen statements: a 100,000-SKU resync ran 2 million of them.

SQLite's trace callback sees every statement run, each row of an ``executemany`` too,
so a per-listing SELECT added to the page loop shows here as one more per listing."""

from collections import Counter

import pytest

from channelsync.sim.fake import FakePlatform
from channelsync.sync import reconcile
from channelsync.testing.harness import Shop

#: per listing, each run: its listing row (insert or update), its read (begin_read), its stock
#: push queued or un-queued; then settling the read, and releasing the push that waited for it
PER_LISTING = 5
#: per page: the page's SKUs, listing rows, stock figures (4), bundles (2), listings to push,
#: unmatched ones linked, the resume cursor, BEGIN and COMMIT, and the two PRAGMAs around
#: them (the page's commit is not fsynced on its own: Store.relaxed)
PER_PAGE = 15


def resync_statements(tmp_path, name: str, skus: int, page: int) -> tuple[Counter, Counter]:
    """Statements of a first resync (every listing a new link) and of a second (all linked)."""
    FakePlatform(name)
    shop = Shop(tmp_path / name, {"a": {"settings": {"platform": name, "token": "fake-token", "page_size": page}}})
    for i in range(skus):
        shop.platform("a").seed(f"S{i:03d}", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\n" +
                    "".join(f"P{i // 4},S{i:03d},10.00,50\n" for i in range(skus)))
    runs = []
    for _ in range(2):
        seen: Counter = Counter()
        shop.store.conn.set_trace_callback(lambda sql: seen.update([" ".join(sql.split()[:3])]))
        try:
            report = reconcile.resync(shop.lanes["a"])
        finally:
            shop.store.conn.set_trace_callback(None)
        assert report.linked == skus and report.unmatched == 0
        # only the pages' own commits went without an fsync: the connection is back to FULL
        assert shop.store.scalar("PRAGMA synchronous") == 2
        runs.append(seen)
    shop.close()
    return runs[0], runs[1]


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("statements")
    # the same number of pages, twice the listings on each; then twice the pages
    return {(n, p): resync_statements(tmp, f"st-{n}-{p}", n, p) for n, p in ((40, 20), (80, 40), (80, 20))}


@pytest.mark.parametrize("run", [0, 1], ids=["first resync", "in step"])
def test_a_listing_costs_a_constant_few_statements(counted, run):
    small, large = (sum(counted[k][run].values()) for k in ((40, 20), (80, 40)))
    assert (large - small) / 40 <= PER_LISTING, (counted[(40, 20)][run], counted[(80, 40)][run])


@pytest.mark.parametrize("run", [0, 1], ids=["first resync", "in step"])
def test_a_page_costs_a_constant_few_statements_more(counted, run):
    two, four = (sum(counted[k][run].values()) for k in ((80, 40), (80, 20)))
    assert 0 < (four - two) / 2 <= PER_PAGE, (counted[(80, 40)][run], counted[(80, 20)][run])


def test_the_listing_rows_are_written_once_each_not_read_one_by_one(counted):
    first, again = counted[(80, 20)]
    # no SELECT per listing: the page's reads are a handful whatever the page holds
    assert sum(n for sql, n in first.items() if sql.startswith("SELECT")) < 80
    assert first["INSERT INTO listings"] == 80 and again["INSERT INTO listings"] == 0
    assert again["UPDATE listings SET"] == 3 * 80  # the row seen, its read begun, its read settled
