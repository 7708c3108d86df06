"""A push thread back from the wire lets the channel's waiting ingest take the lane's lock
before its settle: the settle is no sale's news, the ingest is every other channel's."""

import threading

from channelsync.sync.lane import Turns
from channelsync.sync.stopping import NEVER
from channelsync.testing import wait_for


def test_an_ingest_waiting_for_the_lock_goes_before_the_settle():
    serial, turns, order = threading.RLock(), Turns(), []
    serial.acquire()  # the push thread prepares its batch

    def ingest():
        with turns.ingest(serial):
            order.append("ingest")

    thread = threading.Thread(target=ingest)
    thread.start()
    wait_for(lambda: turns.waiting == 1, what="the ingest to wait for the lock")
    serial.release()  # the call goes out without the lock
    turns.let_ingests_first(NEVER, most=30)  # back from the wire
    with serial:
        order.append("settle")
    thread.join(30)
    assert order == ["ingest", "settle"]
    assert turns.waiting == 0


def test_nobody_waiting_costs_nothing_and_a_stop_ends_the_wait():
    turns, stop = Turns(), threading.Event()
    turns.let_ingests_first(stop, most=30)  # returns at once
    turns.waiting = 1  # a waiter that never gets the lock (the daemon is stopping)
    stop.set()
    turns.let_ingests_first(stop, most=30)
