"""``channelsync listings unmatched``: the channel listings that link to no master SKU, and why."""

from __future__ import annotations

import click

from channelsync.cli import table
from channelsync.cli.app import App, pass_app
from channelsync.sdk.hookspecs import hookimpl
from channelsync.store.sqlin import marks


@click.group("listings")
def listings_group() -> None:
    """Listings as the channels show them."""


@listings_group.command("unmatched")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--limit", type=click.IntRange(1), default=200, show_default=True)
@pass_app
def unmatched(app: App, channels, limit: int) -> None:
    """Listings found by the last resync whose merchant code matches no SKU (fix the code in the
    seller centre or add the SKU to the catalog; channelsync never guesses a link)."""
    names = app.channel_names(channels) if channels else list(app.config.channels)
    ins = marks(names)
    rows = app.store.query(
        f"SELECT channel, external_id, item_id, sku_code, title, reason, seen_at FROM unmatched_listings "
        f"WHERE channel IN ({ins}) ORDER BY channel, reason, external_id LIMIT ?", (*names, limit)) if names else []
    total = app.store.scalar(f"SELECT COUNT(*) FROM unmatched_listings WHERE channel IN ({ins})",
                             tuple(names)) if names else 0
    shown = table.render(["channel", "listing id", "item id", "merchant code", "title", "why", "seen"],
                         [[r["channel"], r["external_id"], r["item_id"] or "-", r["sku_code"] or "(empty)",
                           (r["title"] or "")[:40], r["reason"], table.age(r["seen_at"])] for r in rows],
                         empty="(none: every listing seen links to a SKU)")
    more = f"\n... {total - len(rows)} more (use --limit or --json)" if total > len(rows) else ""
    app.emit({"total": total, "listings": rows}, shown + more)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(listings_group)
