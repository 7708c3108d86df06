"""The order messages JD pushes to a subscribed app's URL (as the plugin README describes them)."""

from __future__ import annotations

import json
import uuid

from channelsync.sdk.router import sign
from channelsync.sim.notify import Messages, Outgoing
from channelsync.sdk.times import BEIJING, format_time

_TOPICS = {"created": "jd_order_create", "paid": "jd_order_pay", "cancelled": "jd_order_cancel",
           "refunded": "jd_refund_finish", "shipped": "jd_order_ship", "completed": "jd_order_finish"}


class JdMessagesSent(Messages):
    def settings(self, base_url=""):
        from channelsync_jd.sim.gateway import APP_KEY, APP_SECRET

        return {"app_key": APP_KEY, "app_secret": APP_SECRET}

    def build(self, sim, event, order, settings):
        fields = {"app_key": settings["app_key"], "msg_id": uuid.uuid4().hex, "topic": _TOPICS[event],
                  "timestamp": format_time(sim.now(), BEIJING),
                  "content": json.dumps({"orderId": int(order.order_id), "status": order.status})}
        fields["sign"] = sign(fields, settings["app_secret"])
        return Outgoing(json.dumps(fields).encode(), {"Content-Type": "application/json"}, {}, fields["msg_id"])

    def forge(self, out):
        fields = json.loads(out.body) | {"sign": "0" * 32}
        return Outgoing(json.dumps(fields).encode(), dict(out.headers), {}, out.message_id + "-forged")
