"""WooCommerce webhooks: what the shop pushes when an order changes, and how it is verified.

WooCommerce POSTs the resource as JSON with ``X-WC-Webhook-Signature``: base64
of HMAC-SHA256 over the raw body with the webhook's secret (set on
WooCommerce > Settings > Advanced > Webhooks, one webhook per topic, delivery
URL ``<public_url>/intake/<channel>``). The signature covers the body only:
the delivery id and topic headers are not signed, so the replay key is the
body's hash and the message's age is the order's own ``date_modified_gmt``.

The ping WooCommerce sends when a webhook is saved (``webhook_id=N``, form
encoded, unsigned) is answered 200 and rings nothing, so saving the webhook
in the shop's admin succeeds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime

from channelsync.sdk.channel import Setting
from channelsync.sdk.intake import (
    Bell,
    IntakeRejected,
    IntakeRequest,
    Receiver,
    Verified,
)
from channelsync_ownsite.translate import gmt

ORDER_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
_PING = re.compile(rb"webhook_id=\d+\Z")


def signature(body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(secret, raw body)): what ``X-WC-Webhook-Signature`` carries."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


class WooWebhooks(Receiver):
    kind = "webhook"
    topics = ORDER_TOPICS
    settings_schema = {"secret": Setting(required=True, secret=True,
                                         help="the webhook's Secret, as entered in WooCommerce")}
    max_body = 512 * 1024  # an order with a few hundred lines and its meta
    deadline = 5.0         # WooCommerce's default webhook timeout (woocommerce_webhook_timeout)

    def verify(self, request: IntakeRequest) -> Verified:
        if request.method != "POST":
            raise IntakeRejected("method", "WooCommerce webhooks are POST")
        given = request.headers.get("x-wc-webhook-signature")
        if given is None:
            if _PING.match(request.body.strip()):
                return Verified([])  # the unsigned ping when a webhook is saved: say yes, ring nothing
            raise IntakeRejected("signature", "no X-WC-Webhook-Signature header")
        if not hmac.compare_digest(given.strip(), signature(request.body, self.settings["secret"])):
            raise IntakeRejected("signature", "X-WC-Webhook-Signature does not match the body")
        topic = request.headers.get("x-wc-webhook-topic", "")
        if topic not in ORDER_TOPICS:
            return Verified([])  # a product or coupon webhook: nothing an order poll would learn
        try:
            order = json.loads(request.body)
        except ValueError:
            raise IntakeRejected("malformed", "the signed body is not JSON") from None
        if not isinstance(order, dict):
            raise IntakeRejected("malformed", "the signed body is not a JSON object")
        return Verified([Bell(message_id=hashlib.sha256(request.body).hexdigest(), sent_at=_gmt(order),
                              topic=topic, order_id=str(order.get("id")) if order.get("id") is not None else None)])


def _gmt(order: dict) -> datetime | None:
    """``date_modified_gmt`` (WooCommerce writes it without a zone; it is UTC)."""
    value = order.get("date_modified_gmt") or order.get("date_created_gmt")
    try:
        return gmt(value) if isinstance(value, str) else None
    except ValueError:
        return None
