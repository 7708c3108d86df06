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

#: per listing: a first resync inserts its listing row with its read begun (one statement since
#: issue 14's last round: the read was an UPDATE after the INSERT), queues its stock push, and
#: settles the read; a resync in step updates the row, begins the read, queues or un-queues the
#: push and settles the read. Releasing the pushes that waited goes by 500 SKUs.
PER_LISTING = {0: 3, 1: 4}
#: per page, when each page is its own transaction (``GROUP_LISTINGS`` = 1, as over a network):
#: the page's SKUs, listing rows, stock figures (4), bundles (2), listings to push,
#: unmatched ones linked, the resume cursor, BEGIN and COMMIT, and the two PRAGMAs around
#: them (the page's commit is not fsynced on its own: Store.relaxed)
PER_PAGE = 15


def resync_statements(tmp_path, name: str, skus: int, page: int, group: int = 1) -> tuple[Counter, Counter]:
    """Statements of a first resync (every listing a new link) and of a second (all linked),
    with pages recorded in groups of at most ``group`` listings (1: a page a transaction)."""
    FakePlatform(name)
    shop = Shop(tmp_path / name, {"a": {"settings": {"platform": name, "token": "fake-token", "page_size": page}}})
    for i in range(skus):
        shop.platform("a").seed(f"S{i:03d}", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\n" +
                    "".join(f"P{i // 4},S{i:03d},10.00,50\n" for i in range(skus)))
    runs = []
    grouped = reconcile.GROUP_LISTINGS
    reconcile.GROUP_LISTINGS = group
    try:
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
    finally:
        reconcile.GROUP_LISTINGS = grouped
        shop.close()
    return runs[0], runs[1]


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("statements")
    # the same number of pages, twice the listings on each; then twice the pages
    counts = {(n, p): resync_statements(tmp, f"st-{n}-{p}", n, p) for n, p in ((40, 20), (80, 40), (80, 20))}
    counts["grouped"] = resync_statements(tmp, "st-grouped", 80, 20, group=reconcile.GROUP_LISTINGS)
    return counts


@pytest.mark.parametrize("run", [0, 1], ids=["first resync", "in step"])
def test_a_listing_costs_a_constant_few_statements(counted, run):
    small, large = (sum(counted[k][run].values()) for k in ((40, 20), (80, 40)))
    assert (large - small) / 40 <= PER_LISTING[run], (counted[(40, 20)][run], counted[(80, 40)][run])


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


@pytest.mark.parametrize("run", [0, 1], ids=["first resync", "in step"])
def test_pages_read_fast_are_recorded_in_one_transaction(counted, run):
    """Four pages of 20 from an in-process fake are one group: one transaction (and one
    resume cursor, one read of the SKUs...) instead of four; the listings' own statements
    are the same."""
    alone, grouped = counted[(80, 20)][run], counted["grouped"][run]
    assert alone["BEGIN IMMEDIATE"] - grouped["BEGIN IMMEDIATE"] == 3
    assert alone["SELECT s.code, s.status,"] == 4 and grouped["SELECT s.code, s.status,"] == 1
    for sql in ("INSERT INTO listings", "UPDATE listings SET", "INSERT INTO outbox"):
        assert alone[sql] == grouped[sql]


def test_a_group_ends_after_its_time_so_a_slow_platform_commits_each_page(tmp_path, monkeypatch):
    """Over a network a page read takes tens of ms: a group is then one page, as before
    groups (this channel's pushes wait for one page, not for several)."""
    monkeypatch.setattr(reconcile, "GROUP_SECONDS", 0.0)
    shop = Shop(tmp_path, {"a": {"settings": {"platform": "slow", "token": "fake-token", "page_size": 20}}})
    for i in range(80):
        shop.platform("a").seed(f"S{i:03d}", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\n" +
                    "".join(f"P{i // 4},S{i:03d},10.00,50\n" for i in range(80)))
    cursors = []
    shop.store.conn.set_trace_callback(lambda sql: cursors.append(sql) if "resync_cursor =" in sql else None)
    try:
        report = reconcile.resync(shop.lanes["a"])
    finally:
        shop.store.conn.set_trace_callback(None)
        shop.close()
    assert report.linked == 80
    assert len(cursors) == 4 + 1  # the cursor after each page, and cleared at the end
