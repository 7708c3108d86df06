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

#: (code, message prefix or None for any message) -> error class.
#: The most specific key wins; a code not listed falls back on the HTTP status.
ERRORS: dict[tuple[str, str | None], type[ChannelError]] = {
    (AUTH_ERROR, "Invalid timestamp"): AuthExpired,
    (AUTH_ERROR, "Invalid nonce"): AuthExpired,
    (AUTH_ERROR, None): Rejected,  # consumer key/secret invalid, bad signature, no read/write permission
    (MISSING_OAUTH, None): Rejected,
    (CANNOT_VIEW, None): Rejected,  # no credentials accepted at all (e.g. Basic sent over plain HTTP)
    ("woocommerce_rest_cannot_edit", None): Rejected,
    ("woocommerce_rest_cannot_create", None): Rejected,
    ("woocommerce_rest_cannot_batch", None): Rejected,
    (PRODUCT_INVALID_ID, None): NotFound,
    (VARIATION_INVALID_ID, None): NotFound,
    (ORDER_INVALID_ID, None): NotFound,
    (INVALID_PARAM, None): Rejected,
    ("rest_missing_callback_param", None): Rejected,
    (NO_ROUTE, None): Rejected,  # wrong base_url, WooCommerce inactive, or plain permalinks
    (TOO_LARGE, None): Rejected,  # more than 100 items in one batch: a plugin bug, never retried
    (INVALID_SKU, None): Rejected,  # "Invalid or duplicated SKU."
    ("woocommerce_rest_invalid_product_type", None): Rejected,
    ("rate_limit_exceeded", None): RateLimited,  # WooCommerce's own (Store API) limiter, if enabled
    ("internal_server_error", None): Transient,
}

#: HTTP status -> error class, for codes the table does not know
BY_STATUS: dict[int, type[ChannelError]] = {404: NotFound, 410: NotFound, 429: RateLimited}


def error_for(code: str | None, message: str | None, status: int | None = None) -> ChannelError:
    """The typed error for a WooCommerce error object, keeping its code and message."""
    code = str(code) if code else f"http_{status or 'error'}"
    text = message or "WooCommerce error"
    cls = _lookup(code, text) or BY_STATUS.get(status or 0, Rejected)
    if cls is RateLimited:
        return RateLimited(text, retry_after=RATE_LIMIT_WAIT, code=code)
    if cls is Transient:
        return Transient(text, code=code, maybe_applied=True)
    return cls(text, code=code)


def _lookup(code: str, message: str) -> type[ChannelError] | None:
    for (known, prefix), cls in ERRORS.items():
        if known == code and prefix is not None and message.startswith(prefix):
            return cls
    return ERRORS.get((code, None))
