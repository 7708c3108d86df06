"""Taobao message service (TMC, 消息服务): a long-lived client connection that we keep.

TMC does not call us: the app connects to the message server with its app key,
a group name, a timestamp and a signature (TOP's: MD5 of secret + sorted
``k1v1k2v2`` + secret, upper-case hex), the server streams the messages of the
topics the app subscribed to (``taobao_trade_TradeBuyerPay``, …), and the app
confirms each one; unconfirmed messages are delivered again (so duplicates are
normal: the message id is the replay key). ``pub_time`` is Beijing time.

What is NOT the real wire protocol (see README, "Intake"): the production TMC
speaks its own binary frames over a WebSocket (``ws://mc.api.taobao.com/``).
This receiver speaks the same exchange — signed connect, message batches,
confirm — as JSON over HTTP long polls (``GET /tmc/poll`` holding up to
``poll_wait`` seconds, ``POST /tmc/confirm``), which the simulator serves.
The core keeps it connected and reconnects with back-off.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Callable

import httpx

from channelsync.sdk.channel import Setting
from channelsync.sdk.intake import Bell, Receiver
from channelsync_taobao.signing import parse_time, sign

TRADE_TOPICS = ("taobao_trade_TradeCreate", "taobao_trade_TradeBuyerPay", "taobao_trade_TradeClose",
                "taobao_trade_TradeSellerShip", "taobao_trade_TradeSuccess", "taobao_refund_RefundCreated",
                "taobao_refund_RefundSuccess", "taobao_refund_RefundClosed")


def connect_params(app_key: str, secret: str, group: str, now: datetime | None = None) -> dict[str, str]:
    """The signed connect parameters (timestamp in milliseconds, as TMC takes it)."""
    now = now or datetime.now(timezone.utc)
    params = {"app_key": app_key, "group_name": group, "timestamp": str(int(now.timestamp() * 1000))}
    return params | {"sign": sign(params, secret, "md5")}


class TmcListener(Receiver):
    kind = "listener"
    topics = TRADE_TOPICS
    settings_schema = {
        "tmc_url": Setting(required=True, help="the message server (the sandbox: the Taobao simulator's URL)"),
        "app_key": Setting(required=True, help="the app key, as for the API"),
        "app_secret": Setting(required=True, secret=True, help="the app secret, as for the API"),
        "group_name": Setting(default="default", help="the TMC user group the shop's messages go to"),
        "poll_wait": Setting(type=float, default=10.0, help="seconds one poll is held open"),
    }
    max_body = 1024 * 1024  # a batch of messages
    deadline = 60.0

    def listen(self, http: httpx.Client, deliver: Callable[[list[Bell]], None], stop: threading.Event) -> None:
        s, base = self.settings, self.settings["tmc_url"].rstrip("/")
        connected = False
        while not stop.is_set():
            params = connect_params(s["app_key"], s["app_secret"], s["group_name"])
            response = http.get(f"{base}/tmc/poll", params=params | {"wait": str(s["poll_wait"])},
                                timeout=httpx.Timeout(10.0, read=float(s["poll_wait"]) + 20.0))
            if response.status_code != 200:
                raise ConnectionError(f"TMC answered HTTP {response.status_code}: {response.text[:120]}")
            if len(response.content) > self.max_body:
                raise ConnectionError("TMC sent a batch larger than max_body")
            if not connected:
                deliver([])  # the connection is up
                connected = True
            messages = json.loads(response.content).get("messages") or []
            bells = [b for b in map(_bell, messages) if b is not None]
            if bells:
                deliver(bells)
            if messages:
                ids = ",".join(str(m.get("id")) for m in messages if isinstance(m, dict))
                http.post(f"{base}/tmc/confirm",
                          data=connect_params(s["app_key"], s["app_secret"], s["group_name"]) | {"ids": ids})


def _bell(message: object) -> Bell | None:
    if not isinstance(message, dict) or message.get("id") in (None, "") or message.get("topic") not in TRADE_TOPICS:
        return None
    try:
        sent_at = parse_time(str(message.get("pub_time")))
    except ValueError:
        sent_at = None
    try:
        content = json.loads(message.get("content") or "{}")
    except (TypeError, ValueError):
        content = {}
    tid = content.get("tid") if isinstance(content, dict) else None
    return Bell(str(message["id"]), sent_at, message["topic"], str(tid) if tid is not None else None)
