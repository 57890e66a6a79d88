"""Server-rendered SVG charts: the same markup in the page, the print view and the PDF.

Each chart carries a <title> and a <desc> and is meant to sit next to a data table.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from math import ceil

from markupsafe import Markup

from app.numbers_fr import number_fr

BAR = "#000091"  # DSFR blue France
BAR_ALT = "#6a6af4"
GRID = "#dddddd"
TEXT = "#161616"


def svg_open(width: float, height: float, *, title: str, desc: str, chart_id: str,
             font_size: int = 13) -> list[str]:
    """The opening tag, <title> and <desc> every chart starts with (labelled for AT).

    The class `palier-chart--min<N>` names the width (N px, by hundreds) under which the
    labels would render smaller than 10,5 px: on a narrow screen the chart keeps that width
    and scrolls inside its figure (static/css/palier.css)."""
    min_px = min(1200, max(500, 100 * ceil(width * 10.5 / font_size / 100)))
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'class="palier-chart palier-chart--min{min_px}" font-family="Marianne, Arial, sans-serif" '
        f'font-size="{font_size}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]


def columns_open(count: int, col_w: int, gap: int, plot_h: int, *, title: str, desc: str,
                 chart_id: str, font_size: int, extra_h: int = 0,
                 min_width: int = 0) -> list[str]:
    """The opening of a column chart: `count` columns of `col_w` with `gap` around them
    (at least `min_width` wide), a plot `plot_h` high over a baseline at `plot_h + 20`,
    40 px of labels under it and `extra_h` more (a legend)."""
    width = max(max(1, count) * (col_w + gap) + gap, min_width)
    base = plot_h + 20
    return [
        *svg_open(width, plot_h + 60 + extra_h, title=title, desc=desc, chart_id=chart_id,
                  font_size=font_size),
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="{TEXT}"/>',
    ]


def _fmt(x: float | None, decimals: int = 1) -> str:
    if x is None:
        return "non applicable"
    return number_fr(x, decimals)  # rounded half up like the tables next to the chart


def horizontal_bars(
    rows: Sequence[tuple[str, float | None]],
    *,
    title: str,
    desc: str,
    chart_id: str,
    maximum: float = 100.0,
    unit: str = "",
    compare: Sequence[float | None] | None = None,
    compare_label: str = "",
) -> Markup:
    """One bar per row (label, value); an optional second, thinner bar to compare."""
    label_w, bar_w, value_w, row_h = 260, 360, 110, 34 if compare else 28
    width = label_w + bar_w + value_w
    height = 24 + row_h * len(rows)
    parts = [
        *svg_open(width, height, title=title, desc=desc, chart_id=chart_id,
                  font_size=13),
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height}" stroke="{GRID}"/>')
        parts.append(f'<text x="{x:.1f}" y="11" text-anchor="middle" fill="{TEXT}" '
                     f'font-size="10">{round(maximum * tick / 100)}</text>')
    for i, (label, value) in enumerate(rows):
        y = 20 + i * row_h
        short = label if len(label) <= 38 else label[:36] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" '
                     f'fill="{TEXT}">{escape(short)}</text>')
        w = 0.0 if value is None else bar_w * max(0.0, min(value, maximum)) / maximum
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="16" '
                     f'fill="{BAR}"/>')
        text = _fmt(value) + (unit if value is not None else "")
        if compare is not None:
            other = compare[i]
            cw = 0.0 if other is None else bar_w * max(0.0, min(other, maximum)) / maximum
            parts.append(f'<rect x="{label_w}" y="{y + 22}" width="{cw:.1f}" height="6" '
                         f'fill="{BAR_ALT}"/>')
            text += f" ({compare_label} {_fmt(other)})"
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 16}" fill="{TEXT}">'
                     f'{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_counts(
    rows: Sequence[tuple[str, int]], *, title: str, desc: str, chart_id: str
) -> Markup:
    """Vertical bars of counts (e.g. structures per palier)."""
    col_w, gap, plot_h = 90, 24, 180
    top = max([c for _, c in rows] + [1])
    parts = columns_open(len(rows), col_w, gap, plot_h, title=title, desc=desc,
                         chart_id=chart_id, font_size=13)
    for i, (label, count) in enumerate(rows):
        x = gap + i * (col_w + gap)
        h = plot_h * count / top
        y = plot_h + 20 - h
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="{col_w}" height="{h:.1f}" '
                     f'fill="{BAR}"/>')
        parts.append(f'<text x="{x + col_w / 2}" y="{y - 4:.1f}" text-anchor="middle" '
                     f'fill="{TEXT}">{count}</text>')
        parts.append(f'<text x="{x + col_w / 2}" y="{plot_h + 38}" text-anchor="middle" '
                     f'fill="{TEXT}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
