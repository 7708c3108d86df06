"""JD message subscription (消息订阅): order messages pushed to our URL.

As implemented (the points JD's public documents leave open are listed in
README, "Intake"): JD POSTs a JSON object per message with ``app_key``,
``msg_id``, ``topic`` (``jd_order_create``, ``jd_order_pay``, …),
``timestamp`` (Beijing time, ``yyyy-MM-dd HH:mm:ss``), ``content`` (a JSON
string naming ``orderId``) and ``sign``: the JOS signature, MD5 of the app
secret + every other field sorted as ``k1v1k2v2`` + the secret, upper-case
hex (``channelsync_jd.signing``, the same as API calls). Answer: HTTP 200 with
``{"code": 0}``; anything else is redelivered, so ``msg_id`` is the replay key.
"""

from __future__ import annotations

import hmac
import json

from channelsync.sdk.channel import Setting
from channelsync.sdk.intake import (
    Bell,
    IntakeRejected,
    IntakeRequest,
    Receiver,
    Reply,
    Verified,
)
from channelsync_jd.signing import parse_timestamp, sign

ORDER_TOPICS = ("jd_order_create", "jd_order_pay", "jd_order_cancel", "jd_order_ship", "jd_order_finish",
                "jd_refund_create", "jd_refund_finish")


class JdMessages(Receiver):
    kind = "webhook"
    topics = ORDER_TOPICS
    settings_schema = {
        "app_key": Setting(required=True, help="the app key, as for the API"),
        "app_secret": Setting(required=True, secret=True, help="the app secret, as for the API"),
    }
    max_body = 64 * 1024
    deadline = 3.0

    def verify(self, request: IntakeRequest) -> Verified:
        if request.method != "POST":
            raise IntakeRejected("method", "JD messages are POST")
        try:
            message = json.loads(request.body)
        except ValueError:
            raise IntakeRejected("malformed", "not JSON") from None
        if not isinstance(message, dict) or not all(isinstance(v, (str, int)) for v in message.values()):
            raise IntakeRejected("malformed", "not a flat JSON object")
        fields = {k: str(v) for k, v in message.items()}
        if fields.get("app_key") != self.settings["app_key"]:
            raise IntakeRejected("signature", "for another app_key")
        if not hmac.compare_digest(fields.get("sign", ""), sign(fields, self.settings["app_secret"])):
            raise IntakeRejected("signature", "sign does not match")
        try:
            sent_at = parse_timestamp(fields.get("timestamp", ""))
        except ValueError:
            raise IntakeRejected("stale", "no readable timestamp") from None
        if not fields.get("msg_id"):
            raise IntakeRejected("malformed", "no msg_id")
        if fields.get("topic") not in ORDER_TOPICS:
            return Verified([])
        try:
            order_id = json.loads(fields.get("content") or "{}").get("orderId")
        except (ValueError, AttributeError):
            order_id = None
        return Verified([Bell(fields["msg_id"], sent_at, fields["topic"],
                              str(order_id) if order_id is not None else None)])

    def accepted(self, request: IntakeRequest) -> Reply:
        return Reply(200, b'{"code": 0, "msg": "success"}', "application/json")
