"""Column widths of the streamed XLSX files, decided before the first row is written (the
sheet's `<cols>` head comes before its rows): from each column's kind and header.

A width is in characters of the default font: the kind's width, widened to show the header
(up to HEADER_MAX). The kind is given by the caller, or read from the header's words.
"""

from __future__ import annotations

from collections.abc import Sequence

KIND_WIDTHS = {
    "code": 12,  # FINESS number, INSEE or category code, version
    "number": 10,  # rank, capacity, palier level, counts
    "score": 10,  # one decimal, on 100
    "date": 18,  # "2026-03-01 14:05"
    "label": 24,  # department, region, sector, status
    "name": 40,  # structure name, FINESS category label, reason
    "text": 60,  # requirement, action, criteria values
}
HEADER_MAX = 32

_NUMBERS = ("rang", "capacité", "palier", "structures", "exigences manquantes", "nombre")
_NAMES = ("nom", "structure", "catégorie", "motif", "libellé", "critère")
_TEXTS = ("exigence", "action proposée", "financements", "message")


def column_kind(header: str) -> str:
    """The kind a header's words tell: "Code département" is a code, "Score global" a score,
    "Transmise le (heure de Paris)" a date…; anything else a label."""
    h = header.strip().lower()
    if h.startswith("code") or h in ("finess", "identifiant", "version"):
        return "code"
    if "(heure de paris)" in h or h.startswith(("date", "transmise le")):
        return "date"
    if h.startswith(("score", "valeur de classement", "moyenne")):
        return "score"
    if h in _TEXTS:
        return "text"
    if h.startswith(_NUMBERS):
        return "number"
    if h.startswith(_NAMES):
        return "name"
    return "label"


def column_width(header: str, kind: str | None = None) -> float:
    base = KIND_WIDTHS[kind or column_kind(header)]
    return float(max(base, min(len(header) + 2, HEADER_MAX)))


def column_widths(header: Sequence[str], kinds: Sequence[str | None] = ()) -> list[float]:
    """One width per header; `kinds[i]` (when given and not None) overrides the words."""
    return [column_width(h, kinds[i] if i < len(kinds) else None) for i, h in enumerate(header)]
