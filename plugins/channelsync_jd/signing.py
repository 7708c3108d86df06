"""JOS request signing and timestamps, shared by the client and the simulator.

Signing (platforms.md, "JD — JOS router API"): every parameter except
``sign`` — ``360buy_param_json`` included, where it sorts first — sorted by
key, concatenated ``key + value`` with no separators, wrapped in the app
secret on both sides, MD5 over the UTF-8 bytes, upper-case hex.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Mapping

#: JD's gateway and its order/listing times are Beijing time.
BEIJING = timezone(timedelta(hours=8), "GMT+8")

#: what the official SDKs send: milliseconds and zone
SDK_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f%z"
#: what the documentation shows, and the format of times in JD payloads
PLAIN_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def sign(params: Mapping[str, str | None], secret: str) -> str:
    """UPPER(MD5(secret + k1v1k2v2... + secret)) over every parameter but ``sign``.

    Empty values are left out (client and simulator agree on this; a JOS
    client never sends an empty system parameter).
    """
    body = "".join(f"{key}{value}" for key, value in sorted(params.items())
                   if key != "sign" and value not in (None, ""))
    return hashlib.md5(f"{secret}{body}{secret}".encode("utf-8")).hexdigest().upper()


def format_timestamp(moment: datetime) -> str:
    """``2021-05-07 09:20:39.683+0800``: the SDKs' form, in Beijing time."""
    local = moment.astimezone(BEIJING)
    return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def format_plain(moment: datetime) -> str:
    """``2021-05-07 09:20:39`` in Beijing time (business parameters such as order dates)."""
    return moment.astimezone(BEIJING).strftime(PLAIN_TIMESTAMP)


def parse_timestamp(text: str) -> datetime:
    """Either accepted form; a time without a zone is Beijing time. ValueError otherwise."""
    text = text.strip()
    for fmt in (SDK_TIMESTAMP, "%Y-%m-%d %H:%M:%S%z", PLAIN_TIMESTAMP, "%Y-%m-%d %H:%M:%S.%f"):
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)
    raise ValueError(f"not a JOS timestamp: {text!r}")
