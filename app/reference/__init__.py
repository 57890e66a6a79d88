"""Reference data shipped with the app: regions, departments (INSEE codes), FINESS categories.

The CSV files in `data/` are copies of `shared/data/`; loaders are cached and return
read-only views keyed by code.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

__all__ = [
    "SECTOR_LABELS",
    "Category",
    "Department",
    "Region",
    "departments",
    "finess_categories",
    "region_of_department",
    "regions",
    "sector_of_category",
]

# The FINESS `public` column, which the product calls the sector.
SECTOR_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "personnes_agees": "Personnes âgées",
        "domicile": "Domicile",
        "enfants_handicapes": "Enfants handicapés",
        "adultes_handicapes": "Adultes handicapés",
        "addictologie": "Addictologie",
        "difficultes_specifiques": "Personnes confrontées à des difficultés spécifiques",
        "inclusion_sociale": "Inclusion sociale",
        "protection_enfance": "Protection de l'enfance",
    }
)


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # INSEE region code, e.g. "84"
    name: str
    ars: str


@dataclass(frozen=True, slots=True)
class Department:
    code: str  # INSEE department code: "01".."95", "2A", "2B", "971".."976"
    name: str
    region_code: str


@dataclass(frozen=True, slots=True)
class Category:
    code: str  # FINESS categetab, e.g. "500"
    label: str
    sector: str  # the file's `public` column, a key of SECTOR_LABELS
    aggregate_code: str | None = None  # categagretab, when the file gives it
    aggregate_label: str | None = None

    @property
    def sector_label(self) -> str:
        return SECTOR_LABELS.get(self.sector, self.sector)


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("data", filename).read_text(encoding="utf-8")
    return [
        {k.strip(): (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(text.splitlines())
    ]


@cache
def regions() -> Mapping[str, Region]:
    return MappingProxyType(
        {r["code"]: Region(r["code"], r["name"], r["ars"]) for r in _rows("regions.csv")}
    )


@cache
def departments() -> Mapping[str, Department]:
    return MappingProxyType(
        {
            r["code"]: Department(r["code"], r["name"], r["region_code"])
            for r in _rows("departments.csv")
        }
    )


@cache
def finess_categories() -> Mapping[str, Category]:
    return MappingProxyType(
        {
            r["code"]: Category(
                code=r["code"],
                label=r["label"],
                sector=r["public"],
                aggregate_code=r.get("aggregate_code") or None,
                aggregate_label=r.get("aggregate_label") or None,
            )
            for r in _rows("finess_categories.csv")
        }
    )


def region_of_department(code: str) -> str | None:
    """The INSEE region code of a department code, or None if the code is unknown."""
    department = departments().get(code.strip().upper())
    return department.region_code if department else None


def sector_of_category(code: str) -> str | None:
    """The sector (FINESS `public`) of a category code, or None if the code is unknown."""
    category = finess_categories().get(code.strip())
    return category.sector if category else None


def region_words(code: str | None, unknown: str = "—") -> str:
    """"84" -> "Auvergne-Rhône-Alpes (84)"; a code not in the list as is; none: `unknown`."""
    r = regions().get(code or "")
    return f"{r.name} ({code})" if r else (code or unknown)


def department_words(code: str | None, unknown: str = "—") -> str:
    """"38" -> "Isère (38)"; a code not in the list as is; none: `unknown`."""
    d = departments().get(code or "")
    return f"{d.name} ({code})" if d else (code or unknown)
