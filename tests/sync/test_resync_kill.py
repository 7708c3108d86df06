"""kill -9 in the middle of a resync that records its pages in groups (one transaction a
group): what was committed is whole groups with their cursor, and the next run resumes
there, reading each listing once more at most and linking each exactly once."""

import signal
import subprocess
import sys
import textwrap

from channelsync.engine import channels
from channelsync.store import Store
from channelsync.sync import reconcile
from channelsync.testing.harness import Shop

SKUS = 1000  # 40 pages of 25: four groups of 250 listings when the fake answers fast

CHILD = textwrap.dedent("""
    import os, signal, sys
    from channelsync.telemetry import log
    log.configure("json", "error")
    from channelsync.engine import outbox
    from channelsync.sync import reconcile
    from channelsync.testing.harness import Shop

    shop = Shop(sys.argv[1], {"a": {}})
    for i in range(int(sys.argv[2])):
        shop.platform("a").seed(f"S{i:04d}", 0, 1000)
    queued, real = [], outbox.queue_many

    def dies(*args, **kwargs):  # inside the third group's transaction, after its listing rows
        queued.append(1)
        if len(queued) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    outbox.queue_many = dies
    reconcile.resync(shop.lanes["a"])
""")


def shop_for(tmp_path) -> Shop:
    shop = Shop(tmp_path, {"a": {}})
    for i in range(SKUS):
        shop.platform("a").seed(f"S{i:04d}", 0, 1000)
    return shop


def test_a_resync_killed_mid_group_resumes_after_the_last_whole_group(tmp_path):
    shop = shop_for(tmp_path)
    shop.import_csv("product_code,sku_code,price,stock:main\n" +
                    "".join(f"P{i // 4},S{i:04d},10.00,50\n" for i in range(SKUS)))
    shop.close()
    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(SKUS)], capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr

    store = Store(tmp_path / "shop.db")
    assert store.scalar("PRAGMA integrity_check") == "ok"
    saved = channels.resync_cursor(store, "a")
    linked = store.scalar("SELECT COUNT(*) FROM listings WHERE channel = 'a'")
    # whole groups only: the rows, their pushes and the cursor's counts agree
    assert 0 < linked < SKUS and saved["report"]["seen"] == linked == saved["report"]["new_links"]
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE channel = 'a' AND kind = 'stock'") == linked
    assert int(saved["token"]) == linked  # the fake's token is the row the next page starts at
    store.close()

    shop = shop_for(tmp_path)
    lane = shop.lanes["a"]
    real, tokens = lane.adapter.list_listings, []
    lane.adapter.list_listings = lambda token: (tokens.append(token), real(token))[1]
    report = reconcile.resync(lane)
    assert tokens[0] == saved["token"] and len(tokens) == (SKUS - linked) // 25
    assert report.resumed and report.seen == report.linked == report.new_links == SKUS
    assert shop.store.scalar("SELECT COUNT(*) FROM listings WHERE channel = 'a'") == SKUS
    assert shop.store.scalar("SELECT COUNT(*) FROM outbox WHERE channel = 'a' AND kind = 'stock'") == SKUS
    assert shop.store.scalar("SELECT COUNT(*) FROM listings WHERE read_qty IS NOT NULL") == 0  # all settled
    assert channels.resync_cursor(shop.store, "a") is None
    shop.close()
