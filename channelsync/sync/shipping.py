"""``channelsync ship``: tell the channel, then record the shipment like an ingested state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from channelsync.sync import retry
from channelsync.sdk.errors import UserError
from channelsync.engine.orders import mark_shipped
from channelsync.store import Store

if TYPE_CHECKING:
    from channelsync.sync.runner import ChannelRunner


def find_order(store: Store, ref: str) -> dict:
    """An order by internal id, ``channel:external_id`` or an external id unique across channels."""
    if ref.isdigit():
        row = store.one("SELECT * FROM orders WHERE id = ?", (int(ref),))
        if row:
            return row
    if ":" in ref:
        channel, _, external = ref.partition(":")
        row = store.one("SELECT * FROM orders WHERE channel = ? AND external_id = ?", (channel, external))
        if row:
            return row
    rows = store.query("SELECT * FROM orders WHERE external_id = ?", (ref,))
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise UserError(f"order {ref!r} exists on several channels ({', '.join(r['channel'] for r in rows)}); "
                        f"say CHANNEL:{ref}")
    raise UserError(f"no order {ref!r} (see `channelsync orders list`)")


def ship(runner: "ChannelRunner", ref: str, carrier: str, tracking_no: str) -> dict:
    order = find_order(runner.store, ref)
    if order["channel"] != runner.name:
        raise UserError(f"order {ref!r} belongs to channel {order['channel']!r}, not {runner.name!r}")
    if order["status"] != "paid":
        raise UserError(f"order {order['channel']}:{order['external_id']} is {order['status']}; only paid orders ship")
    channel = runner.channel
    retry.call(lambda: channel.ship(order["external_id"], carrier, tracking_no),
               refresh_auth=channel.refresh_auth, bucket=runner.bucket)
    result = mark_shipped(runner.store, runner.config, runner.cfg, order, carrier, tracking_no,
                          absolute=runner.absolute)
    if result.pushes_queued:
        runner.on_queued()
    return {"order": f"{order['channel']}:{order['external_id']}", "status": "shipped", "carrier": carrier,
            "tracking_no": tracking_no}
