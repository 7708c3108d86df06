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

import json as jsonlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, Iterable, Literal, Mapping, Sequence

import httpx

from channelsync.sdk.errors import AuthExpired, RateLimited, Rejected, Transient
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
    """

    stock_mode: Literal["increment", "absolute", "compare_and_set"] = "absolute"
    idempotency_keys: bool = False
    stock_batch_size: int = 1
    price_batch_size: int = 1
    listing_page_size: int = 50
    order_page_size: int = 100
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

    def __init__(self, name: str, settings: Mapping[str, Any], http: httpx.Client | None = None) -> None:
        self.name = name
        # schema defaults first, so an adapter can rely on every declared key being present
        self.settings = {key: spec.default for key, spec in self.settings_schema.items()} | dict(settings)
        self.http = http
        #: set by the core: persists what ``save_credentials`` is given
        self.credential_sink: Callable[[dict[str, str]], None] | None = None

    # --- listings --------------------------------------------------------
    def list_listings(self, page_token: str | None) -> Page[Listing]:
        """One page of the channel's SKU listings, and the token for the next."""
        raise NotImplementedError

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
        ``capabilities.max_order_window`` (the core splits longer ones)."""
        raise NotImplementedError

    def fetch_refunds(self, since: datetime, until: datetime, page_token: str | None) -> Page[Order]:
        """Orders whose refunds changed in the window, in their current state.
        Platforms whose order status already shows refunds keep this default."""
        return Page([], None)

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
        """Called by the core after ``AuthExpired``; the call is then retried once."""

    def save_credentials(self, values: Mapping[str, str]) -> None:
        """Call after renewing credentials (a new session, access or refresh token): the
        core keeps them across restarts and puts them in ``self.settings`` at start-up."""
        self.settings.update(values)
        if self.credential_sink is not None:
            self.credential_sink(dict(values))

    def token_expires_at(self) -> datetime | None:
        """When the current access token expires, if the platform says (for ``status``)."""
        return None

    @classmethod
    def simulator(cls, **options: Any) -> WSGIApp:
        """A WSGI app imitating the platform, with the control API of ``channelsync.sim.Simulator``."""
        raise NotImplementedError

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
        return response

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
