"""A channel's extra push threads: they send what arrives while the others' batches are on the
wire, and stay asleep (no outbox queries) while the first is free to send it."""

import gc
import threading
from types import SimpleNamespace

from channelsync.daemon.beside import PUSH_THREADS, Bell, Pusher
from channelsync.sim.fake import FakeChannel
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop


def test_a_ring_while_a_thread_is_busy_is_not_lost():
    bell = Bell()
    seen = bell.wait_after(0, 0)  # nothing rang: returns the count as it is
    assert seen == 0
    bell.set()  # rings while nobody waits (the thread is in a round)
    assert bell.wait_after(seen, 60) == 1  # the next wait returns at once


def _spare(busy_before: list[bool]):
    """Push thread number ``len(busy_before)`` of a stub worker whose earlier threads are as given."""
    stop, ended = threading.Event(), threading.Event()
    worker = SimpleNamespace(wake=Bell(), ended=ended, owner=SimpleNamespace(stop=stop, tick=60.0), pushers=[])
    worker.pushers = [SimpleNamespace(busy=b) for b in busy_before]
    spare = Pusher.__new__(Pusher)  # only its pause is exercised: no lane, no thread
    spare.worker, spare.n, spare.busy, spare.seen = worker, len(busy_before), True, 0
    return spare, worker


def _pause_in_thread(spare):
    done = threading.Event()
    thread = threading.Thread(target=lambda: (spare.pause(None), done.set()), daemon=True)
    thread.start()
    wait_for(lambda: not spare.busy, what="the spare to go to sleep")
    return done, thread


def test_a_spare_sleeps_through_a_ring_the_first_thread_is_free_for():
    spare, worker = _spare([False])  # the first thread is waiting: it answers the ring
    done, thread = _pause_in_thread(spare)
    worker.wake.set()
    wait_for(lambda: spare.seen == 1, what="the spare to see the ring")
    assert not done.is_set() and not spare.busy  # went back to sleep without a round
    worker.pushers[0].busy = True  # the first is out with a batch now
    worker.wake.set()
    assert done.wait(30)  # this ring the spare answers
    assert spare.busy
    thread.join(30)


def test_a_spare_helps_when_every_thread_before_it_is_busy():
    spare, worker = _spare([True, True])
    done, thread = _pause_in_thread(spare)
    worker.wake.set()
    assert done.wait(30)
    thread.join(30)


def test_a_spare_wakes_when_the_daemon_stops():
    spare, worker = _spare([False])
    done, thread = _pause_in_thread(spare)
    worker.owner.stop.set()
    worker.wake.set()
    assert done.wait(30)
    thread.join(30)


def test_pushes_arriving_while_two_batches_are_on_the_wire_go_out_at_once(tmp_path, monkeypatch):
    """Three sales, each landing while the calls before it are still out (b answers only when
    let go): b has three stock calls on the wire at once, not one after the other."""
    assert PUSH_THREADS >= 3
    shop = Shop(tmp_path, {"a": {"poll_interval": 0.1}, "b": {"poll_interval": 0.1}})
    for name in ("a", "b"):
        for sku in ("A", "B", "C"):
            shop.platform(name).seed(sku, 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,10\nP,B,10.00,10\nP,C,10.00,10\n")
    release, lock = threading.Event(), threading.Lock()
    out: list[str] = []
    real = FakeChannel.set_stock

    def set_stock(self, updates):
        if self.name == "b" and armed.is_set():
            with lock:
                out.extend(u.sku_code for u in updates)
            release.wait(60)  # b holds every call until the test lets go
        return real(self, updates)

    armed = threading.Event()
    monkeypatch.setattr(FakeChannel, "set_stock", set_stock)
    try:
        with shop.running_daemon():
            try:
                wait_for(lambda: shop.platform("b").stock("C") == 10, timeout=30, what="first sync")
                armed.set()
                for n, sku in enumerate(("A", "B", "C"), start=1):
                    shop.platform("a").place_order([(sku, 1)])
                    wait_for(lambda n=n: len(out) >= n, timeout=30, what=f"b's call number {n} to go out")
                assert sorted(out) == ["A", "B", "C"]  # three calls out together, none waited for another
            finally:
                release.set()
    finally:
        shop.close()
    assert [shop.platform("b").stock(s) for s in ("A", "B", "C")] == [9, 9, 9]


def test_the_daemon_freezes_what_start_up_left_and_lets_it_go_when_it_stops(tmp_path):
    shop = Shop(tmp_path, {"a": {"poll_interval": 0.2}})
    try:
        with shop.running_daemon() as daemon:
            wait_for(daemon.started.is_set, timeout=30, what="the daemon to start")
            assert gc.get_freeze_count() > 0  # the collector no longer walks what start-up left
    finally:
        shop.close()
    assert gc.get_freeze_count() == 0
