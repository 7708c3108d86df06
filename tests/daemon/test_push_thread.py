"""A channel's pushes never wait behind a poll, its own or another channel's."""

import threading

from channelsync.sim.fake import FakeChannel
from channelsync.testing import wait_for
from channelsync.testing.harness import Shop


def test_a_sale_reaches_a_channel_whose_own_order_poll_is_stuck(tmp_path, monkeypatch):
    shop = Shop(tmp_path, {"a": {"poll_interval": 0.1}, "b": {"poll_interval": 0.1}})
    for name in ("a", "b"):
        shop.platform(name).seed("A", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,10\n")
    gate, stuck = threading.Event(), threading.Event()
    real = FakeChannel.fetch_orders

    def fetch_orders(self, since, until, token):
        if self.name == "b" and armed.is_set():
            stuck.set()
            gate.wait(60)  # b's order API hangs (a slow platform, a long overlap)
        return real(self, since, until, token)

    armed = threading.Event()
    monkeypatch.setattr(FakeChannel, "fetch_orders", fetch_orders)
    try:
        with shop.running_daemon() as daemon:
            try:
                wait_for(lambda: shop.platform("b").stock("A") == 10, timeout=30, what="first sync")
                armed.set()
                wait_for(stuck.is_set, timeout=30, what="b's poll to hang")
                shop.platform("a").place_order([("A", 3)])
                # b's worker is inside its poll; b's pusher still tells b of a's sale
                wait_for(lambda: shop.platform("b").stock("A") == 7, timeout=30, what="a's sale pushed to b")
                assert not gate.is_set() and stuck.is_set()
                health = daemon.health()
                assert health["channels"]["b"]["worker_alive"]
            finally:
                gate.set()
    finally:
        shop.close()
