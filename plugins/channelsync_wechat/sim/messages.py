"""The messages a WeChat Channels shop pushes on order events, plain or encrypted."""

from __future__ import annotations

import json
import os
import secrets

from channelsync.sim.notify import Messages, Outgoing
from channelsync_wechat.intake import aes_key, encrypt, sha1_signature

SANDBOX_PUSH_TOKEN = "sandbox-wechat-push-token"
SANDBOX_AES_KEY = "c2FuZGJveC13ZWNoYXQtZW5jb2RpbmctYWVzLWtleTE"  # 43 chars: base64 of 32 sandbox bytes
_EVENTS = {"created": "channels_ec_order_new", "paid": "channels_ec_order_pay",
           "cancelled": "channels_ec_order_cancel", "refunded": "channels_ec_aftersale_update",
           "shipped": "channels_ec_order_confirm", "completed": "channels_ec_order_settle"}


class WechatPushMessages(Messages):
    def __init__(self, encrypted: bool = True) -> None:
        self.encrypted = encrypted

    def settings(self, base_url=""):
        from channelsync_wechat.sim.gateway import APPID

        base = {"token": SANDBOX_PUSH_TOKEN, "appid": APPID}
        return base | ({"encoding_aes_key": SANDBOX_AES_KEY} if self.encrypted else {})

    def build(self, sim, event, order, settings):
        ts = str(int(sim.now().timestamp()))
        nonce = secrets.token_hex(8)
        info_key = "finder_shop_aftersale_status_update" if event == "refunded" else "order_info"
        message = json.dumps({"ToUserName": "gh_sandbox", "FromUserName": "sandbox-openid", "CreateTime": int(ts),
                              "MsgType": "event", "Event": _EVENTS[event],
                              info_key: {"order_id": int(order.order_id), "status": order.status}}).encode()
        query = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(settings["token"], ts, nonce)}
        if settings.get("encoding_aes_key"):
            enc = encrypt(message, settings.get("appid", ""), aes_key(settings["encoding_aes_key"]), os.urandom(16))
            query |= {"encrypt_type": "aes", "msg_signature": sha1_signature(settings["token"], ts, nonce, enc)}
            message = json.dumps({"ToUserName": "gh_sandbox", "Encrypt": enc}).encode()
        return Outgoing(message, {"Content-Type": "application/json"}, query, f"{order.order_id}:{event}")

    def forge(self, out):
        # in plain mode WeChat signs only token, timestamp and nonce: a forgery is a wrong signature
        query = dict(out.query) | {k: "0" * 40 for k in ("signature", "msg_signature") if k in out.query}
        return Outgoing(out.body, dict(out.headers), query, out.message_id + "-forged")
