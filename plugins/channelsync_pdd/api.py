"""Every PDD name, limit and code the plugin and its simulator rely on (sources: README.md)."""

from datetime import timedelta

GOODS_LIST = "pdd.goods.list.get"
GOODS_DETAIL = "pdd.goods.detail.get"
QUANTITY_UPDATE = "pdd.goods.quantity.update"
SKU_PRICE_UPDATE = "pdd.goods.sku.price.update"
SALE_STATUS = "pdd.goods.sale.status.set"
ORDER_INCREMENT = "pdd.order.number.list.increment.get"
ORDER_INFORMATION = "pdd.order.information.get"
ONLINE_SEND = "pdd.logistics.online.send"
REFUND_INCREMENT = "pdd.refund.list.increment.get"
TOKEN_REFRESH = "pdd.pop.auth.token.refresh"  # (*: unconfirmed roots below)
ROOTS = {GOODS_LIST: "goods_list_get_response", GOODS_DETAIL: "goods_detail_get_response",
         QUANTITY_UPDATE: "goods_quantity_update_response", SKU_PRICE_UPDATE: "goods_update_sku_price_response",  # *
         SALE_STATUS: "goods_sale_status_set_response", ORDER_INCREMENT: "order_sn_increment_get_response",  # *
         ORDER_INFORMATION: "order_info_get_response", ONLINE_SEND: "logistics_online_send_response",
         REFUND_INCREMENT: "refund_increment_get_response", TOKEN_REFRESH: "pop_auth_token_refresh_response"}

PAGE_MAX = 100  # page_size of the goods, order and refund lists
ORDER_WINDOW = timedelta(minutes=30)  # both increment APIs: end - start at most 30 minutes
FULL, INCREMENT = 1, 2  # goods.quantity.update update_type
TO_SHIP, SHIPPED, RECEIVED, ALL_ORDERS = 1, 2, 3, 5  # order_status: to ship, shipped, received; all
NO_REFUND, REFUNDED, ALL_REFUNDS = 1, 4, 5  # refund_status: none or closed, refunded; all
REFUND_SUCCESS, ALL_AFTER_SALES_TYPES = 10, 1  # refund list after_sales_status (10 done) / after_sales_type (1 all)
REFUND_TYPES, RETURN_TYPES = (2, 3), (3, 4)  # after_sales_type 2 refund only, 3 return and refund, 4 exchange
GROUP_FAILED = 2  # confirm_status: the group never formed and PDD refunded the buyer
