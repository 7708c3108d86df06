"""Prometheus metrics the daemon serves on /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

ORDERS_INGESTED = Counter("channelsync_orders_ingested", "Order state changes committed", ["channel"], registry=REGISTRY)
PUSHES = Counter("channelsync_pushes", "Pushes to channels by kind and result", ["channel", "kind", "result"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("channelsync_queue_depth", "Outbox rows waiting per channel", ["channel"], registry=REGISTRY)
PROPAGATION = Histogram(
    "channelsync_propagation_seconds",
    "From the change that queued a stock push to its success on the channel",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
API_CALLS = Counter("channelsync_api_calls", "HTTP requests sent to platforms", ["channel"], registry=REGISTRY)
API_ERRORS = Counter("channelsync_api_errors", "Platform calls that failed, by HTTP status or 'transport'", ["channel", "status"], registry=REGISTRY)
DRIFT = Counter("channelsync_drift", "Listings found showing another quantity than expected (and repaired)",
                ["channel"], registry=REGISTRY)
DRIFT_UNITS = Gauge("channelsync_drift_units",
                    "The last drift found on a listing: units seen minus units expected", ["channel", "sku"],
                    registry=REGISTRY)
