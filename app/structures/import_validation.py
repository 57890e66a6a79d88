"""Validation of the import's rows, without the database (the rules: app/structures/imports.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.reference import departments, finess_categories, region_of_department
from app.structures.adapters import SourceRow
from app.structures.finess import CHECK_DIGIT_WARNING, department_of, normalize, validate
from app.structures.import_types import (
    IMPORTED,
    REJECTED,
    SKIPPED,
    ImportOptions,
    ImportReport,
    LineResult,
    department_words,
    region_words,
)

# Overseas departments as letters in the etalab file, confirmed in domain.md. Other `9X`
# letters are uncertain: the department is then derived from the FINESS number.
OVERSEAS_LETTERS = {"9A": "971", "9C": "973"}
_OVERSEAS_LETTER = re.compile(r"9[A-Z]")


@dataclass(slots=True)
class Planned:
    index: int  # into ImportReport.lines
    finess: str
    values: dict[str, Any]
    warnings: list[str]


def resolve_department(file_code: str, finess: str) -> tuple[str | None, str | None]:
    """(INSEE department code or None, warning or None) for a line.

    The file's code when it is an INSEE code; overseas letters (`9A`, `9C`) through the
    confirmed table; otherwise the department the FINESS number was registered in.
    """
    code = file_code.strip().upper()
    if code in departments():
        return code, None
    if code in OVERSEAS_LETTERS:
        return OVERSEAS_LETTERS[code], None
    derived = department_of(finess)
    if derived is None:
        return None, None
    if code and not _OVERSEAS_LETTER.fullmatch(code):
        return derived, (
            f"Département « {code} » inconnu : département "
            f"{department_words(derived)} déduit du numéro FINESS."
        )
    return derived, None


class Validator:
    def __init__(self, options: ImportOptions, report: ImportReport) -> None:
        self.options = options
        self.report = report
        self.first_line: dict[str, int] = {}  # FINESS ET -> line of its first occurrence
        self.seen: set[str] = set()  # well-formed numbers of ESMS lines (and broken lines)
        self.planned: list[Planned] = []
        self.in_region = 0  # lines of the import's region (closure guard)
        self.categories = finess_categories()

    def _result(
        self,
        row: SourceRow,
        finess: str,
        status: str,
        message: str = "",
        reason: str | None = None,
        warnings: int = 0,
    ) -> int:
        self.report.lines.append(LineResult(row.line, finess, status, message, reason, warnings))
        return len(self.report.lines) - 1

    def _hint(self, raw: str | None) -> None:
        if raw and validate(raw).ok:
            self.seen.add(normalize(raw))

    def add(self, row: SourceRow) -> None:
        # Long on purpose: the ordered per-line rules of app/structures/imports.py, top to bottom.
        if row.error is not None:
            self._hint(row.finess_hint)
            self._result(row, normalize(row.finess_hint or ""), REJECTED, row.error, "field_count")
            return
        if row.ignored is not None:
            self._result(row, "", SKIPPED, row.ignored, "other_kind")
            return
        rec = row.record
        assert rec is not None
        finess = normalize(rec.finess)
        category = rec.category_code.strip()
        if category not in self.options.categories:
            label = rec.category_label or "sans libellé"
            self._result(
                row,
                finess,
                SKIPPED,
                f"Catégorie {category or '(vide)'} ({label}) hors champ ESMS.",
                "category",
            )
            return
        check = validate(rec.finess)
        if not check.ok:
            self._result(
                row,
                finess,
                REJECTED,
                "Numéro FINESS ET : " + " ".join(check.errors),
                "finess_malformed",
            )
            return
        self.seen.add(finess)
        warnings: list[str] = []
        if check.warnings:
            warnings.append("Numéro FINESS ET : " + CHECK_DIGIT_WARNING)
        ej: str | None = None
        if rec.finess_ej.strip():
            ej_check = validate(rec.finess_ej)
            if not ej_check.ok:
                self._result(
                    row,
                    finess,
                    REJECTED,
                    "Numéro FINESS EJ : " + " ".join(ej_check.errors),
                    "finess_ej_malformed",
                )
                return
            ej = ej_check.number
            if ej_check.warnings:
                warnings.append("Numéro FINESS EJ : " + CHECK_DIGIT_WARNING)
        else:
            warnings.append("Numéro FINESS EJ absent : organisme gestionnaire inconnu.")
        department, dep_warning = resolve_department(rec.department, finess)
        if department is None:
            self._result(
                row, finess, REJECTED, f"Département « {rec.department} » inconnu.", "department"
            )
            return
        if dep_warning:
            warnings.append(dep_warning)
        region = region_of_department(department)
        assert region is not None  # every reference department has a region
        if self.options.region is not None:
            if region != self.options.region:
                self._result(
                    row,
                    finess,
                    SKIPPED,
                    f"Structure de la région {region_words(region)}, hors de la "
                    f"région importée, {region_words(self.options.region)}.",
                    "other_region",
                )
                return
            self.in_region += 1
        if finess in self.first_line:
            self._result(
                row,
                finess,
                SKIPPED,
                f"Doublon : ce numéro FINESS figure déjà ligne {self.first_line[finess]}.",
                "duplicate",
            )
            return
        self.first_line[finess] = row.line
        name = rec.name.strip()
        if not name:
            name = f"Établissement {finess}"
            warnings.append("Raison sociale absente.")
        known = self.categories.get(category)
        values = {
            "finess_ej": ej,
            "name": name,
            "category_code": category,
            "category_label": known.label
            if known
            else (rec.category_label or f"Catégorie {category}"),
            "department": department,
            "region": region,
            "city": rec.city or None,
        }
        index = self._result(row, finess, IMPORTED)  # decided when writing
        self.planned.append(Planned(index, finess, values, warnings))


# --- writing ----------------------------------------------------------------------------------
