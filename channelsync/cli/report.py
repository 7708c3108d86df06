"""``channelsync report``: sales, valid orders, profit, refunds and returns per channel and in
total, by day or week, against the previous period; as a table, JSON, CSV or an HTML page."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from channelsync.cli import table
from channelsync.cli.app import App, pass_app
from channelsync.engine import report as sales
from channelsync.sdk.errors import UserError
from channelsync.sdk.hookspecs import hookimpl
from channelsync.sdk.money import fen_to_yuan

MONEY = ("sales", "aov", "cost", "gross_profit")
RATES = ("valid_rate", "margin", "refund_rate", "return_rate")
CSV_COLUMNS = ("orders", "valid_orders", "valid_rate", "sales", "aov", "cost", "gross_profit", "margin",
               "refunded_orders", "refund_rate", "returned_orders", "return_rate", "lines_without_cost")


def in_yuan(figures: dict) -> dict:
    """Figures with money as yuan strings ("1234.50") and rates as they are."""
    return {k: (fen_to_yuan(v) if k in MONEY and v is not None else v) for k, v in figures.items()}


def _yuan_report(data: dict) -> dict:
    """The whole report with money in yuan (JSON and HTML show yuan; the engine counts fen)."""
    def tops(rows: list[dict]) -> list[dict]:
        return [{**t, "sales": fen_to_yuan(t["sales"])} for t in rows]

    def section(s: dict) -> dict:
        out = {**s, "buckets": [in_yuan(b) for b in s["buckets"]], "total": in_yuan(s["total"]),
               "previous": in_yuan(s["previous"])}
        if "top_skus" in s:
            out["top_skus"] = tops(s["top_skus"])
        return out
    return {**data, "currency": "CNY", "channels": [section(s) for s in data["channels"]],
            "total": section(data["total"]),
            "top_skus": tops(data["top_skus"])}


def _date(_ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2026-11-11, got {value!r}", param=param) from None


@click.command("report")
@click.option("--by", type=click.Choice(["day", "week"]), default="day", show_default=True,
              help="One row per day or per week (Monday to Sunday).")
@click.option("--from", "start", callback=_date, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", callback=_date, help="Last day (YYYY-MM-DD, default today).")
@click.option("--last", "count", type=click.IntRange(1, 3660), help="Days (or weeks) up to --to [7 days, 4 weeks].")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True, help="Top SKUs by units.")
@click.option("--tz", default="Asia/Shanghai", show_default=True, help="Time zone the days are cut in.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, allow_dash=True), help="Write CSV here ('-': stdout).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write a self-contained HTML page here.")
@pass_app
def report(app: App, by, start, end, count, channels, top, tz, csv_file, html_file) -> None:
    """Orders, valid orders, sales, average order value, gross profit and margin, refund and
    return rates and the top SKUs, per channel and in total, with the previous period beside."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"--tz: unknown time zone {tz!r} (expected a name like Asia/Shanghai or UTC)") from None
    if start is not None and count is not None:
        raise click.UsageError("give --from or --last, not both")
    try:
        period = sales.make_period(by, zone, datetime.now(zone).date(), start, end, count)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    names = app.channel_names(channels) if channels else None
    data = sales.build(app.store, app.config, period, names, top)
    if html_file:
        from channelsync.cli.report_html import render_html

        Path(html_file).write_text(render_html(_yuan_report(data)), encoding="utf-8")
    if csv_file:
        text = to_csv(data)
        if csv_file == "-":
            click.echo(text, nl=False)
            return
        Path(csv_file).write_text(text, encoding="utf-8-sig")  # with a BOM: Excel then reads the Chinese names
    if app.json:
        app.emit(_yuan_report(data))
    elif csv_file != "-":
        click.echo(to_text(data) + (f"\n\nHTML report written to {html_file}" if html_file else "")
                   + (f"\nCSV written to {csv_file}" if csv_file else ""))


def to_csv(data: dict) -> str:
    """One row per (bucket, channel), then each channel's period total and previous period."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("period", "channel", "name") + CSV_COLUMNS)
    for s in data["channels"] + [data["total"]]:
        rows = [(b["start"], b) for b in s["buckets"]]
        rows += [(f"{data['period']['from']}..{data['period']['to']}", s["total"]),
                 (f"{data['previous_period']['from']}..{data['previous_period']['to']}", s["previous"])]
        for label, f in rows:
            f = in_yuan(f)
            writer.writerow([label, s["channel"] or "all", s["name"]] + ["" if f[c] is None else f[c]
                                                                         for c in CSV_COLUMNS])
    return out.getvalue()


def to_text(data: dict) -> str:
    p, prev = data["period"], data["previous_period"]
    title = (f"Sales report {p['from']} to {p['to']} by {p['by']} ({p['timezone']}), money in yuan; "
             f"previous period {prev['from']} to {prev['to']}")
    parts = [title, ""]
    rows = []
    for s in data["channels"] + [data["total"]]:
        t, b = s["total"], s["previous"]
        rows.append([s["name"], t["orders"], t["valid_orders"], table.percent(t["valid_rate"]),
                     fen_to_yuan(t["sales"]), table.change(t["sales"], b["sales"]),
                     fen_to_yuan(t["aov"]) or "-", fen_to_yuan(t["gross_profit"]), table.percent(t["margin"]),
                     table.percent(t["refund_rate"]), table.percent(t["return_rate"]),
                     table.change(t["valid_orders"], b["valid_orders"])])
    parts.append(table.render(["channel", "orders", "valid", "valid %", "sales", "vs prev", "AOV", "gross profit",
                               "margin", "refund %", "return %", "valid vs prev"], rows, right=range(1, 12)))
    names = [s["name"] for s in data["channels"]]
    by_bucket = [[b] + [fen_to_yuan(s["buckets"][i]["sales"]) for s in data["channels"]]
                 + [fen_to_yuan(data["total"]["buckets"][i]["sales"]), data["total"]["buckets"][i]["orders"]]
                 for i, b in enumerate(p["buckets"])]
    parts += ["", f"Sales by {p['by']}",
              table.render([p["by"]] + names + ["total", "orders"], by_bucket, right=range(1, len(names) + 3))]
    tops = [[i, t["sku"], t["title"], t["units"], fen_to_yuan(t["sales"]), t["previous_units"]]
            for i, t in enumerate(data["top_skus"], 1)]
    parts += ["", "Top SKUs by units sold",
              table.render(["#", "SKU", "title", "units", "sales", "units before"], tops, right=(0, 3, 4, 5),
                           empty="(no valid orders in the period)")]
    if len(data["channels"]) > 1:
        per = [[s["name"], ", ".join(f"{t['sku']} x{t['units']}" for t in s["top_skus"][:3]) or "-"]
               for s in data["channels"]]
        parts += ["", "Top 3 SKUs per channel", table.render(["channel", "SKU x units"], per)]
    missing = data["total"]["total"]["lines_without_cost"]
    if missing:
        parts.append(f"\nnote: {missing} sold line(s) have no SKU cost; gross profit counts them at cost 0 "
                     "(set `cost` in the catalog)")
    return "\n".join(parts)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(report)
