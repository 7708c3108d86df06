"""channelsync channel plugin for the merchant's own WooCommerce shop (REST API v3).

Registers the ``ownsite`` channel type: listings from ``products`` and
``products/{id}/variations``, absolute stock and ``regular_price`` through the
batch endpoints (100 records a call), name/description and shelf status,
publishing simple products, orders by modified date, shipment as a customer
note plus status ``completed``. OAuth 1.0a signatures over http, Basic over
https, as WooCommerce itself decides. See README.md in this package.
"""

from channelsync import hookimpl


@hookimpl
def register_channels(register):
    """Add the ``ownsite`` channel type."""
    from channelsync_ownsite.channel import OwnsiteChannel

    register("ownsite", OwnsiteChannel)


@hookimpl
def register_intake(register):
    """WooCommerce webhooks (see intake.py)."""
    from channelsync_ownsite.intake import WooWebhooks

    register("ownsite", WooWebhooks)
