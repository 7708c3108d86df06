"""The conformance suite every channel plugin runs against its simulator.

In a plugin's tests, one line gives the whole suite, run both in-process
(``httpx.WSGITransport``) and over real HTTP on 127.0.0.1::

    from channelsync.testing.conformance import suite
    from channelsync_taobao.channel import TaobaoChannel

    TestConformance = suite(TaobaoChannel)

Requirements on the plugin: ``Channel.simulator()`` returns a
``channelsync.sim.simulator.Simulator`` whose ``credentials(base_url)`` are
settings that make the adapter talk to it. What is checked follows the
declared ``Capabilities``: prices on listings only with ``listing_prices``,
increments only with ``stock_mode="increment"``, shelf, content and publishing
only where declared; ``ship`` gets "SF" through ``capabilities.carrier`` (or
the first declared carrier).

Every failure says what was expected and what came back, in plain words:
pytest does not rewrite the asserts of an installed module, so this one
raises its own messages (``expect``) rather than relying on it.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from typing import Any, Iterator

import httpx
import pytest

from channelsync.sdk.channel import Channel
from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Reauthorize, Rejected, Transient
from channelsync.sdk.models import ListingContent, Order, OrderStatus, PriceUpdate, StockUpdate
from channelsync.sim.server import serve
from channelsync.sim.simulator import OutOfStock, Simulator
from channelsync.sync import paging, retry
from channelsync.sync.http import make_client

CARRIER = "SF"


def expect(got: Any, wanted: Any, what: str) -> None:
    """Fail with ``what``, the expected value and the one that came back (a dict: key by key)."""
    if got == wanted:
        return
    lines = [f"{what}:"]
    if isinstance(got, dict) and isinstance(wanted, dict):
        for key in sorted(set(wanted) | set(got), key=str):
            if key not in got:
                lines.append(f"  {key!r}: expected {wanted[key]!r}, missing")
            elif key not in wanted:
                lines.append(f"  {key!r}: not expected, got {got[key]!r}")
            elif got[key] != wanted[key]:
                lines.append(f"  {key!r}: expected {wanted[key]!r}, got {got[key]!r}")
    else:
        lines += [f"  expected {wanted!r}", f"  got      {got!r}"]
    raise AssertionError("\n".join(lines))


def check(condition: Any, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def carrier(caps: Any) -> str:
    """The carrier code ``ship`` gets: "SF" as the core maps it, or the first the plugin declares."""
    return caps.carrier(CARRIER) or next(iter(caps.carriers.values()))


class Env:
    """A simulator and an adapter connected to it."""

    def __init__(self, sim: Simulator, adapter: Channel) -> None:
        self.sim = sim
        self.adapter = adapter
        self.caps = adapter.capabilities

    def call(self, fn):
        """One adapter call as the core makes it: translation errors become ``UnexpectedPayload``."""
        return retry.guarded(fn)()

    def items(self, fetch, size: int) -> list:
        """Every item of a paged read, details fetched, as the core reads them (without retries)."""
        return list(paging.items(lambda tok: self.call(lambda: fetch(tok)), self.call, size=size))

    def listings(self) -> list:
        return self.items(self.adapter.list_listings, self.caps.listing_page_size)

    def orders(self, since: datetime | None = None) -> dict[str, Order]:
        now = self.sim.now()
        since = since or now - timedelta(hours=1)
        found: dict[str, Order] = {}
        for start, end in paging.windows(since, now + timedelta(minutes=1), self.caps.max_order_window):
            for fetch in (self.adapter.fetch_orders, self.adapter.fetch_refunds):
                for order in self.items(lambda tok, f=fetch: f(start, end, tok), self.caps.order_page_size):
                    found[order.external_id] = order
        return found

    def stock_update(self, sku, target: int) -> StockUpdate:
        return StockUpdate(sku_code=sku.sku_code, external_id=sku.external_id, item_id=sku.item_id,
                           quantity=target, delta=target - sku.quantity, expected=sku.quantity,
                           key=uuid.uuid4().hex[:20])

    def content(self, sku, **changes: Any) -> ListingContent:
        base = dict(sku_code=sku.sku_code, product_code=sku.item_id, title=sku.title, description="",
                    on_shelf=sku.on_shelf, price=sku.price, external_id=sku.external_id, item_id=sku.item_id)
        base.update(changes)
        return ListingContent(**base)


@contextlib.contextmanager
def connect(channel_cls: type[Channel], transport: str, sim: Simulator | None = None,
            **overrides: Any) -> Iterator[Env]:
    """A fresh simulator and an adapter talking to it in-process or over HTTP."""
    sim = sim or channel_cls.simulator()
    if transport == "direct":  # a channel that talks to its platform without HTTP (the fake)
        adapter = channel_cls("conformance", {**sim.credentials(""), **overrides}, None)
        try:
            yield Env(sim, adapter)
        finally:
            adapter.close()
        return
    if transport == "wsgi":
        base_url = "http://sim.invalid"
        client_transport: httpx.BaseTransport | None = httpx.WSGITransport(app=sim)
        server_cm: Any = contextlib.nullcontext()
    else:
        server_cm = serve(sim)
        client_transport = None
    with server_cm as server:
        if server is not None:
            base_url = server.base_url
        settings = {**sim.credentials(base_url), **overrides}
        client = make_client("conformance", settings.get("base_url", base_url), transport=client_transport,
                             timeout=httpx.Timeout(5.0, read=2.0))  # read: a held-connection fault ends at it
        adapter = channel_cls("conformance", settings, client)
        try:
            yield Env(sim, adapter)
        finally:
            adapter.close()


def suite(channel_cls: type[Channel], transports: tuple[str, ...] = ("wsgi", "http"),
          entry_point: bool = True) -> type:
    """A pytest test class checking ``channel_cls`` against its own simulator.

    ``entry_point=False`` skips the check that the plugin is installed in the
    ``channelsync`` entry-point group (for a plugin registered by hand in tests).
    """

    class ConformanceSuite:
        @pytest.fixture(params=transports)
        def env(self, request) -> Iterator[Env]:
            with connect(channel_cls, request.param) as env:
                yield env

        # --- listings ---------------------------------------------------
        def test_lists_every_listing_across_pages(self, env: Env) -> None:
            items = env.caps.listing_page_size + 2
            expected = {}
            priced = env.caps.listing_prices
            for i in range(items):
                item_id = None
                for v in range(2):
                    sku = env.sim.seed(f"C-{i:04d}-{v}", quantity=i + v, price=1000 + i, item_id=item_id,
                                       title=f"Item {i}")
                    item_id = sku.item_id
                    expected[sku.sku_code] = (sku.external_id, i + v) + ((1000 + i,) if priced else ())
            unlinked = env.sim.seed(None, quantity=3, price=500, title="no merchant code")
            listings = env.listings()
            got = {ls.sku_code: (ls.external_id, ls.quantity) + ((ls.price,) if priced else ())
                   for ls in listings if ls.sku_code}
            expect(got, expected, f"listings by merchant code over {items} items of 2 SKUs, as (external_id, "
                                  f"quantity{', price' if priced else ''})")
            expect([ls.external_id for ls in listings if ls.sku_code is None], [unlinked.external_id],
                   "the listing without a merchant code (sku_code None)")
            ids = [ls.external_id for ls in listings]
            expect(sorted({i for i in ids if ids.count(i) > 1}), [], "external ids listed more than once")

        # --- stock and prices --------------------------------------------
        def test_set_stock_reaches_targets(self, env: Env) -> None:
            skus = [env.sim.seed(f"S-{i}", quantity=10, price=990) for i in range(env.caps.stock_batch_size + 1)]
            targets = {s.sku_code: t for s, t in zip(skus, [7, 15, 0] * len(skus))}
            updates = [env.stock_update(s, targets[s.sku_code]) for s in skus]
            for start in range(0, len(updates), env.caps.stock_batch_size):
                batch = updates[start:start + env.caps.stock_batch_size]
                results = env.adapter.set_stock(batch)
                expect([r.external_id for r in results], [u.external_id for u in batch],
                       "set_stock results, one per update in the order given")
                expect({r.external_id: r.error for r in results if not r.ok}, {}, "set_stock errors")
            expect({s.sku_code: env.sim.stock(s.sku_code) for s in skus}, targets,
                   "quantities on the platform after set_stock")

        def test_increment_keeps_concurrent_sales(self, env: Env) -> None:
            if env.caps.stock_mode != "increment":
                pytest.skip("absolute-stock platform")
            sku = env.sim.seed("INC-1", quantity=10, price=990)
            update = env.stock_update(sku, 14)  # computed while the platform showed 10
            env.sim.place_order([("INC-1", 3)])  # a sale lands before the push
            [result] = env.adapter.set_stock([update])
            check(result.ok, f"set_stock of +4 failed: {result.error}")
            expect(env.sim.stock("INC-1"), 11, "quantity after +4 on 10 with a sale of 3 in between "
                                               "(an increment must not erase the sale)")

        def test_read_stock_shows_what_the_platform_shows(self, env: Env) -> None:
            if not env.adapter.reads_stock():
                pytest.skip("the adapter does not implement read_stock")
            one = env.sim.seed("RD-1", quantity=10, price=990)
            two = env.sim.seed("RD-2", quantity=4, price=990)
            sibling = env.sim.seed("RD-3", quantity=6, price=990, item_id=two.item_id)
            env.sim.place_order([("RD-1", 3)])      # a sale: the platform took it off
            env.sim.set_stock_by_hand("RD-3", 500)  # a hand edit in the seller centre
            skus = [one, two, sibling]
            shown = env.adapter.read_stock([s.external_id for s in skus], [s.item_id for s in skus])
            assert shown == {one.external_id: 7, two.external_id: 4, sibling.external_id: 500}
            ghost = env.adapter.read_stock(["987654321"], ["987654320"])
            assert ghost == {}, "an id the platform does not know is left out, not raised"

        def test_absolute_push_keeps_an_unseen_sale(self, env: Env) -> None:
            """The core's push, computed while the platform showed 10, after a sale of 3 it
            has not ingested: the platform ends at 11 (target 14 less the sale), whatever
            the stock mode; an absolute one gets ``min(target, current + target - expected)``
            from a read just before the set."""
            from channelsync.engine.stock_policy import absolute_value

            if not env.adapter.reads_stock():
                pytest.skip("the adapter does not implement read_stock")
            sku = env.sim.seed("ABS-1", quantity=10, price=990)
            env.sim.place_order([("ABS-1", 3)])
            current = env.adapter.read_stock([sku.external_id], [sku.item_id])[sku.external_id]
            quantity = absolute_value(14, 10, current) if env.caps.stock_mode == "absolute" else 14
            update = StockUpdate(sku.sku_code, sku.external_id, sku.item_id, quantity, 4, 10, uuid.uuid4().hex[:20])
            if env.caps.stock_mode == "compare_and_set":  # the condition is what the platform shows
                update = StockUpdate(sku.sku_code, sku.external_id, sku.item_id, 11, 4, current, update.key)
            assert env.adapter.set_stock([update])[0].ok
            assert env.sim.stock("ABS-1") == 11, "the unseen sale was put back on sale"

        def test_idempotency_key_applies_once(self, env: Env) -> None:
            if not env.caps.idempotency_keys:
                pytest.skip("platform takes no idempotency key")
            sku = env.sim.seed("IDEM-1", quantity=10, price=990)
            update = env.stock_update(sku, 4)
            env.adapter.set_stock([update])
            env.adapter.set_stock([update])
            expect(env.sim.stock("IDEM-1"), 4, "quantity after sending the same keyed update (-6) twice")

        def test_unknown_sku_is_reported_not_raised_as_transient(self, env: Env) -> None:
            ghost = StockUpdate(sku_code="GHOST", external_id="987654321", item_id="987654320",
                                quantity=5, delta=5, expected=0, key="ghost")
            try:
                results = env.adapter.set_stock([ghost])
            except (NotFound, Rejected):
                return
            expect(len(results), 1, "results for one update")
            check(isinstance(results[0].error, (NotFound, Rejected)),
                  f"an unknown SKU: expected a NotFound or Rejected result, got {results[0].error!r}")

        def test_set_prices(self, env: Env) -> None:
            skus = [env.sim.seed(f"P-{i}", quantity=1, price=1000) for i in range(env.caps.price_batch_size + 1)]
            updates = [PriceUpdate(s.sku_code, s.external_id, s.item_id, 12390 + i) for i, s in enumerate(skus)]
            for start in range(0, len(updates), env.caps.price_batch_size):
                results = env.adapter.set_prices(updates[start:start + env.caps.price_batch_size])
                expect({r.external_id: r.error for r in results if not r.ok}, {}, "set_prices errors")
            expect({s.sku_code: env.sim.find(s.sku_code).price for s in skus}, {u.sku_code: u.price for u in updates},
                   "prices (fen) on the platform after set_prices")

        # --- listing content and shelf -------------------------------------
        def test_shelf_off_and_on(self, env: Env) -> None:
            if not env.caps.can_set_shelf:
                pytest.skip("platform cannot change shelf status")
            sku = env.sim.seed("SHELF-1", quantity=5, price=990)
            env.adapter.set_shelf(env.content(sku, on_shelf=False), False)
            expect(env.sim.find("SHELF-1").on_shelf, False, "on_shelf after set_shelf(off)")
            env.adapter.set_shelf(env.content(sku, on_shelf=True), True)
            expect(env.sim.find("SHELF-1").on_shelf, True, "on_shelf after set_shelf(on)")

        def test_update_listing_title(self, env: Env) -> None:
            if not env.caps.can_update_content:
                pytest.skip("platform cannot update listing content")
            sku = env.sim.seed("TITLE-1", quantity=5, price=990, title="old")
            env.adapter.update_listing(env.content(sku, title="新标题 new title"))
            expect(env.sim.find("TITLE-1").title, "新标题 new title", "title after update_listing")

        def test_publish_creates_a_listing_with_the_merchant_code(self, env: Env) -> None:
            if not env.caps.can_publish:
                pytest.skip("platform cannot publish from master data")
            content = ListingContent(sku_code="NEW-1", product_code="NEW", title="新品 new", description="",
                                     on_shelf=True, price=1990, quantity=6)
            published = env.adapter.publish(content)
            expect([ls.sku_code for ls in published], ["NEW-1"], "merchant codes of the published listings")
            expect((env.sim.stock("NEW-1"), env.sim.find("NEW-1").price), (6, 1990),
                   "(quantity, price) of the published listing on the platform")

        # --- orders -------------------------------------------------------
        def test_paid_order_is_fetched_with_lines(self, env: Env) -> None:
            env.sim.seed("O-A", quantity=10, price=1990)
            env.sim.seed("O-B", quantity=10, price=2990)
            placed = env.sim.place_order([("O-A", 2), ("O-B", 1)])
            expect(env.sim.stock("O-A"), 8, "the simulator's quantity after a paid order of 2")
            orders = env.orders()
            check(placed.order_id in orders, f"order {placed.order_id} not fetched; got {sorted(orders)}")
            order = orders[placed.order_id]
            expect(order.status, OrderStatus.PAID, f"status of paid order {placed.order_id}")
            expect(sorted((ln.sku_code, ln.quantity) for ln in order.lines), [("O-A", 2), ("O-B", 1)],
                   "the order's lines as (merchant code, quantity)")
            check(order.created_at.tzinfo is not None and order.modified_at.tzinfo is not None,
                  f"order times must be timezone-aware, got {order.created_at!r} / {order.modified_at!r}")

        def test_cancel_refund_and_ship_are_seen(self, env: Env) -> None:
            env.sim.seed("O-C", quantity=10, price=1990)
            cancelled = env.sim.place_order([("O-C", 1)])
            refunded = env.sim.place_order([("O-C", 1)])
            shipped = env.sim.place_order([("O-C", 1)])
            env.sim.cancel(cancelled.order_id)
            env.sim.refund(refunded.order_id)
            env.adapter.ship(shipped.order_id, carrier(env.caps), "SF1234567890")
            sim_order = env.sim.orders[shipped.order_id]
            expect((sim_order.status, sim_order.tracking_no), ("shipped", "SF1234567890"),
                   "the simulator's (status, tracking number) after ship")
            seen = env.orders()
            got = {o: seen[o].status if o in seen else "not fetched"
                   for o in (cancelled.order_id, refunded.order_id, shipped.order_id)}
            closed = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
            check(got[cancelled.order_id] in closed and got[refunded.order_id] in closed
                  and got[shipped.order_id] == OrderStatus.SHIPPED,
                  f"statuses: expected cancelled/refunded, refunded/cancelled, shipped; got {got}")
            expect(env.sim.stock("O-C"), 9, "quantity after 3 orders of which 2 were put back")

        def test_orders_page(self, env: Env) -> None:
            env.sim.seed("O-P", quantity=10_000, price=100)
            placed = {env.sim.place_order([("O-P", 1)]).order_id for _ in range(env.caps.order_page_size + 2)}
            expect(sorted(placed - set(env.orders())), [], f"orders of {len(placed)} (over one page) not fetched")

        def test_longest_window_is_accepted(self, env: Env) -> None:
            now = env.sim.now()
            page = env.adapter.fetch_orders(now - env.caps.max_order_window, now, None)
            expect(list(page.items), [], f"orders in an empty window of max_order_window={env.caps.max_order_window}")

        def test_buyer_refused_at_zero(self, env: Env) -> None:
            env.sim.seed("ZERO", quantity=1, price=100)
            env.sim.place_order([("ZERO", 1)])
            with pytest.raises(OutOfStock):
                env.sim.place_order([("ZERO", 1)])

        # --- errors ---------------------------------------------------------
        @pytest.mark.parametrize("kind,error", [("rate_limit", RateLimited), ("error_5xx", Transient),
                                                ("malformed", Transient), ("timeout", Transient)])
        def test_faults_map_to_typed_errors(self, env: Env, kind: str, error: type) -> None:
            env.sim.seed("F-1", quantity=1, price=100)
            env.sim.inject(kind, count=1)
            try:
                env.call(lambda: env.adapter.list_listings(None))
            except error:
                pass
            except Exception as exc:  # noqa: BLE001 - the point is to say what came instead
                raise AssertionError(f"fault {kind!r}: expected {error.__name__}, got {type(exc).__name__}: {exc}")
            else:
                raise AssertionError(f"fault {kind!r}: expected {error.__name__}, the call succeeded")
            check(env.call(lambda: env.adapter.list_listings(None)).items,
                  f"after one {kind!r} fault the next listing call must succeed with the seeded SKU")

        def test_token_expiry_then_refresh(self, env: Env) -> None:
            env.sim.seed("T-1", quantity=1, price=100)
            env.sim.inject("auth_expired", count=1)
            with pytest.raises(AuthExpired):
                env.adapter.list_listings(None)
            env.adapter.refresh_auth()
            check(env.adapter.list_listings(None).items, "after refresh_auth() the listing call must succeed")

        def test_wrong_credentials_are_rejected(self, env: Env) -> None:
            secret_keys = [k for k, s in channel_cls.settings_schema.items() if s.secret]
            check(secret_keys, "a platform channel declares at least one secret setting (Setting(secret=True))")
            bad = {**env.adapter.settings, **{k: "wrong-secret" for k in secret_keys}}
            adapter = channel_cls("bad", bad, env.adapter.http)
            with pytest.raises((Rejected, AuthExpired, Reauthorize)) as info:
                adapter.refresh_auth()
                adapter.list_listings(None)
            check(info.value.code, f"wrong credentials: the platform's error code is kept, got {info.value!r}")

        def test_registered_through_entry_points(self) -> None:
            from channelsync.sdk.plugins import channel_types, make_manager

            if not entry_point:
                pytest.skip("registered by hand, not through an entry point")
            found = channel_types(make_manager()).get(channel_cls.plugin)
            check(found is channel_cls, f"the channelsync entry-point group gives {found!r} for "
                                        f"{channel_cls.plugin!r}, expected {channel_cls!r}: is the plugin installed "
                                        "and listed under [project.entry-points.channelsync]?")

    ConformanceSuite.__name__ = f"Conformance{channel_cls.__name__}"
    return ConformanceSuite

