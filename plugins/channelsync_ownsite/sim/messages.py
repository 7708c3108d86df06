"""The webhooks a WooCommerce shop sends when an order changes (``channelsync.sim.notify``)."""

from __future__ import annotations

import json
import uuid
from datetime import timezone

from channelsync.sim.notify import Messages, Outgoing
from channelsync_ownsite.intake import signature

SANDBOX_WEBHOOK_SECRET = "sandbox-woo-webhook-secret"
_WOO_STATUS = {"new": "pending", "paid": "processing", "shipped": "completed", "completed": "completed",
               "cancelled": "cancelled", "refunded": "refunded"}


class WooWebhookMessages(Messages):
    def settings(self, base_url=""):
        return {"secret": SANDBOX_WEBHOOK_SECRET}

    def build(self, sim, event, order, settings):
        # an order paid at checkout is announced once, as order.created; later changes as order.updated
        created = event == "created" or (event == "paid" and (order.modified_at - order.created_at).total_seconds() < 1)
        topic = "order.created" if created else "order.updated"
        naive = lambda t: t.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")  # noqa: E731
        body = json.dumps({"id": int(order.order_id), "status": _WOO_STATUS.get(order.status, order.status),
                           "date_created_gmt": naive(order.created_at), "date_modified_gmt": naive(sim.now()),
                           "line_items": [{"sku": ln.sku_code, "quantity": ln.quantity} for ln in order.lines]
                           }).encode()
        return Outgoing(body, {"Content-Type": "application/json", "X-WC-Webhook-Source": "http://sandbox.shop/",
                               "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": "order",
                               "X-WC-Webhook-Event": topic.split(".")[1], "X-WC-Webhook-ID": "1",
                               "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
                               "X-WC-Webhook-Signature": signature(body, settings["secret"])},
                        message_id=f"{order.order_id}:{event}")
