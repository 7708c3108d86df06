"""Configuration: one TOML file (plus secrets by reference) to typed, validated settings.

``settings`` holds the typed shapes the rest of the product depends on;
``loader`` reads and checks the file, reporting every mistake with its key path.
"""

from channelsync.config.loader import ConfigError, default_path, load, loads, redacted
from channelsync.config.settings import (
    ChannelConfig,
    Config,
    DaemonConfig,
    PriceRules,
    Promotion,
    SkuOverride,
    StockRules,
)

__all__ = ["load", "loads", "default_path", "redacted", "ConfigError", "Config", "ChannelConfig", "DaemonConfig",
           "StockRules", "PriceRules", "SkuOverride", "Promotion"]
