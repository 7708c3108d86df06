"""channelsync channel plugin for JD.com POP shops (JOS router API).

Registers the ``jd`` channel type: listings from ``jingdong.sku.read.searchSkuList``,
absolute stock and prices one SKU a call, ware title and shelf, orders from
``jingdong.pop.order.search``, refunds from the after-sales refund list,
shipment with JD's numeric carrier ids. See README.md in this package.
"""

from channelsync import hookimpl


@hookimpl
def register_channels(register):
    """Add the ``jd`` channel type."""
    from channelsync_jd.channel import JdChannel

    register("jd", JdChannel)


@hookimpl
def register_intake(register):
    """Subscribed order messages (see intake.py)."""
    from channelsync_jd.intake import JdMessages

    register("jd", JdMessages)
