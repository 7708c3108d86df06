"""Where a propagated order's time goes: ``python -m bench.propagation RATE LATENCY SECONDS --steps`` breaks each order's agent
overhead into its steps, from the list call that returned it to the stock call that carries it.

Installed by monkeypatching (the daemon's code is not touched): every event is
``(monotonic time, thread name, what, channel, detail)``. For each order and each
other channel, the steps are

* ``ingest``: list call returned -> the poll's ingest committed and woke the pushers
  (the sift, waiting for the lane's lock, the ingest transaction);
* ``react``: committed -> the target channel's pusher read the row as due (the
  pusher was asleep, or busy with a batch on the wire, or in another query);
* ``lock``: due -> the pusher holds its lane's lock (held by that channel's poll,
  sweep, drift read or resync page);
* ``prepare``: lock held -> the batch is prepared (its transaction, waiting for the write lock);
* ``send``: prepared -> the stock call starts (rate budget).

Only the slowest other channel counts (the overhead is the last channel told). Of the
slowest tenth it also says how many met a garbage collection longer than 10 ms
(``tail_in_gc``: every thread waits for one) and how many were committed while every push
thread of the channel had a batch on the wire (``tail_all_pushers_out``: waiting for another
call to come back).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import defaultdict

from bench.common import p99, pct

events: list[tuple[float, str, str, str, object]] = []
_installed = False


def note(what: str, channel: str, detail: object = None) -> None:
    events.append((time.monotonic(), threading.current_thread().name, what, channel, detail))


class TimedLock:
    """The lane's RLock, noting who waited for it how long and who held it."""

    def __init__(self, inner, channel: str) -> None:
        self.inner, self.channel = inner, channel
        self.depth = threading.local()

    def __enter__(self):
        asked = time.monotonic()
        self.inner.acquire()
        d = getattr(self.depth, "n", 0)
        self.depth.n = d + 1
        if d == 0:
            self.depth.got = time.monotonic()
            note("lock_wait", self.channel, (asked, self.depth.got))
        return self

    def __exit__(self, *exc):
        self.depth.n -= 1
        if self.depth.n == 0:
            note("lock_held", self.channel, (self.depth.got, time.monotonic()))
        self.inner.release()
        return False

    def acquire(self, *a, **k):
        return self.inner.acquire(*a, **k)

    def release(self):
        return self.inner.release()


def install() -> None:
    from bench import latent
    from channelsync.daemon import beside, run
    from channelsync.engine import outbox
    from channelsync.sync import runner

    global _installed
    events.clear()
    if _installed:
        return
    _installed = True
    gc.callbacks.append(_collection)
    real_open = run.open_lane

    def open_lane(config, name, *a, **k):
        lane = real_open(config, name, *a, **k)
        lane.serial = TimedLock(lane.serial, name)
        return lane
    run.open_lane = open_lane

    real_after = runner.ChannelRunner._after_ingest

    def after_ingest(self, result, stats):
        note("ingested", self.lane.name, {line.sku_code for o, _ in result.changed for line in o.lines})
        return real_after(self, result, stats)
    runner.ChannelRunner._after_ingest = after_ingest

    real_pause = beside.Pusher.pause

    def pause(self, lane):
        real_pause(self, lane)
        note("wake", lane.name)
    beside.Pusher.pause = pause

    real_due = outbox.due

    def due(store, channel, kind, limit, now=None):
        rows = real_due(store, channel, kind, limit, now)
        if kind == "stock" and rows:
            note("due", channel, {r["sku_code"] for r in rows})
        return rows
    outbox.due = due

    from channelsync.sync import push
    real_call = push._call

    def call(lane, kind, payloads):
        note("call", lane.name)
        return real_call(lane, kind, payloads)
    push._call = call

    real_set = latent.LatentChannel.set_stock

    def set_stock(self, updates):
        note("send", self.name, {u.sku_code for u in updates})
        try:
            return real_set(self, updates)
        finally:
            note("sent", self.name)
    latent.LatentChannel.set_stock = set_stock

    real_read = latent.LatentChannel.read_stock

    def read_stock(self, ids, items):
        note("read", self.name, len(ids))
        try:
            return real_read(self, ids, items)
        finally:
            note("read_done", self.name)
    latent.LatentChannel.read_stock = read_stock


def _collection(phase: str, info: dict) -> None:
    note("gc", "", (phase, info.get("generation")))


def _collections(by) -> list[tuple[float, float]]:
    """(start, end) of each collection, per thread (one runs at a time: they hold the GIL)."""
    spans, start = [], {}
    for t, thread, _, _, (phase, _gen) in by[("gc", "")]:
        if phase == "start":
            start[thread] = t
        elif thread in start:
            spans.append((start.pop(thread), t))
    return spans


def breakdown(placed, channels, found: dict) -> dict:
    """Steps of each propagated order's overhead (ms), and what the slowest tenth is made of."""
    by: dict[tuple[str, str], list] = defaultdict(list)
    for e in events:
        by[(e[2], e[3])].append(e)

    def first(what, channel, after, sku=None):
        for e in by[(what, channel)]:
            if e[0] >= after and (sku is None or sku in e[4]):
                return e
        return None

    rows = []
    for channel, sku, order_id, _ in placed:
        f = found.get((channel, order_id))
        if f is None:
            continue
        ing = first("ingested", channel, f, sku)
        if ing is None:
            continue
        worst = None
        for o in channels:
            if o == channel:
                continue
            d = first("due", o, ing[0] - 0.5, sku)
            s = first("send", o, ing[0] - 0.5, sku)
            if d is None or s is None:
                continue
            lk = first("lock_wait", o, d[0])
            lk = lk if lk is not None and lk[1] == d[1] and lk[4][1] <= s[0] else None
            got = lk[4][1] if lk else d[0]
            # what held the lock the pusher waited for
            holder = next((h[1] for h in by[("lock_held", o)] if h[4][0] <= d[0] < h[4][1] and h[1] != d[1]), "")
            c = first("call", o, got)
            c = c if c is not None and c[1] == d[1] and c[0] <= s[0] else None
            steps = {"total": s[0] - f, "ingest": ing[0] - f, "react": d[0] - ing[0], "lock": got - d[0],
                     "prepare": (c[0] if c else s[0]) - got, "send": s[0] - (c[0] if c else s[0]),
                     "holder": holder.split("-")[0], "onwire": _on_wire(by, o, ing[0]), "to": o,
                     "span": (f, s[0])}
            if worst is None or steps["total"] > worst["total"]:
                worst = steps
        if worst:
            rows.append(worst)
    if not rows:
        return {}
    keys = ("total", "ingest", "react", "lock", "prepare", "send")
    out = {f"{k}_p50_ms": round(pct([r[k] for r in rows], 50) * 1000) for k in keys}
    out.update({f"{k}_p99_ms": round(p99([r[k] for r in rows]) * 1000) for k in keys})
    cut = sorted(r["total"] for r in rows)[int(len(rows) * 0.9)]
    tail = [r for r in rows if r["total"] >= cut]
    out.update({f"tail_{k}_ms": round(sum(r[k] for r in tail) / len(tail) * 1000) for k in keys})
    holders = defaultdict(int)
    for r in tail:
        if r["lock"] > 0.005:
            holders[r["holder"]] += 1
    out["tail_n"] = len(tail)
    out["tail_lock_holders"] = dict(holders)
    out["tail_batch_on_wire"] = sum(1 for r in tail if r["onwire"])
    from channelsync.daemon.beside import PUSH_THREADS
    out["tail_all_pushers_out"] = sum(1 for r in tail if r["onwire"] >= PUSH_THREADS)
    long = [(a, b) for a, b in _collections(by) if b - a > 0.010]
    out["gc_max_ms"] = round(max((b - a for a, b in _collections(by)), default=0) * 1000)
    out["tail_in_gc"] = sum(1 for r in tail if any(a < r["span"][1] and b > r["span"][0] for a, b in long))
    return out


def _on_wire(by, channel: str, at: float) -> int:
    """How many stock calls of ``channel`` were on the wire when the rows were committed."""
    return sum(1 for start, end in _calls(by, channel) if start <= at < end)


def _calls(by, channel: str) -> list[tuple[float, float]]:
    """(start, end) of each stock call of ``channel``: a thread's "send" and its next "sent"."""
    key = ("calls", channel)
    if key not in by:
        open_, spans = {}, []
        for t, thread, what, _, _ in sorted(by[("send", channel)] + by[("sent", channel)]):
            if what == "send":
                open_[thread] = t
            elif thread in open_:
                spans.append((open_.pop(thread), t))
        spans.extend((t, float("inf")) for t in open_.values())
        by[key] = spans
    return by[key]
