"""Dashboard charts not covered by `app.web.charts`: stacked columns (paliers by quarter) and
paired bars (region and national scores).

Server-rendered SVG with a <title> and a <desc>, always shown next to a data table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

from app.web.charts import BAR, BAR_ALT, GRID, TEXT, _fmt, columns_open, svg_open

# One colour per palier, light to dark (DSFR illustrative palette), with a legend and the
# table next to the chart: colour is never the only carrier of the information.
TIER_COLOURS = ("#ce614a", "#c3992a", "#6a6af4", "#009081", "#000091")


def stacked_columns(
    columns: Sequence[tuple[str, Mapping[int, int]]],
    series: Sequence[tuple[int, str]],
    *,
    title: str,
    desc: str,
    chart_id: str,
) -> Markup:
    """One column per (label, {series key: count}), stacked in `series` order, with a
    legend; the total is written above each column."""
    col_w, gap, plot_h = 56, 18, 180
    top = max([sum(v.values()) for _, v in columns] + [1])
    base = plot_h + 20
    parts = columns_open(len(columns), col_w, gap, plot_h, title=title, desc=desc,
                         chart_id=chart_id, font_size=12,
                         extra_h=24 * ((len(series) + 2) // 3), min_width=560)
    for i, (label, values) in enumerate(columns):
        x = gap + i * (col_w + gap)
        y = float(base)
        for k, (key, _) in enumerate(series):
            count = values.get(key, 0)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            parts.append(f'<rect x="{x}" y="{y:.1f}" width="{col_w}" height="{h:.1f}" '
                         f'fill="{TIER_COLOURS[k % len(TIER_COLOURS)]}" stroke="#ffffff" '
                         f'stroke-width="0.5"/>')
        parts.append(f'<text x="{x + col_w / 2}" y="{y - 4:.1f}" text-anchor="middle" '
                     f'fill="{TEXT}">{sum(values.values())}</text>')
        parts.append(f'<text x="{x + col_w / 2}" y="{base + 16}" text-anchor="middle" '
                     f'fill="{TEXT}">{escape(label)}</text>')
    legend_y = base + 40
    for k, (_, name) in enumerate(series):
        lx = 10 + (k % 3) * 190
        ly = legend_y + (k // 3) * 24
        parts.append(f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" '
                     f'fill="{TIER_COLOURS[k % len(TIER_COLOURS)]}" stroke="{GRID}"/>')
        parts.append(f'<text x="{lx + 20}" y="{ly}" fill="{TEXT}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def compare_bars(
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    first: str = "Région",
    second: str = "National",
    maximum: float = 100.0,
) -> Markup:
    """Two bars per row (label, first value, second value) on a 0–maximum scale, each with
    its value written after the plot, and a legend."""
    label_w, bar_w, value_w, row_h = 250, 360, 130, 40
    width = label_w + bar_w + value_w
    top = 44
    height = top + row_h * len(rows) + 6
    colours = (BAR, BAR_ALT)
    parts = [
        *svg_open(width, height, title=title, desc=desc, chart_id=chart_id,
                  font_size=13),
    ]
    for k, name in enumerate((first, second)):
        x = label_w + k * 140
        parts.append(f'<rect x="{x}" y="2" width="14" height="14" fill="{colours[k]}"/>')
        parts.append(f'<text x="{x + 20}" y="14" fill="{TEXT}">{escape(name)}</text>')
    for tick in (0, 25, 50, 75, 100):
        tx = label_w + bar_w * tick / 100
        parts.append(f'<line x1="{tx:.1f}" y1="{top - 8}" x2="{tx:.1f}" y2="{height}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{x:.1f}" y="{top - 11}" text-anchor="middle" fill="{TEXT}" '
                     f'font-size="10">{round(maximum * tick / 100)}</text>')
    for i, (label, a, b) in enumerate(rows):
        y = top + i * row_h
        short = label if len(label) <= 36 else label[:34] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" '
                     f'fill="{TEXT}">{escape(short)}</text>')
        for k, (value, h, dy) in enumerate(((a, 14, 2), (b, 9, 19))):
            w = 0.0 if value is None else bar_w * max(0.0, min(value, maximum)) / maximum
            parts.append(f'<rect x="{label_w}" y="{y + dy}" width="{w:.1f}" height="{h}" '
                         f'fill="{colours[k]}"/>')
            parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + dy + h - 2}" '
                         f'font-size="{12 if k == 0 else 11}" fill="{TEXT}">'
                         f'{escape((first, second)[k])} {_fmt(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
