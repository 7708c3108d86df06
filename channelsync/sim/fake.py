"""An in-memory fake channel: a real ``Channel`` subclass over a fake platform.

The platform is a ``Simulator`` (so it subtracts its own sales, refuses
orders at zero, pages, and fails on demand) reached by direct calls rather
than HTTP. Register it for one test, never by default::

    pm = make_manager(extra=[channelsync.sim.fake])
    platform = FakePlatform.named("shop-a")   # what the channel named "shop-a" talks to

Settings: ``platform`` (the FakePlatform's name), ``token`` (secret),
``stock_mode`` ("increment" | "compare_and_set" | "absolute"), ``idempotency_keys``
(increments only), ``read_stock`` (whether the core may read quantities), ``page_size``.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from typing import Any, ClassVar, Sequence

from channelsync.sdk.channel import Capabilities, Channel, Setting
from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, StockConflict, Transient
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sdk.models import (
    Listing,
    ListingContent,
    Order,
    OrderLine,
    OrderStatus,
    Page,
    Parcel,
    PriceUpdate,
    StockUpdate,
    UpdateResult,
)
from channelsync.sim.simulator import SimOrder, Simulator
from channelsync.sim.skutable import SkuTable

class FakePlatform(Simulator):
    """The fake platform's state; one per fake channel, found by name."""

    plugin = "fake"
    _registry: ClassVar[dict[str, "FakePlatform"]] = {}
    # re-entrant: named() makes a missing platform, whose __init__ registers it under the same lock
    _registry_lock = threading.RLock()

    def __init__(self, name: str = "fake", token: str = "fake-token", **options: Any) -> None:
        super().__init__(**options)
        self.skus = SkuTable()  # 100,000 SKUs on each of four fakes fit a resync's memory budget
        self.name = name
        self.token = token
        self.keys: set[str] = set()
        self.told: list[tuple[str, int]] = []  # (sku_code, quantity the channel now shows) after each push
        self.attempted: set[str] = set()       # keys of stock calls that may have applied (not refused)
        #: called at push time with (sku_code, quantity now shown, replay of an earlier key?)
        self.on_told = None
        self.tokens_valid = True
        with self._registry_lock:
            self._registry[name] = self

    @classmethod
    def named(cls, name: str) -> "FakePlatform":
        with cls._registry_lock:
            if name not in cls._registry:
                cls._registry[name] = cls(name)
            return cls._registry[name]

    @classmethod
    def forget_all(cls) -> None:
        with cls._registry_lock:
            cls._registry.clear()

    def find(self, ref: str):
        with self.lock:
            found = self.skus.get(ref) or self.skus.by_code(ref)
        if found is None:
            raise KeyError(ref)
        return found

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {"platform": self.name, "token": self.token}

    def expire_tokens(self) -> None:
        self.tokens_valid = False

    def handle(self, req):  # pragma: no cover - the fake is reached directly, not over HTTP
        raise NotImplementedError("the fake platform has no wire format")


class FakeChannel(Channel):
    plugin = "fake"
    capabilities = Capabilities(stock_mode="increment", idempotency_keys=True, stock_batch_size=20,
                                price_batch_size=20, listing_page_size=25, order_page_size=50,
                                rate_per_second=1000.0, rate_burst=1000, can_publish=True, sku_titles=True)
    settings_schema = {
        "platform": Setting(str, required=True, help="name of the FakePlatform"),
        "token": Setting(str, secret=True, default="fake-token"),
        "stock_mode": Setting(str, default="increment", choices=("increment", "compare_and_set", "absolute")),
        "idempotency_keys": Setting(bool, default=True, help="increments: the platform drops a repeated key"),
        "read_stock": Setting(bool, default=True, help="the core may read quantities (read_stock)"),
        "page_size": Setting(int, default=25),
    }

    def __init__(self, name: str, settings: dict, http=None) -> None:
        super().__init__(name, settings, http)
        self.platform = FakePlatform.named(self.settings.get("platform", name))
        mode = self.settings.get("stock_mode", "increment")
        keys = mode == "increment" and bool(self.settings.get("idempotency_keys", True))
        self.capabilities = replace(self.capabilities, stock_mode=mode, idempotency_keys=keys,
                                    listing_page_size=int(self.settings.get("page_size", 25)))

    def _enter(self) -> dict | None:
        """Every call: check the token, then play any injected fault (a ``lost_answer``
        is returned for the call to raise after it applied)."""
        p = self.platform
        if self.settings.get("token") != p.token:
            raise Rejected("invalid token", code="invalid-token")
        fault = p.next_fault()
        if fault:
            kind = fault["kind"]
            if kind == "rate_limit":
                raise RateLimited("fake rate limit", retry_after=float(fault.get("seconds", 0.01)), code="limited")
            if kind == "auth_expired":
                p.tokens_valid = False
            elif kind in ("error_5xx", "timeout", "reset", "malformed", "truncated", "latency"):
                raise Transient(f"fake {kind}", code=kind)
        if not p.tokens_valid:
            raise AuthExpired("token expired", code="expired")
        return fault if fault and fault["kind"] == "lost_answer" else None

    def refresh_auth(self) -> None:
        self.platform.tokens_valid = True

    def list_listings(self, page_token: str | None) -> Page[Listing]:
        self._enter()
        with self.platform.lock:
            # one page of the table, from the row the token names: no copy of the catalog per page
            found, after = self.platform.skus.page(int(page_token or 0), self.capabilities.listing_page_size)
            chunk = [Listing(*s.listed()) for s in found]
        return Page(chunk, None if after is None else str(after))

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        p = self.platform
        replays = {u.key for u in updates if u.key in p.attempted}
        try:
            lost = self._enter()
        except RateLimited:
            raise
        except Transient:  # the caller cannot tell this from a call that applied
            p.attempted.update(u.key for u in updates)
            raise
        # a refusal (token expired, rate limit, bad token) applied nothing: sending it again is no replay
        p.attempted.update(u.key for u in updates)
        results = []
        with p.lock:
            for u in updates:
                sku = p.skus.get(u.external_id)
                if sku is None:
                    results.append(UpdateResult(u.external_id, NotFound(f"no SKU {u.external_id}", code="not-found")))
                    continue
                mode = self.capabilities.stock_mode
                if mode == "compare_and_set" and sku.quantity != u.expected:
                    results.append(UpdateResult(u.external_id, StockConflict(
                        f"{u.external_id} shows {sku.quantity}, not {u.expected}", code="conflict")))
                    continue
                if mode != "increment":
                    sku.quantity = u.quantity
                elif not self.capabilities.idempotency_keys or u.key not in p.keys:
                    p.keys.add(u.key)
                    sku.quantity = max(0, sku.quantity + u.delta)
                p.told.append((sku.sku_code, sku.quantity))
                if p.on_told is not None:
                    p.on_told(sku.sku_code, sku.quantity, u.key in replays)
                results.append(UpdateResult(u.external_id))
        if lost:
            raise Transient("fake lost answer (the call applied)", code="lost_answer")
        return results

    def reads_stock(self) -> bool:  # type: ignore[override]  # a setting here, to test both ways
        return bool(self.settings.get("read_stock", True))

    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        if not self.reads_stock():
            raise NotImplementedError("read_stock is off for this fake channel")
        self._enter()
        with self.platform.lock:
            return {i: self.platform.skus[i].quantity for i in external_ids if i in self.platform.skus}

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        self._enter()
        results = []
        with self.platform.lock:
            for u in updates:
                sku = self.platform.skus.get(u.external_id)
                if sku is None:
                    results.append(UpdateResult(u.external_id, NotFound(f"no SKU {u.external_id}", code="not-found")))
                else:
                    sku.price = u.price
                    results.append(UpdateResult(u.external_id))
        return results

    def _sku(self, content: ListingContent):
        sku = self.platform.skus.get(content.external_id or "")
        if sku is None:
            raise NotFound(f"no SKU {content.external_id}", code="not-found")
        return sku

    def update_listing(self, content: ListingContent) -> None:
        self._enter()
        with self.platform.lock:
            sku = self._sku(content)
            sku.title, sku.description = content.sku_title or content.title, content.description

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        self._enter()
        with self.platform.lock:
            self._sku(content).on_shelf = on

    def publish(self, content: ListingContent) -> list[Listing]:
        self._enter()
        sku = self.platform.seed(content.sku_code, content.quantity or 0, content.price or 0,
                                 title=content.sku_title or content.title,
                                 on_shelf=content.on_shelf)
        return [Listing(sku.external_id, sku.sku_code, sku.item_id, sku.quantity, sku.price, sku.on_shelf, sku.title)]

    def fetch_orders(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        self._enter()
        with self.platform.lock:
            found = self._window(since, until)
            start = int(page_token or 0)
            size = self.capabilities.order_page_size
            page = [_order(o) for o in found[start:start + size]]  # only this page: polls of 10k orders stay linear
        return Page(page, str(start + size) if start + size < len(found) else None)

    def _window(self, since: datetime, until: datetime) -> list:
        """The window's orders by modification, as the platform's index lists them. Sorted once
        per read of a window, not for every page (a 20,000-order poll spent most of its time
        here): kept while no order was added or changed its modification time since, which is
        exactly when a sort would give the same list."""
        orders = self.platform.orders
        stamp = (since, until, tuple(orders), tuple(map(attrgetter("modified_at"), orders.values())))
        if getattr(self, "_sorted", None) is None or self._sorted[0] != stamp:
            self._sorted = (stamp, sorted((o for o in orders.values() if since <= o.modified_at < until),
                                          key=lambda o: (o.modified_at, o.order_id)))
        return self._sorted[1]

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        self.ship_parcel(order_external_id, carrier, tracking_no, None)

    def ship_parcel(self, order_external_id: str, carrier: str, tracking_no: str,
                    lines: Sequence[OrderLine] | None) -> None:
        self._enter()
        if order_external_id not in self.platform.orders:
            raise NotFound(f"no order {order_external_id}", code="not-found")
        picked = {(ln.external_sku_id or ln.sku_code): ln.quantity for ln in lines} if lines else None
        try:
            self.platform.ship(order_external_id, carrier, tracking_no, picked)
        except ValueError as exc:
            raise Rejected(str(exc), code="bad-parcel") from exc

    def fetch_order(self, order_external_id: str) -> Order | None:
        self._enter()
        with self.platform.lock:
            found = self.platform.orders.get(order_external_id)
            return _order(found) if found else None

    @classmethod
    def simulator(cls, **options: Any) -> FakePlatform:
        import uuid

        return FakePlatform(f"sim-{uuid.uuid4().hex[:8]}", **options)


def _order(o: SimOrder) -> Order:
    # the simulator's states carry the core's names, so no mapping table is needed;
    # the fake reports everything per line, as the best platforms do
    return Order(o.order_id, OrderStatus(o.status), o.created_at, o.modified_at,
                 [OrderLine(ln.sku_code, ln.quantity, ln.external_id, ln.price, refunded=ln.refunded,
                            returning=ln.returned, shipped=ln.shipped) for ln in o.lines],
                 total=o.total, platform_status=o.status, shipped=bool(o.parcels),
                 parcels=[Parcel(p.carrier, p.tracking_no, [OrderLine(None, n, ext) for ext, n in p.lines.items()])
                          for p in o.parcels])


@hookimpl
def register_channels(register) -> None:
    register("fake", FakeChannel)
