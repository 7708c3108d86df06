"""Every PDD name, limit and status the plugin relies on, in one place.

The simulator reads the same constants, so a correction here moves client and
simulator together. README.md says where each fact comes from and which are
unconfirmed.
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_BASE_URL = "https://gw-api.pinduoduo.com"

# --- API names (the ``type`` parameter) and their success roots ---------------
GOODS_LIST = "pdd.goods.list.get"
GOODS_DETAIL = "pdd.goods.detail.get"
QUANTITY_UPDATE = "pdd.goods.quantity.update"
SKU_PRICE_UPDATE = "pdd.goods.sku.price.update"
SALE_STATUS = "pdd.goods.sale.status.set"
ORDER_INCREMENT = "pdd.order.number.list.increment.get"
ORDER_INFORMATION = "pdd.order.information.get"
ONLINE_SEND = "pdd.logistics.online.send"
REFUND_INCREMENT = "pdd.refund.list.increment.get"
TOKEN_REFRESH = "pdd.pop.auth.token.refresh"

#: PDD names success roots irregularly, so each is declared (unconfirmed: marked *)
ROOTS = {
    GOODS_LIST: "goods_list_get_response",
    GOODS_DETAIL: "goods_detail_get_response",
    QUANTITY_UPDATE: "goods_quantity_update_response",
    SKU_PRICE_UPDATE: "goods_update_sku_price_response",  # *
    SALE_STATUS: "goods_sale_status_set_response",  # *
    ORDER_INCREMENT: "order_sn_increment_get_response",
    ORDER_INFORMATION: "order_info_get_response",
    ONLINE_SEND: "logistics_online_send_response",
    REFUND_INCREMENT: "refund_increment_get_response",
    TOKEN_REFRESH: "pop_auth_token_refresh_response",
}

# --- limits ----------------------------------------------------------------
GOODS_PAGE_MAX = 100  # goods.list.get page_size
ORDER_PAGE_MAX = 100  # order.number.list.increment.get page_size
REFUND_PAGE_MAX = 100  # refund.list.increment.get page_size
#: both increment APIs: end - start at most 30 minutes (epoch seconds)
ORDER_WINDOW = timedelta(minutes=30)
TIMESTAMP_SKEW_SECONDS = 600  # unconfirmed

# --- values ----------------------------------------------------------------
FULL, INCREMENT = 1, 2  # goods.quantity.update update_type
ONSALE, OFFSALE = 1, 0  # is_onsale
#: order.number.list.increment.get order_status: 1 to ship, 2 shipped, 3 received; 5 all
TO_SHIP, SHIPPED, RECEIVED, ALL_ORDERS = 1, 2, 3, 5
#: refund_status: 1 none or closed, 2 in progress, 3 refunding, 4 refunded; 5 all
NO_REFUND, AFTER_SALE, REFUNDING, REFUNDED, ALL_REFUNDS = 1, 2, 3, 4, 5
#: after_sales_status of a refund row: 10 refund succeeded; 1 (as a filter) all
REFUND_SUCCESS, ALL_AFTER_SALES = 10, 1
#: after_sales_type filter: 1 all
ALL_AFTER_SALES_TYPES = 1
#: confirm_status: 1 group formed (成团), 2 group failed: PDD refunds the buyer
GROUP_FAILED = 2
