"""WeChat Channels shop message push (消息推送): order and after-sale events to our URL.

Configured on the shop's developer page: URL ``<public_url>/intake/<channel>``,
Token, EncodingAESKey, message format JSON or XML (both are read, whichever
comes), and the mode (明文 plain or 安全 encrypted). What is checked, as WeChat documents it:

* plain mode: ``signature`` = SHA1 of the sorted concatenation of token,
  ``timestamp`` and ``nonce`` (query parameters);
* encrypted mode (when ``encoding_aes_key`` is set, plain messages are refused):
  ``msg_signature`` = SHA1 of sorted token, timestamp, nonce and the
  ``Encrypt`` field; ``Encrypt`` is AES-256-CBC (key = base64 of the 43-char
  EncodingAESKey plus "=", IV = its first 16 bytes, PKCS#7 padding to 32) of
  16 random bytes, the message length (4 bytes, big-endian), the message,
  and the appid, which must be ours;
* the URL check (GET with ``echostr``): answered with the echo (decrypted in
  encrypted mode) when the signature matches.

The answer is ``success`` within WeChat's 5 s; WeChat retries three times
otherwise, and a retry is the same message: its hash is the replay key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from channelsync.sdk.channel import Setting
from channelsync.sdk.intake import (
    Bell,
    IntakeRejected,
    IntakeRequest,
    Receiver,
    Reply,
    Verified,
)

ORDER_EVENTS = ("channels_ec_order_new", "channels_ec_order_pay", "channels_ec_order_cancel",
                "channels_ec_order_confirm", "channels_ec_order_settle", "channels_ec_aftersale_update")


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise ValueError("EncodingAESKey must be 43 characters of base64 (32 bytes)")
    return key


def decrypt(encrypted: str, key: bytes) -> tuple[bytes, str]:
    """The message and the appid inside an ``Encrypt`` field; ValueError when it is not one."""
    raw = base64.b64decode(encrypted, validate=True)
    if not raw or len(raw) % 16:
        raise ValueError("not a whole number of AES blocks")
    plain = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor().update(raw)
    pad = plain[-1]
    if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    content = plain[16:-pad]
    (length,) = struct.unpack(">I", content[:4])
    if length > len(content) - 4:
        raise ValueError("length beyond the content")
    return content[4:4 + length], content[4 + length:].decode("utf-8")


def encrypt(message: bytes, appid: str, key: bytes, random16: bytes) -> str:
    """The inverse of ``decrypt`` (the simulator sends with it)."""
    content = random16 + struct.pack(">I", len(message)) + message + appid.encode("utf-8")
    pad = 32 - len(content) % 32
    content += bytes([pad]) * pad
    return base64.b64encode(Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor().update(content)).decode()


class WechatPush(Receiver):
    kind = "webhook"
    topics = ORDER_EVENTS
    settings_schema = {
        "token": Setting(required=True, secret=True, help="the Token of the message push settings"),
        "encoding_aes_key": Setting(secret=True, help="EncodingAESKey (43 characters); set: encrypted mode only"),
        "appid": Setting(help="the shop's appid, checked inside encrypted messages"),
    }
    max_body = 64 * 1024
    deadline = 5.0

    @classmethod
    def check(cls, settings) -> dict[str, str]:
        key = settings.get("encoding_aes_key")
        try:
            if key:
                aes_key(key)
        except (ValueError, TypeError):
            return {"encoding_aes_key": "expected the 43-character EncodingAESKey from the shop's push settings"}
        return {}

    def __init__(self, channel, settings) -> None:
        super().__init__(channel, settings)
        key = self.settings.get("encoding_aes_key")
        self.key = aes_key(key) if key else None

    def verify(self, request: IntakeRequest) -> Verified:
        q = request.query
        token, timestamp, nonce = self.settings["token"], q.get("timestamp", ""), q.get("nonce", "")
        if not timestamp.isdigit() or not nonce:
            raise IntakeRejected("signature", "timestamp or nonce missing")
        sent_at = datetime.fromtimestamp(int(timestamp), timezone.utc)
        if request.method == "GET":
            return self._url_check(request, token, timestamp, nonce)
        if request.method != "POST":
            raise IntakeRejected("method", "message push is POST (GET verifies the URL)")
        if self.key is None:
            _check(q.get("signature", ""), sha1_signature(token, timestamp, nonce))
            message = request.body
        else:
            encrypted = self._field(request.body, "Encrypt")
            _check(q.get("msg_signature", ""), sha1_signature(token, timestamp, nonce, encrypted))
            message = self._open(encrypted)
        event, order_id = self._event(message)
        if event not in ORDER_EVENTS:
            return Verified([])  # product audits, coupons…: nothing an order poll would learn
        bell = Bell(hashlib.sha256(message).hexdigest(), sent_at, event, order_id)
        return Verified([bell])

    def _url_check(self, request: IntakeRequest, token: str, timestamp: str, nonce: str) -> Verified:
        echo = request.query.get("echostr", "")
        if self.key is None:
            _check(request.query.get("signature", ""), sha1_signature(token, timestamp, nonce))
            answer = echo.encode()
        else:
            _check(request.query.get("msg_signature", ""), sha1_signature(token, timestamp, nonce, echo))
            answer = self._open(echo)
        return Verified([], Reply(200, answer))

    def _open(self, encrypted: str) -> bytes:
        try:
            message, appid = decrypt(encrypted, self.key)
        except (ValueError, TypeError):
            raise IntakeRejected("signature", "the Encrypt field does not decrypt with our EncodingAESKey") from None
        if self.settings.get("appid") and appid != self.settings["appid"]:
            raise IntakeRejected("signature", "the message is for another appid")
        return message

    def _field(self, body: bytes, name: str) -> str:
        value = self._parse(body).get(name)
        if not isinstance(value, str) or not value:
            raise IntakeRejected("malformed", f"no {name} field")
        return value

    def _event(self, message: bytes) -> tuple[str, str | None]:
        data = self._parse(message)
        info = data.get("order_info") or data.get("finder_shop_aftersale_status_update") or {}
        order_id = info.get("order_id") if isinstance(info, dict) else None
        return str(data.get("Event", "")), str(order_id) if order_id is not None else None

    def _parse(self, body: bytes) -> dict:
        """A JSON object, or the <xml> document's fields as a dict (one level of nesting)."""
        try:
            if body.lstrip().startswith(b"<"):
                if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
                    raise ValueError("DTDs are not accepted")  # no entity expansion, ever
                root = ET.fromstring(body)
                return {child.tag: ({c.tag: c.text for c in child} if len(child) else child.text) for child in root}
            data = json.loads(body)
        except (ValueError, ET.ParseError):
            raise IntakeRejected("malformed", "neither a JSON object nor an <xml> document") from None
        if not isinstance(data, dict):
            raise IntakeRejected("malformed", "not a JSON object")
        return data


def _check(given: str, expected: str) -> None:
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise IntakeRejected("signature", "the signature does not match the token")
