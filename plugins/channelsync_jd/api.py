"""Every JOS name the plugin relies on, in one place.

Several names are marked *unconfirmed* in platforms.md; when JD's console
says otherwise, this is the only file to change (the simulator reads the
same constants, so it follows).
"""

from __future__ import annotations

#: the gateway path under ``base_url``
ROUTER_PATH = "/routerjson"
#: the OAuth refresh path under ``oauth_url``
OAUTH_REFRESH_PATH = "/oauth2/refresh_token"
API_VERSION = "2.0"

# --- method names --------------------------------------------------------
SKU_SEARCH = "jingdong.sku.read.searchSkuList"
STOCK_UPDATE = "jingdong.stock.write.updateSkuStock"
STOCK_UPDATE_OLD = "jingdong.stock.updateSkuStock"  # older SDKs; the simulator answers both
STOCK_READ = "jingdong.stock.read.findSkuStock"  # params (skuId) and answer (stockNum) unconfirmed
PRICE_UPDATE = "jingdong.price.write.updateSkuJdPrice"  # unconfirmed
WARE_UP_OR_DOWN = "jingdong.ware.write.upOrDown"  # unconfirmed
WARE_TITLE_UPDATE = "jingdong.ware.write.updateWareTitle"  # unconfirmed
ORDER_SEARCH = "jingdong.pop.order.search"
ORDER_GET = "jingdong.pop.order.get"
ORDER_SHIPMENT = "jingdong.pop.order.shipment"
REFUND_QUERY = "jingdong.pop.afs.soa.refundapply.queryPageList"
#: the after-sales service centre (售后服务单): one service per SKU of an order, with what
#: the buyer expects. Method and query names are from JD's SDKs; the answer's field
#: names below are UNCONFIRMED (keep them here, in one place)
ASC_QUERY = "jingdong.asc.query.list"

# --- limits --------------------------------------------------------------
SKU_PAGE_SIZE = 50      # searchSkuList page_size (unconfirmed ceiling)
ORDER_PAGE_SIZE = 100   # pop.order.search page_size (the limit; platforms.md shows 200)
REFUND_PAGE_SIZE = 50   # refundapply.queryPageList pageSize
ASC_PAGE_SIZE = 50      # asc.query.list pageSize (unconfirmed ceiling)
ORDER_MAX_SPAN_DAYS = 31  # pop.order.search: start_date..end_date at most one month
TIMESTAMP_SKEW_SECONDS = 6 * 60

# --- values --------------------------------------------------------------
SKU_LISTED, SKU_DELISTED = 1, 2  # skuStatuValue / skuStatu
WARE_UP, WARE_DOWN = "1", "0"    # upOrDown ``op`` (unconfirmed values)
#: pop.order.search ``dateType``: which time the window filters (unconfirmed
#: values; the channel setting ``order_date_type`` overrides the default)
DATE_TYPE_MODIFIED, DATE_TYPE_CREATED = "0", "1"

# JD order states (pop.order.search ``order_state`` / ``orderState``)
WAIT_SELLER_STOCK_OUT = "WAIT_SELLER_STOCK_OUT"
WAIT_GOODS_RECEIVE_CONFIRM = "WAIT_GOODS_RECEIVE_CONFIRM"
FINISHED_L = "FINISHED_L"
TRADE_CANCELED = "TRADE_CANCELED"
LOCKED = "LOCKED"
PAUSE = "PAUSE"
ORDER_STATES = (WAIT_SELLER_STOCK_OUT, WAIT_GOODS_RECEIVE_CONFIRM, FINISHED_L, TRADE_CANCELED, LOCKED, PAUSE)

#: refund application statuses that mean the money went back (unconfirmed:
#: "1" is "approved"; others are pending or refused and change nothing yet)
REFUND_APPROVED = ("1",)

#: fields asked of pop.order.search / pop.order.get
ORDER_FIELDS = ("orderId,orderState,orderStartTime,modified,orderTotalPrice,orderPayment,"
                "itemInfoList,waybill,logisticsId")
#: fields asked of sku.read.searchSkuList
SKU_FIELDS = "skuId,wareId,outerId,jdPrice,stockNum,status,skuName,wareTitle,modified"


def response_key(method: str) -> str:
    """The success root: ``jingdong.pop.order.search`` -> ``jingdong_pop_order_search_responce`` (sic)."""
    return method.replace(".", "_") + "_responce"

# --- after-sales services (asc.query.list; the answer's names are unconfirmed) ---------
ASC_RESULT = "pageResult"  # the page: {"data": [...], "totalCount": N}
#: customerExpect: what the buyer asks for
ASC_RETURN, ASC_EXCHANGE, ASC_REFUND_ONLY = "10", "20", "40"
#: serviceStatus values after which the money went back / the goods are on their way
ASC_DONE = ("2",)  # unconfirmed: "2" completed; others pending, refused or cancelled
