"""``channelsync ship``: tell the channel about a parcel, then record it, then read the
order back so its platform status is the platform's, not the one before the ship."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from channelsync.engine.orders import (
    find_order,
    ingest,
    mark_shipped,
    open_lines,
    parcel_lines,
)
from channelsync.sdk.errors import ChannelError, UserError
from channelsync.sdk.models import OrderLine
from channelsync.sync.lane import Lane

log = structlog.get_logger("channelsync.sync.shipping")


def ship(lane: Lane, ref: str, carrier: str, tracking_no: str, lines: Sequence[Sequence] | None = None) -> dict:
    """Ship a parcel of a paid order of this lane's channel: the platform first, then the ledger.

    ``lines``: ``[(sku, units), ...]`` for a partial parcel; none: every unit left open.
    """
    order = find_order(lane.store, ref)
    where = f"{order['channel']}:{order['external_id']}"
    if order["channel"] != lane.name:
        raise UserError(f"order {ref!r} belongs to channel {order['channel']!r}, not {lane.name!r}")
    if order["status"] not in ("paid", "shipped"):
        raise UserError(f"order {where} is {order['status']}; only paid orders ship")
    code = lane.adapter.capabilities.carrier(carrier)
    if code is None:
        known = ", ".join(sorted(lane.adapter.capabilities.carriers))
        raise UserError(f"--carrier {carrier!r}: {lane.cfg.plugin} does not know this carrier; use one of {known}")
    chosen = parcel_lines(lane.store, order, [(str(s), int(n)) for s, n in lines or ()])
    rows = {r["line_no"]: r for r in open_lines(lane.store, order["id"])}
    whole = all(chosen.get(no, 0) == r["open"] for no, r in rows.items()) and not any(
        r["shipped"] for r in rows.values())
    parcel = None if whole else [OrderLine(rows[no]["sku_code"], n, rows[no]["external_sku_id"], rows[no]["price"])
                                 for no, n in sorted(chosen.items())]
    lane.call(lambda: lane.adapter.ship_parcel(order["external_id"], code, tracking_no, parcel))
    result = mark_shipped(lane.store, lane.config, lane.cfg, order, carrier, tracking_no, chosen)
    queued = result.pushes_queued
    try:  # the platform's own status now; a failure here leaves it to the next poll
        fresh = lane.call(lambda: lane.adapter.fetch_order(order["external_id"]))
        if fresh is not None:
            queued += ingest(lane.store, lane.config, lane.cfg, [fresh], absolute=lane.absolute).pushes_queued
    except ChannelError as exc:
        log.warning("order_read_after_ship_failed", channel=lane.name, order=where, error=str(exc))
    if queued:
        lane.on_queued()
    row = find_order(lane.store, str(order["id"]))
    left = sum(r["open"] for r in open_lines(lane.store, order["id"]))
    return {"order": where, "status": row["status"], "platform_status": row["platform_status"],
            "carrier": carrier, "tracking_no": tracking_no, "units": sum(chosen.values()), "left_to_ship": left}
