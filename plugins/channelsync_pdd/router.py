"""PDD's router on the shared signed router: ``POST {base_url}/api/router``, every parameter
in the form body, ``type`` names the API, epoch-second timestamps, ``sign`` =
UPPER(MD5(client_secret + sorted k+v + client_secret)), failures in ``error_response``
(``error_code``, ``error_msg``, ``sub_code``, ``sub_msg``). Sources: README.md."""

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.router import SignedRouter
from channelsync_pdd import api

#: 10019 and 70031 are seen in public code; the rest are unconfirmed stand-ins (README.md)
ERRORS = ErrorTable("PDD", {
    "10000": (Rejected, "参数错误 invalid parameter"), "10001": (Rejected, "缺少参数 missing parameter"),
    "10016": (Rejected, "client_id 不存在 invalid client_id"), "10017": (Rejected, "签名错误 invalid signature"),
    "10018": (Rejected, "缺少 access_token"), "10019": (AuthExpired, "access_token 已过期 expired"),
    "access_token_invalid": AuthExpired, "10020": (Rejected, "timestamp 无效 invalid timestamp"),
    "10021": (Rejected, "type 不存在 unknown API"), "20001": (NotFound, "商品不存在 no such goods"),
    "20002": (NotFound, "SKU 不存在 no such SKU"), "20003": (NotFound, "订单不存在 no such order"),
    "20004": (Rejected, "订单状态不允许 wrong order state"), "20005": (Transient, "库存不足 stock too low"),
    "50000": (Transient, "系统繁忙 system busy"), "70031": (RateLimited, "调用过于频繁 call frequency limit"),
}, unapplied=("20005",))  # a decrease below zero: a sale came first; retried later, computed afresh


class PopRouter(SignedRouter):
    path, errors, method_key, app_key_key = "/api/router", ERRORS, "type", "client_id"
    fixed = {"data_type": "JSON", "version": "V1"}
    all_in_body = True
    error_fields = ("error_code", "error_msg", "sub_code", "sub_msg")

    @classmethod
    def response_key(cls, method: str) -> str:
        return api.ROOTS.get(method) or super().response_key(method.removeprefix("pdd."))
