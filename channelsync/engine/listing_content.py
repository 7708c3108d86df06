"""What a listing should say: the master data a listing push or a publish sends, and the
one shelf rule. Reads only (``listings`` writes the table); split from ``listings`` so
that module stays the one writer and within its size."""

from __future__ import annotations

import json

from channelsync.config.settings import ChannelConfig, Config
from channelsync.engine import inventory, pricing
from channelsync.sdk.models import ListingContent
from channelsync.store import Store, utcnow


def content(store: Store, config: Config, cfg: ChannelConfig, sku_code: str,
            listing: dict | None = None) -> ListingContent | None:
    """The master data a listing push or a publish sends (None: no such SKU): the
    product's title and description, the SKU's own title apart."""
    row = store.one(
        "SELECT s.code, s.product_code, s.title AS sku_title, s.attributes, s.status AS sku_status, "
        "p.title, p.description, p.status FROM skus s JOIN products p ON p.code = s.product_code WHERE s.code = ?",
        (sku_code,))
    if row is None:
        return None
    on_shelf = shelf_rule(row["sku_status"], row["status"])
    decision = pricing.price_for(store, config, cfg, sku_code, utcnow())
    return ListingContent(
        sku_code=sku_code, product_code=row["product_code"], title=row["title"], sku_title=row["sku_title"],
        description=row["description"], on_shelf=on_shelf, price=decision.price if decision else None,
        quantity=inventory.channel_target(store, cfg, sku_code), attributes=json.loads(row["attributes"]),
        external_id=listing["external_id"] if listing else None, item_id=listing["item_id"] if listing else None)


def same_item(store: Store, channel: str, sku_code: str, item_id: str | None, product_code: str) -> list[str]:
    """The other SKUs of ``product_code`` listed on the same platform item as ``sku_code``."""
    if item_id is None:
        return []
    rows = store.query("SELECT l.sku_code FROM listings l JOIN skus s ON s.code = l.sku_code WHERE l.channel = ? "
                       "AND l.item_id = ? AND l.sku_code != ? AND s.product_code = ?",
                       (channel, item_id, sku_code, product_code))
    return [r["sku_code"] for r in rows]


def wanted_on_shelf(store: Store, sku_code: str) -> bool:
    """Whether the SKU's listing belongs on the shelf now (False for an unknown SKU)."""
    row = store.one("SELECT s.status AS sku_status, p.status FROM skus s JOIN products p ON p.code = s.product_code "
                    "WHERE s.code = ?", (sku_code,))
    return row is not None and shelf_rule(row["sku_status"], row["status"])


def shelf_rule(sku_status: str, product_status: str) -> bool:
    """The one shelf rule: on while the SKU and its product are both active."""
    return sku_status == "active" and product_status == "active"
