"""PDD's open-platform router, declared on the shared signed router.

``POST {base_url}/api/router`` with every parameter in the form body: ``type``
(the API), ``client_id``, ``access_token``, ``timestamp`` (epoch seconds),
``data_type=JSON``, ``version=V1``, ``sign`` = UPPER(MD5(client_secret +
sorted k+v + client_secret)). Failures: ``{"error_response": {"error_code",
"error_msg", "sub_code", "sub_msg", "request_id"}}``. Sources: README.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.router import SignedRouter
from channelsync_pdd import api

#: PDD's business times (``created_time``, ``updated_at``) are Beijing time.
BEIJING = timezone(timedelta(hours=8), "GMT+8")
PLAIN = "%Y-%m-%d %H:%M:%S"

#: Only 10019 (token expired) and 70031 (call frequency) are seen in public
#: code; the rest are unconfirmed stand-ins the simulator uses (README.md).
ERRORS = ErrorTable("PDD", {
    "10000": (Rejected, "参数错误 (invalid parameter)"),
    "10001": (Rejected, "缺少参数 (missing parameter)"),
    "10016": (Rejected, "client_id 不存在 (invalid client_id)"),
    "10017": (Rejected, "签名错误 (invalid signature)"),
    "10018": (Rejected, "缺少 access_token (missing access_token)"),  # configuration, not expiry
    "10019": (AuthExpired, "access_token 已过期 (access_token expired)"),
    "10020": (Rejected, "timestamp 无效 (invalid timestamp)"),
    "10021": (Rejected, "type 不存在 (unknown API)"),
    "20001": (NotFound, "商品不存在 (goods do not exist)"),
    "20002": (NotFound, "SKU 不存在 (SKU does not exist)"),
    "20003": (NotFound, "订单不存在 (order does not exist)"),
    "20004": (Rejected, "订单状态不允许 (order state does not allow this)"),
    "20005": (Rejected, "库存不足 (not enough stock for this decrease)"),
    "50000": (Transient, "系统繁忙 (system busy)"),
    "70031": (RateLimited, "调用过于频繁 (call frequency limit)"),
    "access_token_invalid": AuthExpired,
}, rate_limit_wait=1.0)


class PopRouter(SignedRouter):
    """PDD's gateway: everything in the form body, epoch-second timestamps, declared roots."""

    path = "/api/router"
    errors = ERRORS
    method_key = "type"
    app_key_key = "client_id"
    fixed = {"data_type": "JSON", "version": "V1"}
    all_in_body = True
    error_fields = ("error_code", "error_msg", "sub_code", "sub_msg")

    @classmethod
    def parse_timestamp(cls, text: str) -> datetime:
        """Epoch seconds; 13 digits are milliseconds (several SDKs send those)."""
        text = str(text).strip()
        if not text.isdigit():
            raise ValueError(f"not an epoch timestamp: {text!r}")
        return datetime.fromtimestamp(int(text) / (1000 if len(text) >= 13 else 1), timezone.utc)

    @classmethod
    def response_key(cls, method: str) -> str:
        return api.ROOTS.get(method) or super().response_key(method.removeprefix("pdd."))


def epoch(moment: datetime) -> int:
    """Epoch seconds, the form of every PDD time parameter."""
    return int(moment.timestamp())


def parse_time(text: str) -> datetime:
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time, as PDD writes times in payloads."""
    return datetime.strptime(str(text).strip(), PLAIN).replace(tzinfo=BEIJING)


def format_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(PLAIN)
