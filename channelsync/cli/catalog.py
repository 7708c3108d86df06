"""Operator commands on master data: catalog, stock, orders."""

from __future__ import annotations

import sys

import click

from channelsync.cli import progress, table
from channelsync.cli.app import App, pass_app
from channelsync.engine import catalog
from channelsync.engine.orders import detail as orders_detail
from channelsync.engine.orders import find_order
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sdk.money import fen_to_yuan


@click.group("catalog")
def catalog_group() -> None:
    """Import or export the master catalog as CSV."""


@catalog_group.command("import")
@click.argument("csv_file", type=click.File("rb"))
@pass_app
def catalog_import(app: App, csv_file) -> None:
    """Import CSV_FILE (all-or-nothing; problems name row and column).

    UTF-8, GB18030/GBK or UTF-16 (Excel "Unicode text"); comma, tab or semicolon separated."""
    from channelsync.engine.csvfile import CsvFile

    source = csv_file.name if isinstance(csv_file.name, str) else "<stdin>"
    csvf = CsvFile(csv_file, source, size=_size(csv_file))
    with progress.file_progress(source, enabled=not app.json) as on_progress:
        report = catalog.import_csv(app.store, app.config, csvf, source=source,
                                    publish_channels=list(app.config.channels), progress=on_progress)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.queued.items()))
    app.emit({**vars(report), "pushes_queued": report.pushes_queued},
             f"imported {report.skus_new} new and {report.skus_changed} changed SKUs ({report.products} new "
             f"products) from {report.rows} rows ({report.encoding}), {report.stock_set} stock levels set, "
             f"{report.pushes_queued} pushes queued" + (f" ({kinds})" if kinds else ""))


def _size(stream) -> int | None:
    import os

    try:
        return os.fstat(stream.fileno()).st_size or None
    except (OSError, ValueError, AttributeError):
        return None


@catalog_group.command("export")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default stdout).")
@pass_app
def catalog_export(app: App, output) -> None:
    """Write the catalog as CSV (the same columns import reads)."""
    output.write(catalog.export_csv(app.reader, app.config))


@click.group("stock")
def stock_group() -> None:
    """Show or change on-hand stock (every change is a ledger row)."""


def _emit_change(app: App, r: dict) -> None:
    app.emit(r, f"{r['sku']} @ {r['warehouse']}: {r['before']} -> {r['after']} ({r['pushes_queued']} pushes queued)")


@stock_group.command("set")
@click.argument("sku")
@click.argument("quantity", type=int)
@click.option("-w", "--warehouse")
@click.option("--reason", type=click.Choice(["set", "count"]), default="set", show_default=True)
@pass_app
def stock_set(app: App, sku: str, quantity: int, warehouse: str | None, reason: str) -> None:
    """Set SKU's on-hand in a warehouse to QUANTITY."""
    _emit_change(app, catalog.change_stock(app.store, app.config, sku, app.warehouse(warehouse),
                                           set_to=quantity, reason=reason, actor="cli"))


@stock_group.command("adjust", context_settings={"ignore_unknown_options": True})  # DELTA may be -3
@click.argument("sku")
@click.argument("delta", type=int)
@click.option("-w", "--warehouse")
@click.option("--reason", type=click.Choice(["adjust", "count", "return"]), default="adjust", show_default=True)
@pass_app
def stock_adjust(app: App, sku: str, delta: int, warehouse: str | None, reason: str) -> None:
    """Add DELTA (negative to remove) to SKU's on-hand."""
    _emit_change(app, catalog.change_stock(app.store, app.config, sku, app.warehouse(warehouse),
                                           delta=delta, reason=reason, actor="cli"))


@stock_group.command("show")
@click.argument("sku")
@pass_app
def stock_show(app: App, sku: str) -> None:
    """On hand and reserved per warehouse, and what each channel should show."""
    r = catalog.stock_report(app.reader, app.config, sku)
    lines = [f"{sku}" + (" (bundle: " + " + ".join(f"{b['component']}*{b['qty']}" for b in r["bundle"]) + ")"
                         if r["bundle"] else "")]
    lines.append(f"  {'warehouse':<14} {'on hand':>8} {'reserved':>9} {'free':>6}")
    for wh in r["warehouses"]:
        lines.append(f"  {wh['warehouse']:<14} {wh['on_hand']:>8} {wh['reserved']:>9} {wh['free']:>6}")
    if r["reserved_anywhere"]:
        lines.append(f"  {'(any)':<14} {'':>8} {r['reserved_anywhere']:>9}   reserved before warehouses were tracked")
    lines.append(f"  {'total':<14} {sum(r['on_hand'].values()):>8} {r['reserved']:>9}")
    for c in r["channels"]:
        shown = "not listed" if not c["listed"] else f"target {c['target']}, channel should show {c['expected']}"
        whs = "+".join(c["warehouses"]) or "all"
        lines.append(f"  {c['channel']:<20} sells from {whs}: available {c['available']}: {shown}")
    app.emit(r, "\n".join(lines))


@stock_group.command("low")
@click.option("--all", "show_all", is_flag=True, help="Every SKU with a reorder point, not only the low ones.")
@pass_app
def stock_low(app: App, show_all: bool) -> None:
    """SKUs whose available units (all warehouses, less reserved) are at or below their reorder point."""
    from channelsync.engine import lowstock

    rows = lowstock.levels(app.reader, app.config, only_low=not show_all)
    colour = not app.json and sys.stdout.isatty()
    human = table.render(["SKU", "title", "on hand", "reserved", "available", "reorder point", ""],
                         [[r["sku"], r["title"], r["on_hand"], r["reserved"], r["available"], r["reorder_point"],
                           table.paint("LOW", colour) if r["low"] else ""] for r in rows], right=(2, 3, 4, 5),
                         empty="(no SKU is at or below its reorder point)" if not show_all else
                         "(no SKU has a reorder point: set the catalog's reorder_point column or [low_stock])")
    app.emit(rows, human)


@click.group("orders")
def orders_group() -> None:
    """Ingested orders."""


@orders_group.command("list")
@click.option("--channel")
@click.option("--status", type=click.Choice(["new", "paid", "shipped", "completed", "cancelled", "refunded"]))
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@pass_app
def orders_list(app: App, channel: str | None, status: str | None, limit: int) -> None:
    rows = app.reader.query(
        "SELECT id, channel, external_id, status, total, modified_at, unmatched_lines FROM orders "
        "WHERE (? IS NULL OR channel = ?) AND (? IS NULL OR status = ?) ORDER BY modified_at DESC LIMIT ?",
        (channel, channel, status, status, limit))
    human = table.render(["id", "channel", "order", "status", "total", "modified", "note"],
                         [[r["id"], r["channel"], r["external_id"], r["status"], fen_to_yuan(r["total"]),
                           table.age(r["modified_at"]), "UNMATCHED LINES" if r["unmatched_lines"] else ""]
                          for r in rows], right=(0, 4), empty="no orders")
    app.emit(rows, human)


@orders_group.command("show")
@click.argument("order")
@pass_app
def orders_show(app: App, order: str) -> None:
    """ORDER: internal id, CHANNEL:EXTERNAL_ID, or an external id. Lines with what was
    shipped, refunded and returned; parcels; the after-sales history."""
    data = orders_detail(app.reader, find_order(app.reader, order))
    human = [f"order {data['channel']}:{data['external_id']} (#{data['id']}) {data['status']} "
             f"[{data['platform_status']}] total {fen_to_yuan(data['total'])}"]
    for ln in data["lines"]:
        counts = [f"{k} {ln[k]}" for k in ("shipped", "refunded", "received", "damaged", "expected_back") if ln[k]]
        if ln["released"]:
            counts.append(f"released {ln['released']}")
        where = ", ".join(f"{r['quantity']} in {r['warehouse'] or 'any warehouse'}" for r in ln["reserved"])
        human.append(f"  {ln['line_no']}. {ln['sku_code'] or '(unmatched ' + str(ln['external_sku_id']) + ')'} "
                     f"x{ln['quantity']} @ {fen_to_yuan(ln['price'])}" + (f"  ({', '.join(counts)})" if counts else "")
                     + (f"  reserved: {where}" if where else ""))
    for p in data["parcels"]:
        what = ", ".join(f"line {pl['line_no']} x{pl['quantity']}" for pl in p["lines"]) or "contents not listed"
        label = "exchange parcel" if p["kind"] == "exchange" else "parcel"
        human.append(f"  {label}: {p['carrier'] or '?'} {p['tracking_no'] or '?'} "
                     f"({what}; by {p['source']}, {_minute(p['at'])})")
    if data["after_sales"]:
        human.append("  after-sales:")
        for ev in data["after_sales"]:
            extra = (f", {ev['damaged']} damaged" if ev["damaged"] else "") + \
                    (f" at {ev['warehouse']}" if ev["warehouse"] else "") + (f" ({ev['note']})" if ev["note"] else "")
            human.append(f"    {_minute(ev['at'])}  line {ev['line_no']}  {ev['kind']} {ev['quantity']}{extra}  "
                         f"[{ev['source']}]")
    app.emit(data, "\n".join(human))


def _minute(stamp: str) -> str:
    """A stored UTC time as people read it in a list: to the minute."""
    return stamp[:16].replace("T", " ") + " UTC"


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (catalog_group, stock_group, orders_group):
        cli.add_command(command)
