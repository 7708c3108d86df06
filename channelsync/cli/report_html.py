"""The report as one self-contained HTML page: inline CSS and hand-drawn SVG charts, no
script and no network, so it opens the same in a mail attachment as on the office PC."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape

from channelsync.cli import table

PALETTE = ("#2f6fde", "#e8543f", "#20a36b", "#f0a202", "#8e5bd4", "#0fa3b1", "#d6447f", "#6b7a8f")
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 260, 70, 150, 16, 34

CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Zen Hei",system-ui,sans-serif;
margin:24px auto;max-width:1000px;color:#1d2733;background:#fff}
h1{font-size:22px;margin:0 0 4px}h3{font-size:14px;margin:14px 0 2px;color:#3a4653}h2{font-size:17px;margin:28px 0 8px}.sub{color:#5b6b7c;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{padding:5px 8px;border-bottom:1px solid #e3e8ee}
th{background:#f4f6f9;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;border-top:2px solid #9aa8b7}.up{color:#138a52}.down{color:#c8372d}
svg{display:block;max-width:100%;height:auto}svg text{font-size:11px;fill:#44505c}
.charts{display:grid;grid-template-columns:1fr;gap:8px}small{color:#5b6b7c}.note{color:#5b6b7c;font-size:12px}
"""


def _num(value: str | int | None) -> float:
    return float(Decimal(str(value))) if value not in (None, "") else 0.0


def _nice_max(value: float, whole: bool = False) -> float:
    """The top of an axis with four round steps above ``value`` (whole steps for counts)."""
    raw = max(value, 1e-9) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    if whole:
        step = max(1, math.ceil(step))
    return step * 4 if value > 0 else (4.0 if whole else 1.0)


def _axis(top: float, fmt) -> list[str]:
    out = []
    for i in range(5):
        v = top * i / 4
        y = TOP + (H - TOP - BOTTOM) * (1 - i / 4)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e8ee"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(v))}</text>')
    return out


def _legend(names: Sequence[str]) -> list[str]:
    return [f'<rect x="{W - RIGHT + 14}" y="{TOP + i * 18}" width="10" height="10" fill="{PALETTE[i % 8]}"/>'
            f'<text x="{W - RIGHT + 30}" y="{TOP + i * 18 + 9}">{escape(n)}</text>' for i, n in enumerate(names)]


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], fmt,
               whole: bool = False) -> str:
    """One line per series over ``labels`` (dots too, so a one-day report still shows)."""
    top = _nice_max(max([v for _, vs in series for v in vs] + [0]), whole)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / max(1, len(labels) - 1)
    x = [LEFT + (i * step if len(labels) > 1 else plot_w / 2) for i in range(len(labels))]
    parts = _axis(top, fmt)
    every = max(1, len(labels) // 10)
    parts += [f'<text x="{x[i]:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(lb[5:])}</text>'
              for i, lb in enumerate(labels) if i % every == 0]
    for k, (_, values) in enumerate(series):
        pts = [(x[i], TOP + plot_h * (1 - v / top)) for i, v in enumerate(values)]
        colour = PALETTE[k % 8]
        if len(pts) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                         + " ".join(f"{px:.1f},{py:.1f}" for px, py in pts) + '"/>')
        parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in pts]
    parts += _legend([n for n, _ in series])
    return _svg(title, parts)


def bar_chart(title: str, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], fmt) -> str:
    """Vertical bars, one group per label and one bar per series (e.g. this period, the one before)."""
    top = _nice_max(max([v for _, vs in series for v in vs] + [0]))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / max(1, len(groups))
    bar = min(28.0, slot * 0.8 / max(1, len(series)))
    parts = _axis(top, fmt)
    for g, label in enumerate(groups):
        x0 = LEFT + g * slot + (slot - bar * len(series)) / 2
        for k, (_, values) in enumerate(series):
            h = plot_h * values[g] / top
            parts.append(f'<rect x="{x0 + k * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar - 2:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[k % 8]}"><title>{escape(label)}: '
                         f'{escape(fmt(values[g]))}</title></rect><text x="{x0 + k * bar + bar / 2 - 1:.1f}" '
                         f'y="{TOP + plot_h - h - 4:.1f}" text-anchor="middle">{escape(fmt(values[g]))}</text>')
        parts.append(f'<text x="{LEFT + g * slot + slot / 2:.1f}" y="{H - BOTTOM + 16}" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts += _legend([n for n, _ in series])
    return _svg(title, parts)


def hbar_chart(title: str, rows: Sequence[tuple[str, float]], fmt) -> str:
    """Horizontal bars, largest first (top SKUs)."""
    height = TOP + 24 * max(1, len(rows)) + 10
    top = _nice_max(max([v for _, v in rows] + [0]), whole=True)
    left, plot_w = 180, W - 180 - 80
    parts = []
    for i, (label, value) in enumerate(rows):
        y = TOP + i * 24
        w = plot_w * value / top
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{escape(label[:26])}</text>'
                     f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="16" fill="{PALETTE[0]}"/>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 14}">{escape(fmt(value))}</text>')
    if not rows:
        parts.append(f'<text x="{left}" y="{TOP + 14}">no valid orders in the period</text>')
    return _svg(title, parts, height)


def _svg(title: str, parts: list[str], height: int = H) -> str:
    return (f'<h3>{escape(title)}</h3><svg role="img" aria-label="{escape(title)}" viewBox="0 0 {W} {height}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>' + "".join(parts) + "</svg>")


def _cls(text: str) -> str:
    return ' class="n up"' if text.startswith("+") else ' class="n down"' if text.startswith("-") and text != "-" \
        else ' class="n"'


def _summary(data: dict) -> str:
    heads = ("channel", "orders", "valid", "valid %", "sales ¥", "vs prev", "AOV ¥", "gross profit ¥", "margin",
             "refund %", "return %")
    out = ["<table><tr>" + "".join(f'<th{" class=n" if i else ""}>{h}</th>' for i, h in enumerate(heads)) + "</tr>"]
    for s in data["channels"] + [data["total"]]:
        t, b = s["total"], s["previous"]
        vs = table.change(_num(t["sales"]), _num(b["sales"]))
        cells = [t["orders"], t["valid_orders"], table.percent(t["valid_rate"]), t["sales"], None, t["aov"] or "-",
                 t["gross_profit"], table.percent(t["margin"]), table.percent(t["refund_rate"]),
                 table.percent(t["return_rate"])]
        row = "".join(f"<td{_cls(vs)}>{escape(vs)}</td>" if v is None and i == 4 else f'<td class="n">{escape(str(v))}</td>'
                      for i, v in enumerate(cells))
        total = ' class="total"' if s["channel"] is None else ""
        out.append(f"<tr{total}><td>{escape(s['name'])}</td>{row}</tr>")
    return "".join(out) + "</table>"


def _by_bucket(data: dict) -> str:
    """Sales and orders per channel per day (or week): the numbers behind the charts."""
    chans = data["channels"]
    head = "".join(f'<th class="n">{escape(s["name"])}</th>' for s in chans)
    rows = []
    for i, label in enumerate(data["period"]["buckets"]):
        cells = "".join(f'<td class="n">{escape(s["buckets"][i]["sales"])}<br><small>{s["buckets"][i]["orders"]} '
                        f'orders</small></td>' for s in chans)
        t = data["total"]["buckets"][i]
        rows.append(f'<tr><td>{escape(label)}</td>{cells}<td class="n">{escape(t["sales"])}<br><small>'
                    f'{t["orders"]} orders</small></td></tr>')
    return (f'<table><tr><th>{escape(data["period"]["by"])}</th>{head}<th class="n">total</th></tr>'
            + "".join(rows) + "</table>")


def render_html(data: dict) -> str:
    """The page for a report whose money is already in yuan strings (``_yuan_report``)."""
    p, prev = data["period"], data["previous_period"]
    labels = p["buckets"]
    chans = data["channels"]
    yuan = lambda v: f"¥{v:,.0f}"
    count = lambda v: f"{v:.0f}"
    pct = lambda v: f"{v * 100:.1f}%"
    charts = [
        line_chart("Sales per channel (yuan)", labels,
                   [(s["name"], [_num(b["sales"]) for b in s["buckets"]]) for s in chans], yuan),
        line_chart("Orders per channel", labels,
                   [(s["name"], [float(b["orders"]) for b in s["buckets"]]) for s in chans], count, whole=True),
        bar_chart("Return rate per channel", [s["name"] for s in chans] + ["total"],
                  [("this period", [s["total"]["return_rate"] or 0.0 for s in chans + [data["total"]]]),
                   ("previous period", [s["previous"]["return_rate"] or 0.0 for s in chans + [data["total"]]])], pct),
    ]
    tops = [(f"{t['sku']} {t['title']}".strip(), float(t["units"])) for t in data["top_skus"]]
    sku_rows = "".join(f'<tr><td class="n">{i}</td><td>{escape(t["sku"])}</td><td>{escape(t["title"])}</td>'
                       f'<td class="n">{t["units"]}</td><td class="n">{t["sales"]}</td>'
                       f'<td class="n">{t["previous_units"]}</td></tr>' for i, t in enumerate(data["top_skus"], 1))
    missing = data["total"]["total"]["lines_without_cost"]
    note = (f'<p class="note">{missing} sold line(s) have no SKU cost: gross profit counts them at cost 0.</p>'
            if missing else "")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sales report {escape(p['from'])} – {escape(p['to'])}</title><style>{CSS}</style></head><body>
<h1>Sales report {escape(p['from'])} – {escape(p['to'])}</h1>
<p class="sub">By {escape(p['by'])}, days in {escape(p['timezone'])}; money in yuan (¥);
compared with {escape(prev['from'])} – {escape(prev['to'])}.</p>
<h2>Summary</h2>{_summary(data)}{note}
<h2>Sales, orders and returns</h2><div class="charts">{''.join(charts)}</div>
<h2>Sales (¥) by {escape(p['by'])}</h2>{_by_bucket(data)}
<h2>Top SKUs</h2>{hbar_chart("Units sold by SKU", tops, count)}
<table><tr><th class="n">#</th><th>SKU</th><th>title</th><th class="n">units</th><th class="n">sales ¥</th>
<th class="n">units before</th></tr>{sku_rows}</table>
<p class="note">Valid orders: paid and not refunded. Return rate: orders refunded after shipment / orders paid.
Generated by channelsync.</p>
</body></html>
"""
