"""Listings: the one writer of what each channel shows, and of what we believe it shows.

A listing maps (channel, SKU) to the platform's ids and keeps three facts:

* ``expected`` — what the platform should show now. It is the heart of the
  oversell rule (see the design's "Telling a channel its quantity"): it moves
  only here — set by a push that succeeded, moved by the channel's own orders as
  they are ingested (the platform's own arithmetic: sales off, put-backs on, never
  below 0), and moved by the difference a read of the platform found (drift).
* ``pushed_*`` — what we last told the platform.
* ``seen_*`` / ``read_*`` — what the platform last showed us. A read is *pending*
  until the order poll covers it: only then are the sales it already reflects
  known, so only then can the rest be called drift (``settle_reads``).

Each stock mode's policy (``Policy``, ``absolute_value``) is in ``stock_policy``.
Every other module reads the table; none writes it. Listings that link to no master SKU
are kept here too, in ``unmatched_listings``, and drift found in ``drift``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from channelsync.sdk.models import Listing
from channelsync.store import Store, ts, utcnow
from channelsync.store.sqlin import marks

# what a listing should say lives in ``listing_content``; its callers know it here
from channelsync.engine.listing_content import content, same_item, shelf_rule, wanted_on_shelf  # noqa: E402,F401


def get(store: Store, channel: str, sku_code: str) -> dict | None:
    """The listing row of ``sku_code`` on ``channel``, or None when it is not listed there."""
    return store.one("SELECT * FROM listings WHERE channel = ? AND sku_code = ?", (channel, sku_code))


def expected(store: Store, channel: str, sku_code: str) -> int | None:
    """What the platform should be showing now (None: unknown, or not listed)."""
    return store.scalar("SELECT expected FROM listings WHERE channel = ? AND sku_code = ?", (channel, sku_code))


# --- the channel's own orders ------------------------------------------------
#: how far a platform's order times may be from our read times (whole seconds, clock skew)
CLOCK_MARGIN = timedelta(seconds=2)


def lower_expected(store: Store, channel: str, sku_code: str, units: int, blind: bool = False,
                   at: datetime | None = None) -> None:
    """The platform took ``units`` off by itself (a sale; negative: it put them back) at ``at``.

    A platform shows no less than 0: a decrement that raced a sale was floored there,
    so ``expected`` is floored too (``orders`` applies an ingest's changes in the
    platform's time order, so the floor falls where the platform's did). A pending read
    is moved too when the change happened before it (a sale created by the end of the
    read, a put-back before its start): that read already shows it. A blind (absolute,
    no reads) listing becomes unknown and is set again.
    """
    lower_expected_many(store, channel, [(at or utcnow(), sku_code, units)], blind)


def lower_expected_many(store: Store, channel: str, taken: list[tuple[datetime, str, int]],
                        blind: bool = False) -> None:
    """``lower_expected`` for each ``(at, SKU, units)`` in turn, in one statement (an ingest
    page has hundreds): SQLite runs them one after another, so each floor falls as before."""
    if blind:
        store.conn.executemany("UPDATE listings SET expected = NULL WHERE channel = ? AND sku_code = ?",
                               [(channel, sku) for _, sku, _ in taken])
        return
    # platforms keep whole seconds and their clocks are not ours: a sale this close to the
    # read counts as shown by it, a put-back as not (both err towards showing less), and the
    # read is doubtful: when it settles another is asked for (``settle_reads``)
    store.conn.executemany(
        "UPDATE listings SET expected = MAX(0, expected - ?), read_expected = CASE WHEN read_qty IS NOT NULL AND "
        "((? > 0 AND ? <= read_to) OR (? < 0 AND ? <= read_from)) THEN MAX(0, read_expected - ?) "
        "ELSE read_expected END, read_doubt = read_doubt OR (read_qty IS NOT NULL AND ? <= read_to AND ? > read_from) "
        "WHERE channel = ? AND sku_code = ? AND expected IS NOT NULL",
        [(units, units, early, units, late, units, early, late, channel, sku)
         for at, sku, units in taken for early, late in ((ts(at - CLOCK_MARGIN), ts(at + CLOCK_MARGIN)),)])


# --- pushes ------------------------------------------------------------------
def stock_pushed(store: Store, channel: str, sku_code: str, *, absolute: bool, quantity: int, delta: int,
                 at: datetime, sent: int | None = None) -> int | None:
    """A stock push was accepted: the platform now shows ``quantity`` (absolute set or
    compare-and-set) or what it showed plus ``delta`` (increment). Returns the new
    ``expected`` (None: not listed), so the caller need not read the listing again.

    ``sent`` is what an absolute set really sent when it kept unseen sales off: their
    orders will lower ``expected`` when ingested, so ``expected`` is the target. A set
    replaces what a pending read was measured against, so that read is dropped.
    """
    rows = store.execute(
        "UPDATE listings SET expected = CASE WHEN ? OR expected IS NULL THEN ? ELSE expected + ? END, "
        "pushed_qty = ?, pushed_at = ?, "
        "read_qty = CASE WHEN ? THEN NULL ELSE read_qty END, read_expected = CASE WHEN ? THEN NULL ELSE read_expected END, "
        "read_doubt = read_doubt AND NOT ? "
        "WHERE channel = ? AND sku_code = ? RETURNING expected",
        (absolute, quantity, delta, quantity if sent is None else sent, ts(at), absolute, absolute, absolute, channel,
         sku_code)).fetchall()
    return rows[0][0] if rows else None


def want_check(store: Store, channel: str, sku_code: str, hold: bool, at: datetime | None = None) -> None:
    """Ask for a read of the listing at the next check. With ``hold`` its stock pushes wait
    until the read is settled (a call that may have applied, a refused subtract, a
    conflict: sending before knowing could apply a change twice); without, the read
    verifies what was just set (an absolute set may have erased a sale in its gap)."""
    store.execute("UPDATE listings SET check_wanted_at = COALESCE(check_wanted_at, ?), "
                  "check_holds = MAX(check_holds, ?) WHERE channel = ? AND sku_code = ?",
                  (ts(at or utcnow()), int(hold), channel, sku_code))
    if hold:  # a read taken before the doubtful call cannot tell whether it applied
        store.execute("UPDATE listings SET read_qty = NULL, read_expected = NULL, read_from = NULL, read_to = NULL, "
                      "read_doubt = 0 WHERE channel = ? AND sku_code = ?", (channel, sku_code))


def held(listing: dict) -> bool:
    """Stock pushes wait: a read was asked for with ``hold`` and is not settled yet."""
    return listing.get("check_wanted_at") is not None and bool(listing.get("check_holds"))


def wanted(store: Store, channel: str) -> int:
    """Listings of the channel a read was asked for and not taken yet (held or not)."""
    return store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ? AND check_wanted_at IS NOT NULL AND "
                        "read_qty IS NULL", (channel,))


def waiting(store: Store, channel: str) -> int:
    """Listings of the channel whose stock pushes wait for a read not taken yet."""
    return store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ? AND check_wanted_at IS NOT NULL AND "
                        "check_holds = 1 AND read_qty IS NULL", (channel,))


def pending_reads(store: Store, channel: str) -> int:
    """Reads of the channel the order poll has not covered yet."""
    return store.scalar("SELECT COUNT(*) FROM listings WHERE channel = ? AND read_qty IS NOT NULL", (channel,))


# --- reads of the platform's quantity ------------------------------------------
_IN_FLIGHT = ("SELECT 1 FROM outbox o WHERE o.channel = ? AND o.sku_code = ? AND o.kind = 'stock' "
              "AND o.inflight_key IS NOT NULL")


def begin_read(store: Store, channel: str, sku_code: str, quantity: int, read_from: datetime,
               read_to: datetime) -> None:
    """The platform showed ``quantity`` during [read_from, read_to]: kept until the order
    poll covers ``read_to``. An unknown ``expected`` starts from the read itself."""
    # a stock call in flight may or may not show in the read, and not yet in ``expected``:
    # such a read cannot be judged, so it is not kept (the call settles first)
    store.execute(_BEGIN_READ, _read_params(channel, sku_code, quantity, ts(read_from), ts(read_to)))


_BEGIN_READ = ("UPDATE listings SET expected = COALESCE(expected, ?), read_qty = ?, read_expected = "
               "COALESCE(expected, ?), read_from = ?, read_to = ?, read_doubt = 0, seen_qty = ?, seen_at = ? "
               "WHERE channel = ? AND "
               f"sku_code = ? AND NOT EXISTS ({_IN_FLIGHT})")


def _read_params(channel: str, sku_code: str, quantity: int, read_from: str, read_to: str) -> tuple:
    return quantity, quantity, quantity, read_from, read_to, quantity, read_to, channel, sku_code, channel, sku_code


def read_missed(store: Store, channel: str, sku_code: str) -> None:
    """The platform did not return the listing: stop waiting for a read (resync relinks it)."""
    store.execute("UPDATE listings SET check_wanted_at = NULL, check_holds = 0 WHERE channel = ? AND sku_code = ?",
                  (channel, sku_code))


@dataclass(frozen=True)
class Drift:
    sku_code: str
    seen: int
    expected: int | None


def settle_reads(store: Store, channel: str, covered: datetime | None, source: str = "check",
                 now: datetime | None = None, limit: int = 500,
                 after: str = "") -> tuple[list[str], list[Drift]]:
    """Settle the pending reads the order poll now covers (``read_to <= covered``).

    The read showed ``read_qty`` where, by every order it reflects, the platform should
    have shown ``read_expected``; any difference is drift, and ``expected`` moves by it
    (changes after the read moved both sides alike). Settles at most ``limit`` reads with
    codes after ``after`` (call again from the last code settled until none is left);
    returns the SKUs settled, in code order, and the drift.
    """
    if covered is None:
        return [], []
    now_s = ts(now or utcnow())
    # in code order from ``after`` (the last code of the batch before): each batch reads on from
    # where the last stopped, not past every row settled already (quadratic over a resync)
    rows = store.execute("SELECT sku_code, read_qty, read_expected FROM listings WHERE channel = ? AND sku_code > ? "
                         "AND read_qty IS NOT NULL AND read_to <= ? ORDER BY sku_code LIMIT ?",
                         (channel, after, ts(covered), limit)).fetchall()
    drift, moves = [], []
    for code, qty, was in rows:
        diff = qty - (was if was is not None else qty)
        if diff:
            drift.append(Drift(code, qty, was))
        moves.append((diff, now_s, now_s, channel, code))
    # one statement each for the batch (a resync settles 100,000 reads), not two per read
    store.conn.executemany("INSERT INTO drift (channel, sku_code, seen, expected, found_at, source) "
                           "VALUES (?,?,?,?,?,?)", [(channel, d.sku_code, d.seen, d.expected, now_s, source)
                                                    for d in drift])
    # a doubtful read (an order within the clock margin of it) asks for another at once: the
    # orders it was judged against are all in ``expected`` by then, so the next read is plain
    store.conn.executemany(
        "UPDATE listings SET expected = MAX(0, COALESCE(expected, read_qty) + ?), read_qty = NULL, "
        "read_expected = NULL, read_from = NULL, read_to = NULL, check_holds = 0, "
        "check_wanted_at = CASE WHEN read_doubt THEN ? END, read_doubt = 0, checked_at = ? "
        "WHERE channel = ? AND sku_code = ?", moves)
    return [r[0] for r in rows], drift


def reads_due(store: Store, channel: str, covered: datetime) -> bool:
    """Whether any pending read is covered by the order poll (``settle_reads`` has work)."""
    return store.scalar("SELECT 1 FROM listings WHERE channel = ? AND read_qty IS NOT NULL AND read_to <= ? "
                        "LIMIT 1", (channel, ts(covered))) is not None


def to_check(store: Store, channel: str, *, since: datetime | None, limit: int) -> list[dict]:
    """Listings worth reading now, most urgent first: those a read was asked for; with
    ``since``, those pushed or sold since then, then the longest unchecked."""
    idle = ("NOT EXISTS (SELECT 1 FROM outbox o WHERE o.channel = l.channel AND o.sku_code = l.sku_code AND "
            "o.kind = 'stock' AND o.inflight_key IS NOT NULL)")  # see begin_read
    wanted = store.query(f"SELECT * FROM listings l WHERE channel = ? AND check_wanted_at IS NOT NULL AND "
                         f"read_qty IS NULL AND {idle} ORDER BY check_wanted_at LIMIT ?", (channel, limit))
    if since is None or len(wanted) >= limit:
        return wanted
    s = ts(since)
    rest = store.query(
        # sold since: the SKUs of the channel's orders updated since then (index orders_updated),
        # read once, not every line ever sold of each listing's SKU
        "SELECT l.*, (l.pushed_at >= ? OR l.sku_code IN (SELECT ol.sku_code FROM orders o JOIN order_lines ol "
        "ON ol.order_id = o.id WHERE o.channel = ? AND o.updated_at >= ? AND ol.sku_code IS NOT NULL)) AS recent "
        f"FROM listings l WHERE l.channel = ? AND l.check_wanted_at IS NULL AND l.read_qty IS NULL AND {idle} "
        "ORDER BY recent DESC, COALESCE(l.checked_at, l.seen_at, '') LIMIT ?",
        (s, channel, s, channel, limit - len(wanted)))
    return wanted + rest


def drift_summary(store: Store, channel: str, limit: int = 5) -> dict:
    """Drift found on the channel: how many, and the latest (SKU, seen, expected)."""
    count = store.scalar("SELECT COUNT(*) FROM drift WHERE channel = ?", (channel,))
    latest = store.query("SELECT sku_code AS sku, seen, expected, found_at, source FROM drift WHERE channel = ? "
                         "ORDER BY id DESC LIMIT ?", (channel, limit))
    return {"count": count, "latest": latest}


def price_pushed(store: Store, channel: str, sku_code: str, price: int) -> None:
    """A price push was accepted: the platform now shows ``price``."""
    store.execute("UPDATE listings SET pushed_price = ?, seen_price = ? WHERE channel = ? AND sku_code = ?",
                  (price, price, channel, sku_code))


def shelf_pushed(store: Store, channel: str, sku_code: str, on_shelf: bool) -> None:
    """A shelf push was accepted: the listing is now on (or off) the shelf."""
    store.execute("UPDATE listings SET seen_on_shelf = ? WHERE channel = ? AND sku_code = ?",
                  (int(on_shelf), channel, sku_code))


def link_published(store: Store, channel: str, sku_code: str, published: list[Listing]) -> None:
    """Listings the platform created from master data: linked as it reports them."""
    now = ts(utcnow())
    for ls in published:
        store.execute(
            "INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, "
            "seen_on_shelf, linked_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (channel, sku_code) DO NOTHING",
            (channel, ls.sku_code or sku_code, ls.external_id, ls.item_id, ls.quantity, ls.quantity, ls.price,
             int(ls.on_shelf), now))


# --- what reconciliation reads on the platform --------------------------------
@dataclass(frozen=True)
class Seen:
    """The outcome of recording one listing as the platform shows it."""

    new_link: bool
    #: (expected before, quantity seen) when they differed and stock is being reconciled
    drift: tuple[int | None, int] | None = None


_NEW, _SAME = Seen(new_link=True), Seen(new_link=False)


def record_seen(store: Store, channel: str, sku_code: str, listing: Listing, *, reset_expected: bool,
                read_from: datetime | None = None) -> Seen:
    """Link ``listing`` to ``sku_code`` (the platform's word on ids wins) and record what it
    shows. With ``reset_expected`` its quantity is a read (``begin_read``, started at
    ``read_from``): settled once the order poll covers it, so sales not ingested yet are
    not taken for drift. ``Seen.drift`` is the naive difference, for a dry run's report."""
    now = utcnow()
    row = get(store, channel, sku_code)
    if row is None:
        # a stale row may hold this external id under another code
        store.execute("DELETE FROM listings WHERE channel = ? AND external_id = ?", (channel, listing.external_id))
        store.execute(
            "INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, "
            "seen_on_shelf, seen_title, seen_at, linked_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (channel, sku_code, listing.external_id, listing.item_id, listing.quantity, listing.quantity,
             listing.price, int(listing.on_shelf), listing.title, ts(now), ts(now)))
    else:
        store.execute(
            "UPDATE listings SET external_id = ?, item_id = ?, seen_qty = ?, seen_price = ?, "
            "seen_on_shelf = ?, seen_title = ?, seen_at = ? WHERE channel = ? AND sku_code = ?",
            (listing.external_id, listing.item_id, listing.quantity, listing.price, int(listing.on_shelf),
             listing.title, ts(now), channel, sku_code))
    if reset_expected and listing.quantity is not None:
        begin_read(store, channel, sku_code, listing.quantity, read_from or now, now)
    drift = None
    if row is not None and reset_expected and listing.quantity is not None and row["expected"] != listing.quantity:
        drift = (row["expected"], listing.quantity)
    return Seen(new_link=row is None, drift=drift)


def record_page(store: Store, channel: str, linked: list[Listing], *, reset_expected: bool,
                read_from: Sequence[datetime]) -> list[Seen]:
    """``record_seen`` for a page's listings, each linked to its own ``sku_code`` (each code and
    external id once), in three statements rather than three per listing (``read_from``: when
    each listing's read began). When one of the external ids is held by
    another code's row (a listing moved between codes), the order of the writes decides the
    outcome: then listing by listing, as ``record_seen``."""
    if not linked:
        return []
    starts = list(read_from)
    codes, exts = [ls.sku_code for ls in linked], [ls.external_id for ls in linked]
    ins = marks(linked)
    # two lookups, each on its own index (an OR of the two IN-lists scanned the table)
    rows = store.query(f"SELECT sku_code, external_id, expected FROM listings WHERE channel = ? AND sku_code IN "
                       f"({ins}) UNION SELECT sku_code, external_id, expected FROM listings WHERE channel = ? AND "
                       f"external_id IN ({ins})", (channel, *codes, channel, *exts))
    owner = dict(zip(exts, codes))
    if any(owner.get(r["external_id"], r["sku_code"]) != r["sku_code"] for r in rows):
        return [record_seen(store, channel, ls.sku_code, ls, reset_expected=reset_expected, read_from=began)
                for ls, began in zip(linked, starts)]
    now = ts(utcnow())
    stamps = {None: now}  # a page's listings share a handful of read times: each written once
    for began in starts:
        if began not in stamps:
            stamps[began] = ts(began)
    had = {r["sku_code"]: r["expected"] for r in rows}
    # a new link's read begins in its INSERT (as ``begin_read`` after it would: the row is the
    # read, unless a stock call is in flight), one statement a listing instead of two
    fresh = [(channel, ls.sku_code, ls.external_id, ls.item_id, ls.quantity, ls.price, int(ls.on_shelf), ls.title,
              now, stamps[began]) for ls, began in zip(linked, starts) if ls.sku_code not in had]
    store.conn.executemany(_INSERT_READ if reset_expected else _INSERT,
                           fresh if reset_expected else [row[:9] for row in fresh])
    store.conn.executemany(
        "UPDATE listings SET external_id = ?, item_id = ?, seen_qty = ?, seen_price = ?, seen_on_shelf = ?, "
        "seen_title = ?, seen_at = ? WHERE channel = ? AND sku_code = ?",
        [(ls.external_id, ls.item_id, ls.quantity, ls.price, int(ls.on_shelf), ls.title, now, channel, ls.sku_code)
         for ls in linked if ls.sku_code in had])
    if reset_expected:
        store.conn.executemany(_BEGIN_READ, [_read_params(channel, ls.sku_code, ls.quantity, stamps[began], now)
                                             for ls, began in zip(linked, starts)
                                             if ls.quantity is not None and ls.sku_code in had])
    # the outcomes without drift are two shared (frozen) values, not one object a listing
    return [_NEW if ls.sku_code not in had else
            Seen(new_link=False, drift=(had[ls.sku_code], ls.quantity)) if reset_expected and ls.quantity is not None
            and had[ls.sku_code] != ls.quantity else _SAME for ls in linked]


#: parameters: channel, code, external id, item id, quantity, price, on shelf, title, now
_INSERT = ("INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, "
           "seen_on_shelf, seen_title, seen_at, linked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?9)")
#: the same (and when the read began), the quantity kept as a pending read (``begin_read``'s
#: columns) when there is one and no stock call of the SKU is in flight
_INSERT_READ = (
    "INSERT INTO listings (channel, sku_code, external_id, item_id, expected, seen_qty, seen_price, seen_on_shelf, "
    "seen_title, seen_at, linked_at, read_qty, read_expected, read_from, read_to) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?9, CASE WHEN r THEN ?5 END, CASE WHEN r THEN ?5 END, "
    "CASE WHEN r THEN ?10 END, CASE WHEN r THEN ?9 END FROM (SELECT ?5 IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM outbox o WHERE o.channel = ?1 AND o.sku_code = ?2 AND o.kind = 'stock' "
    "AND o.inflight_key IS NOT NULL) AS r)")


def record_unmatched(store: Store, channel: str, listing: Listing, reason: str) -> None:
    """A listing that links to no master SKU: reported (``reason`` says why), never guessed."""
    store.execute(
        "INSERT INTO unmatched_listings (channel, external_id, item_id, sku_code, title, reason, seen_at) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (channel, external_id) DO UPDATE SET sku_code = excluded.sku_code, "
        "title = excluded.title, reason = excluded.reason, seen_at = excluded.seen_at",
        (channel, listing.external_id, listing.item_id, listing.sku_code, listing.title, reason, ts(utcnow())))


def matched(store: Store, channel: str, *external_ids: str) -> None:
    """The listings link now: they are no longer reported as unmatched."""
    store.execute(f"DELETE FROM unmatched_listings WHERE channel = ? AND external_id IN ({marks(external_ids)})",
                  (channel, *external_ids))
