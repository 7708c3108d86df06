"""A stock batch's SQL, counted (behaviour, not timing): the reads behind its rows' targets
are made once for the batch, and a round whose outcome the channel's health row already
shows writes nothing more than its prepare and its settle.

Each write transaction of a push waits in one queue with every other channel's: after a sale
the last channel told waited behind the others' batches, so what each costs is the overhead."""

from collections import Counter

from channelsync.testing.harness import Shop


def _shop(tmp_path, skus: int) -> Shop:
    shop = Shop(tmp_path, {"a": {}, "b": {}})
    for name in ("a", "b"):
        for i in range(skus):
            shop.platform(name).seed(f"S{i:02d}", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\n" +
                    "".join(f"P{i},S{i:02d},10.00,50\n" for i in range(skus)))
    shop.resync_all()
    shop.settle()
    return shop


def _round(shop: Shop, skus: int) -> Counter:
    """Statements of b's push round for one sale of each of ``skus`` SKUs on a."""
    before = [shop.platform("b").stock(f"S{i:02d}") for i in range(skus)]
    for i in range(skus):
        shop.platform("a").place_order([(f"S{i:02d}", 1)])
    shop.runners["a"].cycle(push=False)
    seen: Counter = Counter()
    store = shop.lanes["b"].store
    store.conn.set_trace_callback(lambda sql: seen.update([" ".join(sql.split()[:2]).upper()]))
    try:
        stats = shop.runners["b"].push_round()
    finally:
        store.conn.set_trace_callback(None)
    assert stats.ok == skus
    assert [shop.platform("b").stock(f"S{i:02d}") for i in range(skus)] == [n - 1 for n in before]
    return seen


def test_a_batch_reads_stock_once_and_writes_twice(tmp_path):
    shop = _shop(tmp_path, 12)
    small, large = _round(shop, 4), _round(shop, 12)  # same batch (size 20), three times the rows
    # the health row already says "ok": only the batch's prepare and settle are transactions
    assert small["BEGIN IMMEDIATE"] == large["BEGIN IMMEDIATE"] == 2
    # per row: its due row, listing, in-flight mark, its settle (listing, row cleared, deleted);
    # the stock behind the targets is read per batch (four queries), not per row (eight more)
    per_row = (sum(large.values()) - sum(small.values())) / 8
    assert per_row <= 7, (small, large)
    shop.close()


def test_a_round_records_the_push_health_when_it_changes(tmp_path):
    shop = _shop(tmp_path, 2)
    with shop.store.write():
        shop.store.execute("UPDATE channels SET push_health = 'degraded', push_error = 'x' WHERE name = 'b'")
    seen = _round(shop, 2)
    assert seen["BEGIN IMMEDIATE"] == 3  # prepare, settle, and the health row back to ok
    assert shop.store.one("SELECT push_health, push_error FROM channels WHERE name = 'b'") == \
        {"push_health": "ok", "push_error": None}
    shop.close()
