"""The adapter contract: one ``Channel`` subclass per platform.

A plugin's adapter only *translates*: master data to platform calls and
platform payloads to ``channelsync.sdk.models``. Paging loops, order windows,
retries, back-off, rate budgets, batching and cursors belong to the core,
which calls the methods below one page / one batch / one window at a time.

Errors: raise the types in ``channelsync.sdk.errors``. ``self.call()`` already turns
transport failures, 5xx and 429 into ``Transient`` / ``RateLimited``; the
adapter maps its platform's error envelope (see ``self.json()``).
"""

from __future__ import annotations

import importlib
import json as jsonlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, ClassVar, Iterable, Literal, Mapping, Sequence

import httpx

from channelsync.sdk.auth import TokenAuth
from channelsync.sdk.errors import AuthExpired, ChannelError, RateLimited, Rejected, Transient
from channelsync.sdk.models import (
    Listing,
    ListingContent,
    Order,
    OrderLine,
    Page,
    PriceUpdate,
    StockUpdate,
    UpdateResult,
)
from channelsync.sdk.paging import At, Paginator, Reply, decode, encode
from channelsync.sdk.times import BEIJING, format_time, parse_time  # noqa: F401  (BEIJING: declared here first)


#: what ``Channel.simulator()`` returns: a WSGI application (in practice a
#: ``channelsync.sim.Simulator``, which the sdk does not import: the kit sits above it)
WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Capabilities:
    """What the platform can do; the core plans calls from this.

    ``stock_mode``: "increment" (deltas; with ``idempotency_keys`` a retried
    call cannot apply twice), "compare_and_set" (``StockUpdate.expected`` is the
    condition; raise ``StockConflict`` when the platform shows another value), or
    "absolute". How the core uses each mode, and ``read_stock`` where the adapter
    implements it, is in ``channelsync.engine.listings``.
    ``stock_read_batch_size``: ids a ``read_stock`` call takes at most.
    ``sku_titles``: each SKU listing has a title of its own, which ``update_listing``
    sets from ``ListingContent.sku_title``. Without, content is item-level only and
    the core sends one ``update_listing`` per item for a product change, not one per SKU.
    ``idempotency_keys``: the platform takes ``StockUpdate.key`` and applies a key once.
    ``stock_batch_size`` / ``price_batch_size``: updates per ``set_stock`` / ``set_prices``.
    ``listing_page_size`` / ``order_page_size``: ``At.size`` the kit asks the paginators for.
    ``max_order_window``: the longest ``[since, until)`` the order calls accept (the core splits).
    ``rate_per_second`` / ``rate_burst``: the budget the core starts from (config may lower it;
    a rate-limited answer lowers it further, see ``channelsync.sync.ratelimit``).
    ``can_publish`` / ``can_update_content`` / ``can_set_shelf``: whether the core queues
    ``publish`` / ``update_listing`` / ``set_shelf`` for this channel at all.
    ``listing_prices``: listings carry the platform's price (``Listing.price``); without it
    resync compares no prices and the conformance suite asks for none on listings.
    ``order_lag``: how long after a change the platform's order list shows it (late indexing):
    the poll window ends this long before now (the config's ``order_lag`` can only add to it).
    ``carriers``: the core's carrier codes (what an operator types: ``SF``, ``YTO``) to the
    platform's; when given, ``ship`` refuses a code not among its keys or values, listing them.
    ``timezone``: the zone the platform's naive times are in (``Channel.platform_time`` and
    ``Channel.local_time`` use it).
    """

    stock_mode: Literal["increment", "absolute", "compare_and_set"] = "absolute"
    idempotency_keys: bool = False
    stock_batch_size: int = 1
    price_batch_size: int = 1
    listing_page_size: int = 50
    order_page_size: int = 100
    #: the refund list's page size where it differs from the order list's (None: the same)
    refund_page_size: int | None = None
    max_order_window: timedelta = timedelta(days=1)
    #: the longest window ``fetch_refunds`` accepts (None: the order window); the core
    #: cuts each order window into refund windows, so a short after-sale window (WeChat:
    #: 24 h) never shortens the order window
    max_refund_window: timedelta | None = None
    rate_per_second: float = 2.0
    rate_burst: int = 2
    can_publish: bool = False
    can_update_content: bool = True
    can_set_shelf: bool = True
    stock_read_batch_size: int = 20
    sku_titles: bool = False
    listing_prices: bool = True
    order_lag: timedelta = timedelta(0)
    carriers: Mapping[str, str] = field(default_factory=dict)
    timezone: tzinfo = timezone.utc

    def carrier(self, code: str) -> str | None:
        """The platform's code for carrier ``code`` (any case), None when the platform lacks it."""
        if not self.carriers:
            return code.strip()
        wanted = code.strip().upper()
        by_key = {k.upper(): v for k, v in self.carriers.items()}
        if wanted in by_key:
            return by_key[wanted]
        return next((v for v in self.carriers.values() if v.upper() == wanted), None)


@dataclass(frozen=True)
class Setting:
    """One key of a channel's ``[channels.NAME.settings]`` table.

    ``secret=True`` settings must be given by reference (``{env = "VAR"}`` or
    ``{file = "/path"}``) and are never logged or shown.
    """

    type: type = str
    required: bool = False
    default: Any = None
    secret: bool = False
    help: str = ""
    choices: tuple = ()


class Channel:
    """Base class of every channel adapter (one instance per configured channel)."""

    #: the plugin name used in config (``plugin = "taobao"``); set by subclasses
    plugin: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: settings the channel accepts; ``base_url`` is the platform's API root
    settings_schema: ClassVar[dict[str, Setting]] = {}
    #: how ``listing_page`` / ``order_page`` / ``refund_page`` page (``channelsync.sdk.paging``);
    #: None: the plugin overrides ``list_listings`` / ``fetch_orders`` / ``fetch_refunds`` itself
    listing_pages: ClassVar[Paginator | None] = None
    order_pages: ClassVar[Paginator | None] = None
    refund_pages: ClassVar[Paginator | None] = None
    #: the error table by HTTP status for ``self.call`` (5xx and 429 are typed already): when
    #: given, a 4xx listed raises its class and any other 4xx ``Rejected``, with the JSON body's
    #: ``error_field`` as the message; empty: 4xx responses are returned for the plugin to map
    status_errors: ClassVar[Mapping[int, type[ChannelError]]] = {}
    error_field: ClassVar[str] = "error"
    #: ``"package.module:Class"`` of the platform's simulator, imported only when asked for
    #: (tests, the sandbox); the default ``simulator()`` builds it
    simulator_class: ClassVar[str] = ""

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        self.name = name
        # schema defaults first, so an adapter can rely on every declared key being present
        self.settings = {key: spec.default for key, spec in self.settings_schema.items()} | dict(settings)
        self.http = http
        #: set by the core: persists what ``save_credentials`` is given
        self.credential_sink: Callable[[dict[str, str]], None] | None = None
        #: the channel's token life cycle, when it has one (``channelsync.sdk.auth.TokenAuth``):
        #: the default ``refresh_auth`` renews it and ``token_expires_at`` reads it
        self.auth: TokenAuth | None = None

    # --- declared paging: write these three, the kit does the tokens -------
    def listing_page(self, at: At) -> Reply[Listing]:
        """The page of listings ``at`` places (``listing_pages`` says which fields count)."""
        raise NotImplementedError

    def order_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        """The page of orders modified in ``[since, until)`` that ``at`` places."""
        raise NotImplementedError

    def refund_page(self, since: datetime, until: datetime, at: At) -> Reply[Order]:
        """The page of orders whose after-sales changed in the window (declare ``refund_pages``)."""
        raise NotImplementedError

    # --- listings --------------------------------------------------------
    def list_listings(self, page_token: str | None) -> Page[Listing]:
        """One page of the channel's SKU listings, and the token for the next.

        With ``listing_pages`` declared this is ``listing_page`` and the paginator;
        override it only when no paginator fits (the escape hatch)."""
        return self._paged(self.listing_pages, self.capabilities.listing_page_size, page_token, self.listing_page)

    def set_stock(self, updates: Sequence[StockUpdate]) -> list[UpdateResult]:
        """Apply at most ``capabilities.stock_batch_size`` quantity updates; a result each."""
        raise NotImplementedError

    def read_stock(self, external_ids: Sequence[str], item_ids: Sequence[str | None]) -> dict[str, int]:
        """Optional: the quantity the platform shows now for each listing, by external id.

        ``item_ids[i]`` is the enclosing item of ``external_ids[i]`` (None where the
        platform has none); at most ``capabilities.stock_read_batch_size`` ids a call.
        Leave out ids the platform does not know. Implementing it lets the core keep
        sales it has not ingested yet when it sets an absolute quantity, settle an
        increment that may have applied without sending it twice, and find drift
        (a hand edit in the seller centre) by itself.
        """
        raise NotImplementedError

    @classmethod
    def reads_stock(cls) -> bool:
        """Whether this adapter implements ``read_stock``."""
        return cls.read_stock is not Channel.read_stock

    def set_prices(self, updates: Sequence[PriceUpdate]) -> list[UpdateResult]:
        """Apply at most ``capabilities.price_batch_size`` price updates; a result each."""
        raise NotImplementedError

    def update_listing(self, content: ListingContent) -> None:
        """Push title/description of an existing listing."""
        raise NotImplementedError

    def set_shelf(self, content: ListingContent, on: bool) -> None:
        """Put an existing listing on (True) or off (False) the shelf."""
        raise NotImplementedError

    def publish(self, content: ListingContent) -> list[Listing]:
        """Create a listing from master data (only if ``capabilities.can_publish``)."""
        raise NotImplementedError

    # --- orders ----------------------------------------------------------
    def fetch_orders(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        """Orders created or modified in ``[since, until)``; the window never exceeds
        ``capabilities.max_order_window`` (the core splits longer ones). With ``order_pages``
        declared this is ``order_page`` and the paginator."""
        return self._paged(self.order_pages, self.capabilities.order_page_size, page_token,
                           lambda at: self.order_page(since, until, at))

    def fetch_refunds(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        """Orders whose refunds changed in the window, in their current state.
        Platforms whose order status already shows refunds declare no ``refund_pages``."""
        if self.refund_pages is None:
            return Page([], None)
        size = self.capabilities.refund_page_size or self.capabilities.order_page_size
        return self._paged(self.refund_pages, size, page_token,
                           lambda at: self.refund_page(since, until, at))

    def _paged(self, paginator: Paginator | None, size: int, page_token: str | None,
               fetch: Callable[[At], Reply]) -> Page:
        if paginator is None:
            raise NotImplementedError(f"{type(self).__name__}: declare a paginator or override the method")
        at = decode(page_token, paginator, size)
        reply = fetch(at)
        following = paginator.next(at, reply)
        return Page(list(reply.items), encode(following, paginator, size) if following is not None else None)

    def ship(self, order_external_id: str, carrier: str, tracking_no: str) -> None:
        """Tell the channel the order shipped."""
        raise NotImplementedError

    def ship_parcel(self, order_external_id: str, carrier: str, tracking_no: str,
                    lines: Sequence[OrderLine] | None) -> None:
        """Tell the channel one parcel left: ``lines`` (external SKU id, merchant code,
        units) or, when None, every line still to ship. Platforms that cannot ship part
        of an order keep this default, which refuses a partial parcel."""
        if lines is not None:
            raise Rejected(f"{self.plugin or 'this platform'}: shipping part of an order is not supported "
                           "(ship the whole order)", code="partial-shipment")
        self.ship(order_external_id, carrier, tracking_no)

    def fetch_order(self, order_external_id: str) -> Order | None:
        """One order's current state, if the platform can read one (None: it cannot).
        The core reads it after a ship so the platform's status shows at once."""
        return None

    # --- auth and life cycle ----------------------------------------------
    def refresh_auth(self) -> None:
        """Called by the core after ``AuthExpired``; the call is then retried once.
        The default renews ``self.auth`` when the channel has one."""
        if self.auth is not None:
            self.auth.renew()

    def save_credentials(self, values: Mapping[str, str]) -> None:
        """Call after renewing credentials (a new session, access or refresh token): the
        core keeps them across restarts and puts them in ``self.settings`` at start-up."""
        self.settings.update(values)
        if self.credential_sink is not None:
            self.credential_sink(dict(values))

    def token_expires_at(self) -> datetime | None:
        """When the current access token expires, if the platform says (for ``status``)."""
        return self.auth.expires_at if self.auth is not None else None

    @classmethod
    def simulator(cls, **options: Any) -> WSGIApp:
        """A WSGI app imitating the platform, with the control API of ``channelsync.sim.Simulator``."""
        if not cls.simulator_class:
            raise NotImplementedError(f"{cls.__name__} has no simulator")
        module, _, name = cls.simulator_class.partition(":")
        return getattr(importlib.import_module(module), name)(**options)

    @classmethod
    def has_simulator(cls) -> bool:
        """Whether ``simulator()`` gives one (declared, or the method overridden)."""
        return bool(cls.simulator_class) or cls.simulator.__func__ is not Channel.simulator.__func__  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    # --- helpers for subclasses -------------------------------------------
    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one HTTP request; transport errors, 5xx and 429 become typed errors.

        Other 4xx responses are returned for the adapter to map, since each
        platform words them differently.
        """
        assert self.http is not None, f"channel {self.name} has no HTTP client"
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient(f"timeout calling {url}: {type(exc).__name__}") from exc
        except httpx.ConnectError as exc:  # never reached the platform: nothing applied
            raise Transient(f"cannot connect to {url}: {type(exc).__name__}", maybe_applied=False) from exc
        except httpx.TransportError as exc:
            raise Transient(f"connection error calling {url}: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise RateLimited(f"HTTP 429 from {url}", retry_after=_retry_after(response), code="429")
        if response.status_code == 401 and self.settings.get("auth_expired_on_401", False):
            raise AuthExpired(f"HTTP 401 from {url}", code="401")
        if response.status_code >= 500:
            raise Transient(f"HTTP {response.status_code} from {url}", code=str(response.status_code))
        if response.status_code >= 400 and self.status_errors:
            raise self._status_error(response, url)
        return response

    def _status_error(self, response: httpx.Response, url: str) -> ChannelError:
        try:
            body = jsonlib.loads(response.content)
            message = str(body.get(self.error_field) or "") if isinstance(body, dict) else ""
        except ValueError:
            message = ""
        cls = self.status_errors.get(response.status_code, Rejected)
        return cls(message or f"HTTP {response.status_code} from {url}", code=str(response.status_code))

    def local_time(self, moment: datetime) -> datetime:
        """An aware time in the platform's declared ``capabilities.timezone``."""
        return moment.astimezone(self.capabilities.timezone)

    def platform_time(self, value: str | int | float | datetime) -> datetime:
        """A platform time as an aware datetime: epoch seconds, or ISO / "YYYY-MM-DD HH:MM:SS"
        text, naive text read in the declared ``capabilities.timezone`` (``sdk.times.parse_time``)."""
        return parse_time(value, self.capabilities.timezone)

    def platform_text(self, moment: datetime) -> str:
        """``moment`` as the platform writes a time: "YYYY-MM-DD HH:MM:SS" in the declared
        ``capabilities.timezone`` (``sdk.times.format_time``), e.g. an order window's ends."""
        return format_time(moment, self.capabilities.timezone)

    @staticmethod
    def json(response: httpx.Response) -> Any:
        """Decode a JSON body; a malformed body is a transient fault (proxies truncate)."""
        try:
            return jsonlib.loads(response.content)
        except ValueError as exc:
            raise Transient(f"malformed response body from {response.request.url.path}") from exc


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
