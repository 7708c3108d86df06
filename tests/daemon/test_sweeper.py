"""The sweeper beside a channel's worker sleeps between re-reads of the order overlap; a run
that ends (a crash about to be restarted, or a stop) wakes it at once, since the worker
joins it before the channel runs again."""

import threading
from types import SimpleNamespace

from channelsync.daemon.beside import Sweeper


def test_a_sweeper_asleep_between_sweeps_wakes_when_its_run_ends():
    owner = SimpleNamespace(stop=threading.Event(), run_id="t")
    worker = SimpleNamespace(owner=owner, ended=threading.Event(), channel_name="x")
    lane = SimpleNamespace(cfg=SimpleNamespace(poll_interval=2.0, order_overlap=300.0))  # 15 s between sweeps
    sweeper = Sweeper(worker, lane)
    pausing = threading.Thread(target=sweeper.pause, args=(lane,))
    pausing.start()
    worker.ended.set()  # the run crashed: its worker joins the sweeper before restarting
    pausing.join(5)
    assert not pausing.is_alive(), "the restart waited out the sweeper's 15 s sleep"
