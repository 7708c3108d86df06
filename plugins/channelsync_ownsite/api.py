"""WooCommerce REST v3 names kept in one place: paths, limits, statuses, the shipment note.

Shared by the client, the adapter and the simulator so they cannot drift apart.
"""

from __future__ import annotations

#: REST root below the shop's URL (pretty permalinks; see README for ``?rest_route=``)
API_PREFIX = "/wp-json/wc/v3/"

#: ``per_page`` is 1..100 on every collection
MAX_PER_PAGE = 100
#: ``products/batch`` and ``products/{id}/variations/batch``: create + update + delete <= 100
MAX_BATCH = 100

TOTAL_HEADER = "X-WP-Total"
TOTAL_PAGES_HEADER = "X-WP-TotalPages"

#: product status: ``publish`` is on the shelf; ``draft``/``pending``/``private`` are not.
#: A variation's own status is ``publish`` (enabled) or ``private`` (disabled).
ON_SHELF = "publish"
OFF_SHELF_PRODUCT = "draft"
OFF_SHELF_VARIATION = "private"

#: order statuses of WooCommerce core
PENDING, PROCESSING, ON_HOLD, COMPLETED = "pending", "processing", "on-hold", "completed"
CANCELLED, REFUNDED, FAILED = "cancelled", "refunded", "failed"
CHECKOUT_DRAFT = "checkout-draft"
ORDER_STATUSES = (PENDING, PROCESSING, ON_HOLD, COMPLETED, CANCELLED, REFUNDED, FAILED, CHECKOUT_DRAFT)

#: WooCommerce core has no tracking field: the shipment is an order note (customer-visible,
#: so the buyer is e-mailed) followed by status ``completed``. The simulator reads the
#: carrier and number back from this wording.
SHIPMENT_NOTE = "Shipped via {carrier}, tracking number {tracking_no}"
SHIPMENT_NOTE_PATTERN = r"Shipped via (?P<carrier>.+?), tracking number (?P<tracking_no>\S+)"
