"""The plugin contract: every hook a plugin may implement.

Implement one with ``from channelsync import hookimpl``. Implementations may
accept fewer arguments than the spec names (pluggy passes only those asked
for), so new arguments can be added without breaking plugins.
"""

from __future__ import annotations

from typing import Any, Callable

import click
import pluggy

from channelsync.sdk.models import Order

hookspec = pluggy.HookspecMarker("channelsync")
#: marks a plugin's hook implementations (``from channelsync import hookimpl``)
hookimpl = pluggy.HookimplMarker("channelsync")


@hookspec
def register_channels(register: Callable[[str, type], None]) -> None:
    """Add channel types: call ``register("taobao", TaobaoChannel)`` once per type.

    Called once when the plugin manager is built. The name is what
    ``plugin = "..."`` in a channel's config refers to.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add CLI commands to the ``channelsync`` group (``@cli.command()``)."""


@hookspec
def order_ingested(channel: str, order: Order, previous_status: str | None) -> None:
    """Called after an order's new or changed state was committed.

    ``previous_status`` is None for an order seen for the first time. Runs in
    the channel's worker thread: keep it quick, and do not raise.
    """


@hookspec
def push_failed(channel: str, sku_code: str, kind: str, error: Exception, parked: bool) -> None:
    """Called when a push to a channel fails.

    ``kind`` is "stock", "price", "listing", "shelf" or "publish". ``parked``
    is True when the failure is permanent and the change now waits for
    ``resync``; False when the core will retry it after a back-off.
    """


@hookspec
def cycle_finished(channel: str, stats: dict[str, Any]) -> None:
    """Called after each sync cycle of a channel with the counts of its canonical log line."""


@hookspec
def stock_low(sku_code: str, available: int, reorder_point: int, title: str) -> None:
    """Called once when a SKU's available units fall to its reorder point or below (补货提醒).

    Not called again until the SKU has recovered above the point and gone low once more.
    Runs in the daemon's main thread: keep it quick (hand slow messages to a queue), do not raise.
    """


@hookspec
def register_intake(register: Callable[[str, type], None]) -> None:
    """Say what a channel type can receive from its platform: call
    ``register("ownsite", WooWebhooks)`` with a ``channelsync.sdk.intake.Receiver``
    subclass, keyed by the channel type's name (see docs/plugins.md, "Intake")."""
