"""Every TOP name, limit and field list the plugin relies on, in one place.

The simulator reads the same constants, so a correction here (say a field
name the seller centre spells differently) moves client and simulator together.
"""

from __future__ import annotations

from datetime import timedelta

#: the router path under ``base_url`` (gateway ``https://eco.taobao.com/router/rest``)
ROUTER_PATH = "/router/rest"
DEFAULT_BASE_URL = "https://eco.taobao.com"
API_VERSION = "2.0"
FORMAT = "json"
SIGN_METHODS = ("md5", "hmac", "hmac-sha256")

# --- method names --------------------------------------------------------
ITEMS_ONSALE = "taobao.items.onsale.get"
ITEMS_INVENTORY = "taobao.items.inventory.get"  # items in the warehouse (off the shelf)
ITEM_GET = "taobao.item.seller.get"
ITEMS_LIST = "taobao.items.seller.list.get"
ITEM_QUANTITY = "taobao.item.quantity.update"  # items without SKUs
SKUS_QUANTITY = "taobao.skus.quantity.update"
SKU_PRICE = "taobao.item.sku.price.update"
ITEM_UPDATE = "taobao.item.update"
ITEM_LISTING = "taobao.item.update.listing"
ITEM_DELISTING = "taobao.item.update.delisting"
TRADES_INCREMENT = "taobao.trades.sold.increment.get"
TRADE_FULLINFO = "taobao.trade.fullinfo.get"
OFFLINE_SEND = "taobao.logistics.offline.send"
REFUNDS_RECEIVE = "taobao.refunds.receive.get"
REFUND_GET = "taobao.refund.get"
TOKEN_REFRESH = "taobao.top.auth.token.refresh"  # service-market apps only

# --- limits ----------------------------------------------------------------
ITEM_PAGE_MAX = 200  # items.onsale.get / items.inventory.get page_size
ITEMS_PER_LIST_CALL = 20  # items.seller.list.get num_iids
SKUS_PER_QUANTITY_CALL = 20  # skus.quantity.update
TRADE_PAGE_MAX = 100  # trades.sold.increment.get page_size
REFUND_PAGE_MAX = 100  # refunds.receive.get page_size
#: trades.sold.increment.get: TOP allows one day and advises under 30 minutes;
#: the adapter declares the advised window and the simulator holds it to that
ORDER_WINDOW = timedelta(minutes=30)
TIMESTAMP_SKEW_SECONDS = 600

# --- field lists -----------------------------------------------------------
ITEM_PAGE_FIELDS = "num_iid,title,approve_status,modified,outer_id"
ITEM_DETAIL_FIELDS = "num_iid,title,approve_status,outer_id,num,price,sku"
TRADE_FIELDS = ("tid,status,created,modified,pay_time,consign_time,end_time,payment,"
                "orders.oid,orders.num_iid,orders.sku_id,orders.outer_sku_id,orders.outer_iid,"
                "orders.num,orders.price,orders.status,orders.refund_status,orders.refund_id,"
                "orders.consign_time,orders.logistics_company,orders.invoice_no")
REFUND_FIELDS = "refund_id,tid,oid,status,modified,refund_fee,num"
REFUND_DETAIL_FIELDS = "refund_id,tid,oid,status,num,has_good_return,good_status,modified"

# --- statuses --------------------------------------------------------------
ONSALE = "onsale"
INSTOCK = "instock"
WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
WAIT_SELLER_SEND_GOODS = "WAIT_SELLER_SEND_GOODS"
WAIT_BUYER_CONFIRM_GOODS = "WAIT_BUYER_CONFIRM_GOODS"
TRADE_FINISHED = "TRADE_FINISHED"
SELLER_CONSIGNED_PART = "SELLER_CONSIGNED_PART"  # some sub-orders shipped
TRADE_CLOSED = "TRADE_CLOSED"  # closed after payment: refunded (or every sub-order closed)
TRADE_CLOSED_BY_TAOBAO = "TRADE_CLOSED_BY_TAOBAO"  # closed before payment
REFUND_SUCCESS = "SUCCESS"
NO_REFUND = "NO_REFUND"
#: sub-order refund_status values: the buyer has sent the goods back / is to send them
WAIT_SELLER_CONFIRM_GOODS = "WAIT_SELLER_CONFIRM_GOODS"
WAIT_BUYER_RETURN_GOODS = "WAIT_BUYER_RETURN_GOODS"


def response_key(method: str) -> str:
    """``taobao.items.onsale.get`` -> ``items_onsale_get_response`` (the success root)."""
    name = method[len("taobao."):] if method.startswith("taobao.") else method
    return name.replace(".", "_") + "_response"
