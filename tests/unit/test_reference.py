from __future__ import annotations

from app.reference import (
    SECTOR_LABELS,
    departments,
    finess_categories,
    region_of_department,
    regions,
    sector_of_category,
)


def test_eighteen_regions_with_their_ars() -> None:
    assert len(regions()) == 18
    assert regions()["84"].name == "Auvergne-Rhône-Alpes"
    assert regions()["94"].name == "Corse"
    assert regions()["06"].ars == "ARS Mayotte"
    assert sorted(regions()) == [
        "01", "02", "03", "04", "06", "11", "24", "27", "28",
        "32", "44", "52", "53", "75", "76", "84", "93", "94",
    ]  # fmt: skip


def test_hundred_and_one_departments_each_in_a_known_region() -> None:
    assert len(departments()) == 101
    for department in departments().values():
        assert department.region_code in regions(), department
    assert {r for d in departments().values() for r in [d.region_code]} == set(regions())
    assert "20" not in departments()
    assert departments()["2A"].name == "Corse-du-Sud"
    assert departments()["973"].name == "Guyane"


def test_region_of_department() -> None:
    assert region_of_department("69") == "84"
    assert region_of_department("75") == "11"
    assert region_of_department("2A") == "94"
    assert region_of_department("2b") == "94"
    assert region_of_department("973") == "03"
    assert region_of_department("976") == "06"
    assert region_of_department("99") is None


def test_finess_categories_and_sectors() -> None:
    categories = finess_categories()
    assert len(categories) == 35
    ehpad = categories["500"]
    assert ehpad.label == "EHPAD (Établissement d'hébergement pour personnes âgées dépendantes)"
    assert ehpad.sector == "personnes_agees"
    assert ehpad.sector_label == "Personnes âgées"
    assert ehpad.aggregate_code is None
    assert categories["460"].label.startswith("Service autonomie aide (SAA")
    assert categories["209"].label.startswith("Service autonomie aide et soins (SAAS")
    assert sector_of_category("500") == "personnes_agees"
    assert sector_of_category("354") == "domicile"
    assert sector_of_category("183") == "enfants_handicapes"
    assert sector_of_category("255") == "adultes_handicapes"
    assert sector_of_category("177") == "protection_enfance"
    assert sector_of_category("999") is None
    assert {c.sector for c in categories.values()} <= set(SECTOR_LABELS)
