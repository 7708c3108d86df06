"""The simulator's orders: listing by modified date, status changes, notes, refunds."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from channelsync.sdk.money import fen_to_yuan
from channelsync.sim.simulator import OutOfStock, Request, Response, SimOrder, SimSku
from channelsync_ownsite import api
from channelsync_ownsite.errors import ORDER_INVALID_ID
from channelsync_ownsite.sim.wire import (
    WooError,
    choice_param,
    date_param,
    gmt_text,
    invalid_param,
    local_text,
    paged,
    seconds,
)

#: base simulator state -> WooCommerce status. WooCommerce has one fulfilment
#: status, so shipped and completed both read ``completed``; an unpaid order is ``pending``.
WOO_STATUS = {"new": api.PENDING, "paid": api.PROCESSING, "shipped": api.COMPLETED, "completed": api.COMPLETED,
              "cancelled": api.CANCELLED, "refunded": api.REFUNDED}
#: ``date_modified`` is what the adapter pages by; WooCommerce's own enum says ``modified``,
#: platforms.md writes ``date_modified``: both are accepted.
ORDERBY = ("date", "id", "include", "title", "slug", "modified", "date_modified")
NOTE = re.compile(api.SHIPMENT_NOTE_PATTERN)


class OrderRoutes:
    """Mixed into ``OwnsiteSimulator`` (which provides the base Simulator state)."""

    orders: dict[str, SimOrder]
    skus: dict[str, SimSku]
    order_notes: dict[str, list[dict[str, Any]]]
    paid_at: dict[str, datetime]
    completed_at: dict[str, datetime]
    refund_ids: dict[str, int]

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        lines = []
        for n, line in enumerate(order.lines, start=1):
            group = self.item(line.item_id) or []
            simple = self.is_simple(line.item_id, group) if group else line.external_id == line.item_id
            lines.append({
                "id": int(order.order_id) * 100 + n, "name": self.line_sku(line).title
                if line.external_id in self.skus else (line.sku_code or ""),
                "product_id": int(line.item_id), "variation_id": 0 if simple else int(line.external_id),
                "quantity": line.quantity, "sku": line.sku_code or "",
                "subtotal": fen_to_yuan(line.price * line.quantity), "total": fen_to_yuan(line.price * line.quantity),
                "price": line.price / 100,  # WooCommerce sends the unit price as a JSON number
            })
        paid, completed = self.paid_at.get(order.order_id), self.completed_at.get(order.order_id)
        return {
            "id": int(order.order_id), "parent_id": 0, "number": order.order_id, "status": WOO_STATUS[order.status],
            "currency": "CNY", "created_via": "checkout", "payment_method": "alipay",
            "date_created": local_text(order.created_at), "date_created_gmt": gmt_text(order.created_at),
            "date_modified": local_text(order.modified_at), "date_modified_gmt": gmt_text(order.modified_at),
            "date_paid": local_text(paid), "date_paid_gmt": gmt_text(paid),
            "date_completed": local_text(completed), "date_completed_gmt": gmt_text(completed),
            "total": fen_to_yuan(order.total), "line_items": lines,
            # WooCommerce lists an order's refunds by id and amount; their lines are in orders/{id}/refunds
            "refunds": [{"id": int(case.aftersale_id), "reason": "",
                         "total": fen_to_yuan(-self._refund_total(order, case))}
                        for case in order.aftersales if case.kind != "exchange"],
        }

    def order(self, order_id: str) -> SimOrder:
        order = self.orders.get(str(order_id))
        if order is None:
            raise WooError(404, ORDER_INVALID_ID, "Invalid ID.")
        return order

    def list_orders(self, req: Request) -> Response:
        orderby = choice_param(req, "orderby", "date", ORDERBY)
        order_dir = choice_param(req, "order", "desc", ("asc", "desc"))
        statuses = {s for s in (req.query.get("status") or "any").split(",") if s}
        bad = statuses - {"any", *api.ORDER_STATUSES}
        if bad:
            raise invalid_param("status", f"status[0] is not one of any, {', '.join(api.ORDER_STATUSES)}.")
        windows = {name: date_param(req, name) for name in ("modified_after", "modified_before", "after", "before")}
        with self.lock:
            rows = []
            for order in self.orders.values():
                modified, created = seconds(order.modified_at), seconds(order.created_at)
                if "any" not in statuses and WOO_STATUS[order.status] not in statuses:
                    continue
                # WordPress date queries compare whole seconds and exclude both bounds
                if not _inside(modified, windows["modified_after"], windows["modified_before"]):
                    continue
                if not _inside(created, windows["after"], windows["before"]):
                    continue
                rows.append((modified, created, order))
            key = {"modified": lambda r: (r[0], int(r[2].order_id)), "date_modified": lambda r: (r[0], int(r[2].order_id)),
                   "date": lambda r: (r[1], int(r[2].order_id))}.get(orderby, lambda r: int(r[2].order_id))
            rows.sort(key=key, reverse=order_dir == "desc")
            return paged(req, [self.order_json(r[2]) for r in rows])

    def get_order(self, req: Request, order_id: str) -> Response:
        with self.lock:
            return Response(200, self.order_json(self.order(order_id)))

    def update_order(self, req: Request, order_id: str) -> Response:
        """Status changes the sandbox models; the shipment note carries carrier and tracking."""
        fields = self.body(req)
        status = fields.get("status") if isinstance(fields, dict) else None
        with self.lock:
            order = self.order(order_id)
            if status is None:
                return Response(200, self.order_json(order))
            if status not in api.ORDER_STATUSES:
                raise invalid_param("status", f"status is not one of {', '.join(api.ORDER_STATUSES)}.")
            current = WOO_STATUS[order.status]
            try:
                if status == current:
                    pass  # setting the status it has changes nothing (a retried ship lands here)
                elif status == api.COMPLETED and order.status == "paid":
                    carrier, tracking = self._shipment_from_notes(order_id)
                    self.ship(order_id, carrier or "", tracking or "")
                elif status == api.CANCELLED and order.status in ("new", "paid"):
                    self.cancel(order_id)
                elif status == api.REFUNDED and order.status in ("paid", "shipped", "completed"):
                    self.refund(order_id)
                elif status == api.PROCESSING and order.status == "new":
                    self.pay(order_id)
                else:
                    raise WooError(400, "woocommerce_rest_shop_order_invalid_status",
                                   f"The sandbox does not move an order from {current} to {status}.")
            except OutOfStock as exc:
                raise WooError(400, "woocommerce_rest_shop_order_invalid_status", str(exc)) from None
            return Response(200, self.order_json(order))

    def list_notes(self, req: Request, order_id: str) -> Response:
        with self.lock:
            self.order(order_id)
            return Response(200, list(reversed(self.order_notes.get(order_id, []))))

    def create_note(self, req: Request, order_id: str) -> Response:
        fields = self.body(req)
        note = fields.get("note") if isinstance(fields, dict) else None
        if not note:
            raise WooError(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
        if not isinstance(note, str):
            raise invalid_param("note", "note is not of type string.")
        with self.lock:
            order = self.order(order_id)
            now = self.now()
            entry = {"id": int(self.new_id()), "author": "WooCommerce", "date_created": local_text(now),
                     "date_created_gmt": gmt_text(now), "note": note,
                     "customer_note": bool(fields.get("customer_note", False))}
            self.order_notes.setdefault(order_id, []).append(entry)
            order.notes.append(note)
            match = NOTE.search(note)
            if match and order.status in ("shipped", "completed"):  # a corrected tracking number
                order.carrier, order.tracking_no = match["carrier"], match["tracking_no"]
            return Response(201, entry)

    def list_refunds(self, req: Request, order_id: str) -> Response:
        """One refund per after-sale case of the base (WooCommerce has no exchanges: those
        are not shown), newest first, each with the line and the units it refunds."""
        with self.lock:
            order = self.order(order_id)
            rows = []
            for case in reversed([c for c in order.aftersales if c.kind != "exchange"]):
                n = next(i for i, ln in enumerate(order.lines, start=1) if ln.external_id == case.external_id)
                line = order.lines[n - 1]
                rows.append({
                    "id": int(case.aftersale_id), "date_created": local_text(case.created_at),
                    "date_created_gmt": gmt_text(case.created_at), "amount": fen_to_yuan(
                        self._refund_total(order, case)), "reason": "", "refunded_by": 1, "refunded_payment": True,
                    "line_items": [{"id": int(case.aftersale_id) * 10 + 1, "product_id": int(line.item_id),
                                    "variation_id": 0 if line.external_id == line.item_id else int(line.external_id),
                                    "sku": line.sku_code or "", "quantity": -case.quantity,
                                    "total": fen_to_yuan(-line.price * case.quantity)}]})
            return Response(200, rows)

    @staticmethod
    def _refund_total(order: SimOrder, case: Any) -> int:
        return order.line(case.external_id).price * case.quantity

    def _shipment_from_notes(self, order_id: str) -> tuple[str | None, str | None]:
        for entry in reversed(self.order_notes.get(order_id, [])):
            match = NOTE.search(entry["note"])
            if match:
                return match["carrier"], match["tracking_no"]
        return None, None


def _inside(moment: datetime, after: datetime | None, before: datetime | None) -> bool:
    return (after is None or moment > seconds(after)) and (before is None or moment < seconds(before))
