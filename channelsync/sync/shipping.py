"""``channelsync ship``: tell the channel, then record the shipment like an ingested state."""

from __future__ import annotations

from channelsync.engine.orders import find_order, mark_shipped
from channelsync.sdk.errors import UserError
from channelsync.sync.lane import Lane


def ship(lane: Lane, ref: str, carrier: str, tracking_no: str) -> dict:
    """Ship a paid order of this lane's channel: the platform first, then the ledger."""
    order = find_order(lane.store, ref)
    if order["channel"] != lane.name:
        raise UserError(f"order {ref!r} belongs to channel {order['channel']!r}, not {lane.name!r}")
    if order["status"] != "paid":
        raise UserError(f"order {order['channel']}:{order['external_id']} is {order['status']}; only paid orders ship")
    code = lane.adapter.capabilities.carrier(carrier)
    if code is None:
        known = ", ".join(sorted(lane.adapter.capabilities.carriers))
        raise UserError(f"--carrier {carrier!r}: {lane.cfg.plugin} does not know this carrier; use one of {known}")
    lane.call(lambda: lane.adapter.ship(order["external_id"], code, tracking_no))
    result = mark_shipped(lane.store, lane.config, lane.cfg, order, carrier, tracking_no, absolute=lane.absolute)
    if result.pushes_queued:
        lane.on_queued()
    return {"order": f"{order['channel']}:{order['external_id']}", "status": "shipped", "carrier": carrier,
            "tracking_no": tracking_no}
