"""Prometheus metrics the daemon serves on /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

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
INTAKE_MESSAGES = Counter("channelsync_intake_messages", "Platform messages taken in, by result: accepted or the "
                          "rejection reason (signature, stale, replay, size, unknown_channel, malformed, method, "
                          "disabled)", ["channel", "result"], registry=REGISTRY)
INTAKE_POLLS = Counter("channelsync_intake_polls", "Order polls started by a platform message (a burst is one)",
                       ["channel"], registry=REGISTRY)
INTAKE_LAST_VERIFIED = Gauge("channelsync_intake_last_verified_timestamp_seconds",
                             "Unix time of the channel's last verified platform message", ["channel"], registry=REGISTRY)
INTAKE_CONNECTED = Gauge("channelsync_intake_connected", "1 while a listener's connection to its platform is up",
                         ["channel"], registry=REGISTRY)

# --- what dashboards and alert rules need (deploy/grafana, deploy/prometheus) ---
LAST_POLL_OK = Gauge("channelsync_last_poll_success_timestamp_seconds",
                     "Unix time of the channel's last successful order poll", ["channel"], registry=REGISTRY)
PARKED = Gauge("channelsync_parked_pushes", "Pushes parked as failed, waiting for resync", ["channel"],
               registry=REGISTRY)
TOKEN_EXPIRY = Gauge("channelsync_token_expiry_timestamp_seconds",
                     "Unix time the channel's access token expires (absent: the platform gives none)", ["channel"],
                     registry=REGISTRY)
PLATFORM_ERRORS = Counter("channelsync_platform_errors",
                          "Errors platforms reported, by the platform's own code (including those sent with HTTP 200)",
                          ["channel", "code"], registry=REGISTRY)
DRIFT = Counter("channelsync_drift_found", "Listings whose quantity differed from what the channel should show",
                ["channel"], registry=REGISTRY)
CHANNEL_HEALTH = Gauge("channelsync_channel_health", "1 for the channel's current health state, 0 for the others",
                       ["channel", "state"], registry=REGISTRY)
HEALTH_STATES = ("ok", "degraded", "failing")
LOW_STOCK = Gauge("channelsync_low_stock_skus", "SKUs at or below their reorder point", registry=REGISTRY)
CONFIG_RELOADS = Counter("channelsync_config_reloads", "SIGHUP config reloads by result (ok, rejected)", ["result"],
                         registry=REGISTRY)
ProcessCollector(registry=REGISTRY)  # process_cpu_seconds_total, process_resident_memory_bytes, open fds, ...


def channel_health(channel: str, state: str) -> None:
    for name in HEALTH_STATES:
        CHANNEL_HEALTH.labels(channel, name).set(1 if name == state else 0)


def platform_error(channel: str, code: str | None, kind: str) -> None:
    """Count one error a platform reported: by its code, else the error's kind (e.g. "Transient")."""
    PLATFORM_ERRORS.labels(channel, (code or kind)[:48]).inc()
DRIFT_LAST = Gauge("channelsync_drift_last_quantity",
                   "The last drift found on a listing: the quantity seen on the channel and the one expected",
                   ["channel", "sku", "value"], registry=REGISTRY)
