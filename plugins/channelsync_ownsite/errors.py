"""The one table from WooCommerce error codes to channelsync's typed errors.

WooCommerce answers errors as ``{"code": "woocommerce_rest_...", "message": ...,
"data": {"status": N}}`` with that HTTP status, and batch endpoints put the
same object under ``error`` for each refused item. 429 (a front proxy's rate
limit) and 5xx never reach this table: ``Channel.call`` types them first.

WooCommerce API keys do not expire, so nothing is "token expired" in the usual
sense. The two authentication failures a *fresh signature* cures are the OAuth
timestamp outside WooCommerce's 15-minute window and a nonce it has seen:
both become ``AuthExpired`` so the core calls ``refresh_auth()`` (which
re-synchronises the signing clock) and retries once. Every other
authentication error (wrong key, wrong secret, bad signature, read-only key)
needs a person and is ``Rejected``.
"""

from __future__ import annotations

from channelsync.sdk.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.errortable import ErrorTable

AUTH_ERROR = "woocommerce_rest_authentication_error"
MISSING_OAUTH = "woocommerce_rest_authentication_missing_parameter"
INVALID_PARAM = "rest_invalid_param"
NO_ROUTE = "rest_no_route"
TOO_LARGE = "woocommerce_rest_request_entity_too_large"
PRODUCT_INVALID_ID = "woocommerce_rest_product_invalid_id"
VARIATION_INVALID_ID = "woocommerce_rest_product_variation_invalid_id"
ORDER_INVALID_ID = "woocommerce_rest_shop_order_invalid_id"
INVALID_SKU = "product_invalid_sku"
CANNOT_VIEW = "woocommerce_rest_cannot_view"

#: WooCommerce's own wording of the two recoverable authentication failures
MSG_BAD_TIMESTAMP = "Invalid timestamp."
MSG_USED_NONCE = "Invalid nonce - nonce has already been used."

#: A proxy's 429 rarely says how long; one second is the honest default.
RATE_LIMIT_WAIT = 1.0

#: WooCommerce code -> error class. ``AUTH_ERROR`` depends on its words (``RENEWABLE``);
#: a code not listed falls back on the HTTP status (``BY_STATUS``).
ERRORS = ErrorTable("WooCommerce", {
    AUTH_ERROR: Rejected,  # consumer key/secret invalid, bad signature, no read/write permission
    MISSING_OAUTH: Rejected,
    CANNOT_VIEW: Rejected,  # no credentials accepted at all (e.g. Basic sent over plain HTTP)
    "woocommerce_rest_cannot_edit": Rejected,
    "woocommerce_rest_cannot_create": Rejected,
    "woocommerce_rest_cannot_batch": Rejected,
    PRODUCT_INVALID_ID: NotFound,
    VARIATION_INVALID_ID: NotFound,
    ORDER_INVALID_ID: NotFound,
    INVALID_PARAM: Rejected,
    "rest_missing_callback_param": Rejected,
    NO_ROUTE: Rejected,  # wrong base_url, WooCommerce inactive, or plain permalinks
    TOO_LARGE: Rejected,  # more than 100 items in one batch: a plugin bug, never retried
    INVALID_SKU: Rejected,  # "Invalid or duplicated SKU."
    "woocommerce_rest_invalid_product_type": Rejected,
    "rate_limit_exceeded": RateLimited,  # WooCommerce's own (Store API) limiter, if enabled
    "internal_server_error": Transient,
}, rate_limit_wait=RATE_LIMIT_WAIT)

#: the words of the ``AUTH_ERROR``s a fresh signature cures (the rest need a person)
RENEWABLE = ("Invalid timestamp", "Invalid nonce")

#: HTTP status -> error class, for codes the table does not know
BY_STATUS: dict[int, type[ChannelError]] = {404: NotFound, 410: NotFound, 429: RateLimited}


def error_for(code: str | None, message: str | None, status: int | None = None) -> ChannelError:
    """The typed error for a WooCommerce error object, keeping its code and message."""
    code = str(code) if code else f"http_{status or 'error'}"
    if code == AUTH_ERROR and (message or "").startswith(RENEWABLE):
        return AuthExpired(message, code=code)
    return ERRORS.error(code, message, default=BY_STATUS.get(status or 0, Rejected))
