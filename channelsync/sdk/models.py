"""Plain data shared by the core and plugins.

Money is integer fen; times are timezone-aware ``datetime``; quantities are ints.
A plugin translates its platform's payloads to and from these and nothing else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")


class OrderStatus(enum.StrEnum):
    """The core's order states. Plugins map platform statuses onto these (the table is
    docs/order-statuses.md). What happened to each line — refunded, shipped, returned —
    is counted on the line, not in the order's status."""

    NEW = "new"              # placed, not paid: reserves nothing
    PAID = "paid"            # reserves its open units until shipped or released
    SHIPPED = "shipped"      # the goods left: reservations became on-hand decreases
    COMPLETED = "completed"  # buyer confirmed; stock-wise the same as shipped
    CANCELLED = "cancelled"  # closed before shipment: never paid, or paid and released
    REFUNDED = "refunded"    # closed with the money back after shipment (the lines say
                             # which units; whether goods come back is ``returning``)


@dataclass(frozen=True)
class Listing:
    """One sellable SKU as a channel shows it.

    ``external_id`` is the platform's SKU id, unique within the channel
    (Taobao sku_id, JD skuId, WeChat sku_id, WooCommerce variation/product id).
    ``item_id`` is the enclosing item/product id where the platform has one.
    ``sku_code`` is the merchant code (outer_id, outerId, out_sku_id, sku) that
    links it to the master catalog; None when the seller left it empty.
    """

    external_id: str
    sku_code: str | None
    item_id: str | None = None
    quantity: int | None = None
    price: int | None = None
    on_shelf: bool = True
    title: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the token for the next (None when done)."""

    items: Sequence[T]
    next_token: str | None = None


@dataclass(frozen=True)
class StockUpdate:
    """Tell the channel a quantity.

    ``quantity`` is the absolute target; ``delta`` is target minus what the
    platform should show now. Increment-capable adapters send ``delta`` with
    ``key`` as the idempotency key (stable across retries of the same push);
    absolute-only adapters send ``quantity``. ``expected`` is what the core
    believes the platform shows, for compare-and-set adapters.
    """

    sku_code: str
    external_id: str
    item_id: str | None
    quantity: int
    delta: int
    expected: int | None
    key: str


@dataclass(frozen=True)
class PriceUpdate:
    sku_code: str
    external_id: str
    item_id: str | None
    price: int  # fen


@dataclass(frozen=True)
class ListingContent:
    """Master data for a listing push or a publish.

    ``title`` and ``description`` are the product's: item-level fields (a Taobao
    item, a JD ware, a WeChat product, a WooCommerce parent product). ``sku_title``
    is the SKU's own title, for SKU-level fields only (where the platform has them,
    ``Capabilities.sku_titles``); it never goes into an item's title.
    """

    sku_code: str
    product_code: str
    title: str
    description: str
    on_shelf: bool
    price: int | None = None
    quantity: int | None = None
    attributes: dict = field(default_factory=dict)
    external_id: str | None = None
    item_id: str | None = None
    sku_title: str | None = None


@dataclass(frozen=True)
class UpdateResult:
    """Outcome of one update inside a batch: ``error`` is None on success."""

    external_id: str
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class OrderLine:
    """One line as the platform reports it now; after-sales counts are units of this line.

    ``refunded``: units whose money went back (a refund before shipment releases them).
    ``returning``: units the buyer sends back or has sent back in an after-sale return
    (an exchange included); the core expects them until the warehouse receives them.
    ``shipped``: units that left the warehouse, where the platform says per line (None:
    the order's status says for the whole line).
    """

    sku_code: str | None
    quantity: int
    external_sku_id: str | None = None
    price: int | None = None  # fen, per unit
    refunded: int = 0
    returning: int = 0
    shipped: int | None = None


@dataclass(frozen=True)
class Parcel:
    """A parcel the platform knows of (sent from its seller centre or by us)."""

    carrier: str | None
    tracking_no: str | None
    #: what it holds, where the platform says: (external SKU id or merchant code, units)
    lines: Sequence[OrderLine] = ()


@dataclass(frozen=True)
class Order:
    """An order as the channel reports it now (the latest state wins)."""

    external_id: str
    status: OrderStatus
    created_at: datetime
    modified_at: datetime
    lines: Sequence[OrderLine]
    total: int | None = None  # fen
    platform_status: str | None = None
    #: the goods left the warehouse (the platform records a shipment), if the platform
    #: says; lets the core book a shipment it never saw as a state, e.g. before a refund
    shipped: bool | None = None
    #: the parcels the platform lists for the order (carrier and tracking number)
    parcels: Sequence[Parcel] = ()
