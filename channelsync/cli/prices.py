"""``channelsync price show SKU``: what each channel should charge for a SKU, and which rule made it."""

from __future__ import annotations

import click

from channelsync.cli import table
from channelsync.cli.app import App, pass_app
from channelsync.config.settings import ChannelConfig
from channelsync.engine import listings, pricing
from channelsync.engine.catalog import require_sku
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sdk.money import fen_to_yuan
from channelsync.store import utcnow


def _percent(value) -> str:
    return format(value.normalize(), "f")


def rule_text(cfg: ChannelConfig, sku: dict, decision: pricing.PriceDecision) -> str:
    """The steps that made the price, in the order the rules apply them."""
    rules, override = cfg.price, cfg.overrides.get(sku["code"])
    if override is not None and override.price is not None:
        steps = [f"override {fen_to_yuan(override.price)}"]
    else:
        steps = [f"base {fen_to_yuan(sku['base_price'])}"]
        if rules.markup_percent:
            steps.append(f"+{_percent(rules.markup_percent)}%")
        if rules.markup_fixed:
            steps.append(f"+{fen_to_yuan(rules.markup_fixed)}")
    if rules.round_ending is not None:
        steps.append(f"rounded up to x.{rules.round_ending:02d}")
    if decision.promotion:
        steps.append(f"promotion {decision.promotion}")
    if decision.floored:
        steps.append(f"held at the floor (cost {fen_to_yuan(sku['cost'])} + {_percent(rules.min_margin_percent)}%)")
    return ", ".join(steps)


@click.group("price")
def price_group() -> None:
    """Prices as the rules compute them."""


@price_group.command("show")
@click.argument("sku")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@pass_app
def price_show(app: App, sku: str, channels) -> None:
    """Each channel's price for SKU now, the rule that made it, and what the channel shows."""
    row = require_sku(app.store, sku)
    now = utcnow()
    data = []
    for name in app.channel_names(channels) if channels else list(app.config.channels):
        cfg = app.config.channels[name]
        decision = pricing.channel_price(sku, row["base_price"], row["cost"], cfg, app.config.promotions, now)
        listing = listings.get(app.store, name, sku)
        queued = app.store.scalar("SELECT status FROM outbox WHERE channel = ? AND sku_code = ? AND kind = 'price'",
                                  (name, sku))
        data.append({"channel": name, "name": cfg.display_name or name, "price": fen_to_yuan(decision.price),
                     "rule": rule_text(cfg, row, decision), "promotion": decision.promotion,
                     "floored": decision.floored, "floor": fen_to_yuan(decision.floor) if decision.floor else None,
                     "listed": listing is not None,
                     "shown": fen_to_yuan(listing["seen_price"]) if listing and listing["seen_price"] is not None
                     else None,
                     "push": queued})
    rows = [[f"{d['name']} ({d['channel']})" if d["name"] != d["channel"] else d["channel"], d["price"], d["shown"] or ("not listed" if not d["listed"] else "unknown"),
             {"pending": "queued", "failed": "PARKED"}.get(d["push"] or "", "-"), d["rule"]] for d in data]
    head = (f"{sku}: base {fen_to_yuan(row['base_price'])}, cost {fen_to_yuan(row['cost']) or 'unknown'}; "
            f"prices at {now.astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    app.emit({"sku": sku, "base_price": fen_to_yuan(row["base_price"]), "cost": fen_to_yuan(row["cost"]) or None,
              "channels": data},
             head + "\n" + table.render(["channel", "price", "channel shows", "push", "rule"], rows, right=(1, 2)))


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(price_group)
