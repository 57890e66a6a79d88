"""Size bands (app.dashboard.bands): the Python and SQL versions of the same table, the
declared capacity, sectors. Expected values written by hand from the bands: < 40, 40–99,
100–199, >= 200 places."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, literal, null, select

from app.dashboard.bands import (
    SIZE_BANDS,
    categories_of_sector,
    declared_capacity,
    sector_label,
    size_band,
    size_band_label,
    size_band_sql,
)

CASES: list[tuple[Any, str | None]] = [
    (None, None), (0, None), (-5, None),
    (1, "moins-de-40"), (39, "moins-de-40"), (39.5, "moins-de-40"),
    (40, "40-99"), (99, "40-99"), (99.9, "40-99"),
    (100, "100-199"), (199, "100-199"),
    (200, "200-et-plus"), (10_000, "200-et-plus"),
]


@pytest.mark.parametrize(("capacity", "band"), CASES)
def test_size_band(capacity: Any, band: str | None) -> None:
    assert size_band(capacity) == band


def test_size_band_sql_matches() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        for capacity, band in CASES:
            value = null() if capacity is None else literal(capacity)
            assert conn.execute(select(size_band_sql(value))).scalar_one() == band, capacity


def test_bands_and_labels() -> None:
    assert [(b.key, b.label) for b in SIZE_BANDS] == [
        ("moins-de-40", "Moins de 40 places"), ("40-99", "De 40 à 99 places"),
        ("100-199", "De 100 à 199 places"), ("200-et-plus", "200 places ou plus")]
    assert size_band_label("100-199") == "De 100 à 199 places"
    assert size_band_label(None) == "Capacité inconnue"


@pytest.mark.parametrize(("answers", "places"), [
    ({"capacite": 45}, 45), ({"capacite": 59.6}, 60), ({"capacite": 0}, None),
    ({"capacite": True}, None), ({"capacite": "60"}, None), ({}, None), (None, None)])
def test_declared_capacity(answers: Any, places: int | None) -> None:
    assert declared_capacity(answers) == places


def test_sectors() -> None:
    assert categories_of_sector("personnes_agees") == ["202", "207", "500", "501", "502"]
    assert categories_of_sector("domicile") == ["209", "354", "460"]
    assert sector_label("adultes_handicapes") == "Adultes handicapés"
    assert sector_label(None) == "Secteur inconnu"
