"""Every WeChat Channels shop path, limit and status the plugin relies on, in one place.

The simulator reads the same constants, so a correction here moves client and
simulator together. Facts from /work/shared/platforms.md and the platform's
public documentation (developers.weixin.qq.com, channels/ec API).
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
# every channels/ec response and the token call answer in Beijing time (``channelsync.sdk.times.BEIJING``)

# --- token -----------------------------------------------------------------
STABLE_TOKEN = "/cgi-bin/stable_token"  # POST JSON {grant_type, appid, secret, force_refresh}
LEGACY_TOKEN = "/cgi-bin/token"  # GET ?grant_type=client_credential&appid=&secret= (simulated, unused)
GRANT_TYPE = "client_credential"
TOKEN_LIFETIME = 7200  # seconds; expires_in is never more
#: a new token and the one it replaces are both valid for this long, and the
#: normal (not forced) call already hands out the next token this early
TOKEN_OVERLAP = 300
FORCED_REFRESH_PER_DAY = 20

# --- products ----------------------------------------------------------------
PRODUCT_LIST = "/channels/ec/product/list/get"
PRODUCT_GET = "/channels/ec/product/get"
STOCK_UPDATE = "/channels/ec/product/stock/update"
PRICE_UPDATE = "/channels/ec/product/auditfree"
PRODUCT_UPDATE = "/channels/ec/product/update"
PRODUCT_LISTING = "/channels/ec/product/listing"
PRODUCT_DELISTING = "/channels/ec/product/delisting"

# --- orders and after-sales ----------------------------------------------------
ORDER_LIST = "/channels/ec/order/list/get"
ORDER_GET = "/channels/ec/order/get"
DELIVERY_SEND = "/channels/ec/order/delivery/send"
AFTERSALE_LIST = "/channels/ec/aftersale/getaftersalelist"
AFTERSALE_GET = "/channels/ec/aftersale/getaftersaleorder"

# --- limits ----------------------------------------------------------------------
PRODUCT_PAGE_MAX = 30  # product/list/get page_size
ORDER_PAGE_MAX = 100  # order/list/get page_size
ORDER_WINDOW = timedelta(days=7)  # order/list/get update_time_range
AFTERSALE_WINDOW = timedelta(hours=24)  # getaftersalelist begin/end time

# --- product statuses (product/list/get ``status``, product ``status``) -----------
ON_SALE = 5
DELISTED = 11
LIST_PHASES = (ON_SALE, DELISTED)  # listings are read on sale first, then off the shelf

# --- stock/update diff_type ----------------------------------------------------------
ADD, SUBTRACT, SET = 1, 2, 3

# --- order statuses ----------------------------------------------------------------
UNPAID = 10
PAID = 20  # to ship
PARTLY_SHIPPED = 21
SHIPPED = 30
COMPLETED = 100
AFTERSALE_CLOSED = 200  # every line went through after-sales (some SDKs); treated as refunded
CANCELLED = 250

# --- after-sale statuses ---------------------------------------------------------------
#: after-sales that returned the buyer's money (refund only / return and refund)
REFUND_DONE = ("MERCHANT_REFUND_SUCCESS", "MERCHANT_RETURN_SUCCESS")
AFTERSALE_REFUND = "REFUND"
AFTERSALE_RETURN = "RETURN"
#: an exchange after-sale (换货): the type name and its done status are UNCONFIRMED
AFTERSALE_EXCHANGE = "EXCHANGE"
EXCHANGE_DONE = "MERCHANT_EXCHANGE_SUCCESS"

# --- delivery ------------------------------------------------------------------------
DELIVER_BY_EXPRESS = 1  # deliver_type: self-contracted express company
#: delivery_id codes (the platform lists them in order/deliverycompanylist/get)
DELIVERY_IDS = ("SF", "ZTO", "YTO", "STO", "YUNDA", "YD", "EMS", "JD", "JTSD", "DBL", "HTKY", "ZJS")
