"""Typed configuration: what ``config.load()`` returns after validation.

Kept apart from the loader so the engine depends on shapes, not on TOML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StockRules:
    """target = floor(available * share) - buffer, capped at max, 0 when available <= zero_below, never < 0."""

    share: Decimal = Decimal(1)
    buffer: int = 0
    max: int | None = None
    zero_below: int = 0


@dataclass(frozen=True)
class PriceRules:
    """price = base * (1 + markup_percent/100) + markup_fixed, rounded up to end in
    ``round_ending`` fen (e.g. 90 -> x.90), floored at cost * (1 + min_margin_percent/100)."""

    markup_percent: Decimal = Decimal(0)
    markup_fixed: int = 0
    round_ending: int | None = None
    min_margin_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class SkuOverride:
    """Per-SKU exceptions to a channel's rules; None means "use the channel's"."""

    share: Decimal | None = None
    buffer: int | None = None
    max: int | None = None
    zero_below: int | None = None
    price: int | None = None  # fen, replaces the marked-up price (still rounded, and floored at cost + margin)


@dataclass(frozen=True)
class Promotion:
    """A scheduled price: fixed ``price`` (fen) or ``percent_off`` of the channel price."""

    name: str
    starts: datetime
    ends: datetime
    channels: tuple[str, ...] = ()  # empty: every channel
    skus: tuple[str, ...] = ()      # empty: every SKU
    price: int | None = None
    percent_off: Decimal | None = None


@dataclass(frozen=True)
class ChannelIntake:
    """``[channels.NAME.intake]``: whether the channel's platform messages are taken in, and the
    receiver's own settings (secrets resolved; see ``channelsync.sdk.intake.Receiver``)."""

    enabled: bool = False
    max_age: float | None = None  # seconds; None: the receiver's default
    settings: dict[str, Any] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IntakeConfig:
    """``[intake]``: the endpoint platforms post to, on its own address (behind a reverse proxy)."""

    host: str = "127.0.0.1"
    port: int = 9465             # 0: any free port (tests); the server runs when a channel enables intake
    public_url: str | None = None  # what the platforms are told, e.g. https://shop.example.com/cs-intake


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    plugin: str
    enabled: bool = True
    display_name: str | None = None   # how reports and status name it (e.g. "天猫旗舰店"); default: name
    poll_interval: float = 30.0       # seconds between order polls
    order_overlap: float = 300.0      # seconds re-read before the cursor
    order_lag: float = 0.0            # seconds before now the window ends
    initial_lookback: float = 86400.0 # first poll reaches this far back
    reconcile_interval: float = 900.0 # seconds between resyncs by the daemon
    drift_check_interval: float = 60.0  # seconds between reads of recent listings (0: off)
    drift_check_max: int = 200        # listings read at most per drift check
    rate_per_second: float | None = None  # overrides the plugin's capability
    burst: int | None = None
    warehouses: tuple[str, ...] = ()  # sells from these, in priority order (reserve, ship); empty: all
    rules: StockRules = StockRules()
    price: PriceRules = PriceRules()
    overrides: dict[str, SkuOverride] = field(default_factory=dict)
    restock_on_refund: bool = False   # refunded units reported coming back go on hand at once
    order_window: float | None = None  # seconds; shortens the plugin's longest order window
    refund_window: float | None = None # seconds; shortens the longest refund (after-sale) window
    publish_new: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # plugin settings, secrets resolved
    secret_keys: frozenset[str] = frozenset()                # never print these settings
    intake: ChannelIntake = ChannelIntake()


@dataclass(frozen=True)
class DaemonConfig:
    http_host: str = "127.0.0.1"
    http_port: int = 9464        # /healthz and /metrics; 0 disables
    log_format: str = "auto"     # auto | json | console
    log_level: str = "info"
    # /healthz answers 503 when: "any_failing" (default), "any_degraded" (also retries and
    # parked pushes) or "all_failing"; a dead worker or a stopping daemon is always 503
    unhealthy_when: str = "any_failing"
    restart_backoff_max: float = 300.0  # seconds: longest pause before a crashed worker restarts


@dataclass(frozen=True)
class StoreSettings:
    lock_log_every: float = 5.0          # seconds between "database is locked, waiting" log lines
    lock_timeout: float = 120.0          # the CLI gives up after this; the daemon waits for ever
    key: bytes | None = field(default=None, repr=False)  # from store.key = { file = ... }: encrypts renewed tokens


@dataclass(frozen=True)
class Config:
    path: Path | None
    db_path: Path
    daemon: DaemonConfig = DaemonConfig()
    warehouses: dict[str, str] = field(default_factory=lambda: {"main": "Main warehouse"})
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    promotions: tuple[Promotion, ...] = ()
    store: StoreSettings = StoreSettings()
    #: stock at or below this is low (补货提醒) for SKUs without their own reorder point; None: off
    reorder_point: int | None = None
    intake: IntakeConfig = IntakeConfig()
