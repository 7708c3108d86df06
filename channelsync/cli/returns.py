"""After-sales commands: receive a return, record an exchange, list what is expected back."""

from __future__ import annotations

import click

from channelsync.cli.app import App, pass_app
from channelsync.engine import returns
from channelsync.engine.orders import find_order, line_of
from channelsync.sdk.hookspecs import hookimpl


def sku_qty(ctx, param, value):
    """``SKU:QTY`` -> (sku, qty); the SKU may itself contain colons, the quantity may not."""
    if value is None:
        return None
    values = value if isinstance(value, tuple) else (value,)
    out = []
    for text in values:
        sku, sep, qty = text.rpartition(":")
        if not sep or not sku or not qty.strip().lstrip("-").isdigit():
            raise click.BadParameter(f"expected SKU:QTY such as A-RED-M:2, got {text!r}", ctx, param)
        out.append((sku, int(qty)))
    return out if isinstance(value, tuple) else out[0]


@click.group("returns")
def returns_group() -> None:
    """After-sales: receive returned goods, record exchanges, see what is expected back."""


@returns_group.command("receive")
@click.argument("order")
@click.option("--line", "line", required=True, callback=sku_qty, metavar="SKU:QTY",
              help="The order line and how many units arrived (good and damaged together).")
@click.option("--to", "warehouse", metavar="WH", help="Warehouse the goods arrived at (needed with several).")
@click.option("--damaged", type=click.IntRange(min=0), default=0, show_default=True,
              help="Of those units, how many are broken: booked in and written off, never restocked.")
@pass_app
def receive(app: App, order: str, line, warehouse: str | None, damaged: int) -> None:
    """Receive returned units of ORDER: good ones go back on hand (a ledger row naming the order)."""
    sku, qty = line
    row = find_order(app.store, order)
    found = line_of(app.store, row, sku)
    where = app.warehouse(warehouse, "say where the goods arrived with --to")
    result = returns.receive_now(app.store, app.config, row, found, qty, where, damaged=damaged, actor="cli")
    app.emit(result, f"{result['order']} {result['sku']}: received {qty} at {result['warehouse']}, "
                     f"{result['restocked']} back on hand, {result['damaged']} damaged (written off); "
                     f"{result['expected_back']} still expected back, {result['pushes_queued']} pushes queued")


@returns_group.command("exchange")
@click.argument("order")
@click.option("--line", "line", required=True, callback=sku_qty, metavar="SKU:QTY",
              help="The order line and how many units the buyer swaps.")
@click.option("--for", "replacement", metavar="SKU", help="The replacement SKU (default: the same SKU).")
@click.option("--carrier", help="Carrier of the replacement parcel, e.g. SF.")
@click.option("--tracking", help="Tracking number of the replacement parcel.")
@pass_app
def exchange(app: App, order: str, line, replacement: str | None, carrier: str | None,
             tracking: str | None) -> None:
    """An exchange on ORDER: the swapped units are expected back and a replacement leaves now.

    This records the exchange in channelsync (ledger, history); the platform's own
    exchange flow is done in its seller centre."""
    sku, qty = line
    row = find_order(app.store, order)
    result = returns.exchange_now(app.store, app.config, row, line_of(app.store, row, sku), qty,
                                  carrier=carrier, tracking_no=tracking, replacement=replacement)
    sent = ", ".join(f"{p['units']} {p['sku']} from {p['warehouse']}" for p in result["shipped_from"])
    app.emit(result, f"{result['order']} {sku}: exchange of {qty}; replacement sent ({sent}); "
                     f"{result['expected_back']} expected back, {result['pushes_queued']} pushes queued")


@returns_group.command("list")
@click.option("--channel", help="Only this channel.")
@pass_app
def expected(app: App, channel: str | None) -> None:
    """Returned units expected back and not received yet, oldest first."""
    rows = returns.expected_back(app.store, channel)
    human = "\n".join(f"{r['channel']}:{r['external_id']:<22} {r['sku_code'] or '?':<16} {r['expected_back']:>4} "
                      f"expected since {r['since']}" for r in rows) or "nothing expected back"
    app.emit(rows, human)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(returns_group)
