"""Size bands and sectors: how the dashboards group structures to compare like with like.

The size of a structure is the capacity declared in its latest assessment's profile section
(question `capacite`), else the structure's own capacity (FINESS import or admin). The bands
are defined here only; `size_band()` (Python) and `size_band_sql()` (SQL) read the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, literal, null

from app.reference import SECTOR_LABELS, finess_categories, sector_of_category

__all__ = [
    "CAPACITY_QUESTION",
    "SIZE_BANDS",
    "SIZE_BAND_LABELS",
    "SizeBand",
    "categories_of_sector",
    "declared_capacity",
    "sector_label",
    "sector_of_category",
    "size_band",
    "size_band_label",
    "size_band_sql",
]

CAPACITY_QUESTION = "capacite"  # profile question of the questionnaire (places)


@dataclass(frozen=True, slots=True)
class SizeBand:
    key: str
    label: str
    low: int  # inclusive, in places
    high: int | None  # exclusive; None: no upper bound


SIZE_BANDS: tuple[SizeBand, ...] = (
    SizeBand("moins-de-40", "Moins de 40 places", 0, 40),
    SizeBand("40-99", "De 40 à 99 places", 40, 100),
    SizeBand("100-199", "De 100 à 199 places", 100, 200),
    SizeBand("200-et-plus", "200 places ou plus", 200, None),
)
SIZE_BAND_LABELS: Mapping[str, str] = {b.key: b.label for b in SIZE_BANDS}
UNKNOWN_SIZE = "Capacité inconnue"


def size_band(capacity: float | int | None) -> str | None:
    """The band key of a capacity in places; None when unknown (missing or not positive)."""
    if capacity is None or isinstance(capacity, bool) or capacity <= 0:
        return None
    for band in SIZE_BANDS:
        if band.high is None or capacity < band.high:
            return band.key
    return None  # pragma: no cover - the last band is open


def size_band_sql(capacity: Any) -> ColumnElement[Any]:
    """The same bands as a SQL CASE over a capacity column (NULL when unknown)."""
    whens = [(capacity < b.high, literal(b.key)) for b in SIZE_BANDS if b.high is not None]
    last = SIZE_BANDS[-1]
    return case((capacity.is_(None), null()), (capacity <= 0, null()), *whens,
                else_=literal(last.key))


def size_band_label(key: str | None) -> str:
    return SIZE_BAND_LABELS.get(key or "", UNKNOWN_SIZE)


def sector_label(key: str | None) -> str:
    return SECTOR_LABELS.get(key or "", "Secteur inconnu")


def categories_of_sector(sector: str) -> list[str]:
    """FINESS category codes whose `public` is `sector`."""
    return sorted(c.code for c in finess_categories().values() if c.sector == sector)


def declared_capacity(answers: Mapping[str, Any] | None) -> int | None:
    """The capacity declared in the profile section, in places (rounded), or None."""
    value = (answers or {}).get(CAPACITY_QUESTION)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    places = round(value)
    return places if places > 0 else None
