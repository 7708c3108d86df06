"""TOP request signing and timestamps, shared by the client and the simulator.

Signing (platforms.md, "Taobao / Tmall — TOP router API"): every parameter
except ``sign`` — query and body alike — with empty values dropped, sorted by
key, concatenated ``key + value`` with no separators, then

* ``md5``: MD5(secret + s + secret)
* ``hmac``: HMAC-MD5(key=secret, s)
* ``hmac-sha256``: HMAC-SHA256(key=secret, s)

over UTF-8 bytes, upper-case hex.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Mapping

#: TOP timestamps and every time in its payloads are Beijing time.
BEIJING = timezone(timedelta(hours=8), "GMT+8")
PLAIN = "%Y-%m-%d %H:%M:%S"


def signing_string(params: Mapping[str, object]) -> str:
    """The sorted ``k1v1k2v2...`` string the signature covers."""
    return "".join(f"{key}{value}" for key, value in sorted(params.items())
                   if key != "sign" and value not in (None, ""))


def sign(params: Mapping[str, object], secret: str, sign_method: str = "md5") -> str:
    """The ``sign`` value for ``params`` with ``sign_method`` (md5 | hmac | hmac-sha256)."""
    text = signing_string(params).encode("utf-8")
    key = secret.encode("utf-8")
    if sign_method == "md5":
        digest = hashlib.md5(key + text + key).hexdigest()
    elif sign_method == "hmac":
        digest = hmac.new(key, text, hashlib.md5).hexdigest()
    elif sign_method == "hmac-sha256":
        digest = hmac.new(key, text, hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"unknown sign_method {sign_method!r} (expected md5, hmac or hmac-sha256)")
    return digest.upper()


def format_time(moment: datetime) -> str:
    """``2016-01-01 12:00:00`` in Beijing time: timestamps and business times alike."""
    return moment.astimezone(BEIJING).strftime(PLAIN)


def format_millis(moment: datetime) -> str:
    """Epoch milliseconds, as the official Python SDK sends ``timestamp``."""
    return str(int(moment.timestamp() * 1000))


def parse_time(text: str) -> datetime:
    """A TOP time: ``yyyy-MM-dd HH:mm:ss`` (Beijing) or epoch milliseconds. ValueError otherwise."""
    text = str(text).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, timezone.utc)
    return datetime.strptime(text, PLAIN).replace(tzinfo=BEIJING)
