"""Charts of a structure's own results (issue 10): its scores across its submissions (trend)
and its position among similar structures (like-for-like percentiles). Server-rendered SVG
like app/web/charts.py; each sits next to the table that gives the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from app.formatting import PARIS, date_fr
from app.web.charts import BAR, GRID, TEXT, _fmt, horizontal_bars, svg_open

# Domain lines: distinct DSFR illustrative colours, with a dash pattern each so that the
# lines differ without colour too; the global score is the thick blue line.
COLOURS = ("#c9191e", "#18753c", "#b34000", "#6e445a", "#0063cb", "#716043", "#a558a0",
           "#3a3a3a")
DASHES = ("6 3", "2 3", "8 3 2 3", "4 4", "1 2", "10 4", "3 6", "6 2 2 2")


def _series(history: Sequence[Any]) -> list[tuple[str, list[float | None]]]:
    """[(label, scores oldest first)]: the global score, then each domain."""
    entries = list(reversed(history))
    out: list[tuple[str, list[float | None]]] = [
        ("Score global", [e.global_score for e in entries])]
    labels: dict[str, str] = {}
    for e in entries:
        for d in e.domains:
            labels.setdefault(d["id"], d["label"])
    for did, label in labels.items():
        out.append((label, [next((d["score"] for d in e.domains if d["id"] == did), None)
                            for e in entries]))
    return out


def trend_chart(history: Sequence[Any], *, chart_id: str = "tendance") -> Markup | None:
    """Scores (0-100) of each submission, oldest to newest, with the palier reached above
    each one; None with fewer than two submissions (no trend to draw)."""
    if len(history) < 2:
        return None
    entries, series = list(reversed(history)), _series(history)
    left, right, top, plot_h = 44, 30, 40, 220
    step = max(90, min(160, 560 // (len(entries) - 1)))
    plot_w = step * (len(entries) - 1)
    legend_top = top + plot_h + 44
    height = legend_top + 22 * ((len(series) + 1) // 2) + 8
    width = left + plot_w + right + 40
    parts = svg_open(width, height, title="Évolution des scores de la structure",
                     desc="Score global et scores par domaine, sur 100, de chaque évaluation "
                          "transmise, de la plus ancienne à la plus récente, avec le palier "
                          "atteint ; les valeurs figurent dans le tableau de l’historique.",
                     chart_id=chart_id, font_size=13)

    def x(i: int) -> float:
        return left + 20 + step * i

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(v, 100.0)) / 100)

    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" '
                     f'y2="{y(tick):.1f}" stroke="{GRID}"/><text x="{left - 6}" '
                     f'y="{y(tick) + 4:.1f}" text-anchor="end" fill="{TEXT}" '
                     f'font-size="11">{tick}</text>')
    for i, e in enumerate(entries):
        at = e.assessment.submitted_at
        when = date_fr(at.astimezone(PARIS).date() if at.tzinfo else at.date())
        parts.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 20}" text-anchor="middle" '
                     f'fill="{TEXT}" font-size="11">{escape(when)}</text>')
        level = ((e.assessment.result or {}).get("tier") or {}).get("level")
        tier = "—" if level is None else f"Palier {level}"
        parts.append(f'<text x="{x(i):.1f}" y="{top - 12}" text-anchor="middle" '
                     f'fill="{TEXT}" font-weight="700">{escape(tier)}</text>')
    for k, (label, values) in enumerate(series):
        colour = BAR if k == 0 else COLOURS[(k - 1) % len(COLOURS)]
        dash = "" if k == 0 else f' stroke-dasharray="{DASHES[(k - 1) % len(DASHES)]}"'
        stroke = 4 if k == 0 else 2
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="{stroke}"{dash}/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{stroke + 1}" '
                         f'fill="{colour}"/>')
        lx = left + (k % 2) * (width - left) / 2
        ly = legend_top + 22 * (k // 2)
        parts.append(f'<line x1="{lx:.1f}" y1="{ly - 4}" x2="{lx + 28:.1f}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="{stroke}"{dash}/>')
        short = label if len(label) <= 34 else label[:32] + "…"
        last = next((v for v in reversed(values) if v is not None), None)
        parts.append(f'<text x="{lx + 34:.1f}" y="{ly}" fill="{TEXT}" font-size="12">'
                     f'{escape(short)} ({_fmt(last)})</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def position_chart(lfl: Any, position: Any) -> Markup | None:
    """The structure's percentile in its like-for-like group: global score, then each
    domain (None when the group is too small)."""
    if position.basis is None:
        return None
    rows = [("Score global", position.global_percentile),
            *((d["label"], d["percentile"]) for d in position.domains)]
    scope = "dans la région" if position.scope == "region" else "au niveau national"
    return horizontal_bars(
        rows, title=f"Centile de la structure parmi des structures semblables, {scope}",
        desc="Pour le score global et chaque domaine, la part (sur 100) des structures "
             "semblables dont le score est inférieur ; les valeurs figurent dans le tableau "
             "qui suit.", chart_id=f"position-{position.scope}-{lfl.structure.id}")
