"""TMC, as the simulator imitates it: trade messages held for the app's connected client.

Served on the simulator's own address under ``/tmc/`` (the real TMC is its own
host and speaks binary frames over a WebSocket; see the plugin README):
``GET /tmc/poll`` (signed connect parameters, ``wait`` seconds held open) answers
``{"messages": [...]}``; ``POST /tmc/confirm`` (signed, ``ids``) removes them.
Messages taken and not confirmed are delivered again at the next poll, as TMC does.
"""

from __future__ import annotations

import json
import time
import uuid

from channelsync.sim.notify import Messages, Outgoing
from channelsync.sim.types import Response
from channelsync_taobao.signing import format_time, sign

_TOPICS = {"created": "taobao_trade_TradeCreate", "paid": "taobao_trade_TradeBuyerPay",
           "cancelled": "taobao_trade_TradeClose", "refunded": "taobao_refund_RefundSuccess",
           "shipped": "taobao_trade_TradeSellerShip", "completed": "taobao_trade_TradeSuccess"}


class TmcMessages(Messages):
    held = True
    held_path = "/tmc/"

    def settings(self, base_url=""):
        from channelsync_taobao.sim.gateway import APP_KEY, APP_SECRET

        return {"app_key": APP_KEY, "app_secret": APP_SECRET, "group_name": "default", "tmc_url": base_url}

    def build(self, sim, event, order, settings):
        msg_id = uuid.uuid4().hex
        content = json.dumps({"tid": int(order.order_id), "status": order.status})
        body = json.dumps({"id": msg_id, "topic": _TOPICS[event], "pub_time": format_time(sim.now()),
                           "user_id": 1, "content": content}).encode()
        return Outgoing(body, message_id=msg_id)

    def forge(self, out):
        return None  # TMC messages reach only the signed-in client: a forgery cannot be delivered

    def serve(self, sim, req):
        from channelsync_taobao.sim.gateway import APP_KEY, APP_SECRET

        params = dict(req.query) if req.method == "GET" else req.form
        try:
            fresh = abs(time.time() - int(params.get("timestamp", "0")) / 1000) < 600
        except ValueError:
            fresh = False
        signed = {k: params[k] for k in ("app_key", "group_name", "timestamp") if k in params}  # the connect part
        if params.get("app_key") != APP_KEY or not fresh or params.get("sign") != sign(signed, APP_SECRET, "md5"):
            return Response(401, {"error": "invalid signature, app_key or timestamp"})
        if sim.held is None:
            return Response(200, {"messages": []})
        if req.path == "/tmc/poll" and req.method == "GET":
            sim.held.redeliver()  # what the last poll took and did not confirm
            wait = min(float(params.get("wait", "10")), 30.0)
            return Response(200, {"messages": [json.loads(o.body) for o in sim.held.take(wait)]})
        if req.path == "/tmc/confirm" and req.method == "POST":
            sim.held.confirm([i for i in params.get("ids", "").split(",") if i])
            return Response(200, {"confirmed": True})
        return Response(404, {"error": f"no TMC route {req.method} {req.path}"})
