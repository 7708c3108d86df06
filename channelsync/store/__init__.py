"""The SQLite store: one connection per thread, explicit write transactions, migrations.

``Store`` is the connection; ``ts``/``parse_ts``/``utcnow`` are the one way times
are stored (UTC ISO-8601, so text order is time order).
"""

from channelsync.store.db import Store, StoreBusy, StoreError
from channelsync.store.times import parse_ts, ts, utcnow

__all__ = ["Store", "StoreBusy", "StoreError", "ts", "parse_ts", "utcnow"]
