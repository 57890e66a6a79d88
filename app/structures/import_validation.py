"""Validation of the import's rows, without the database (the rules: app/structures/imports.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.reference import departments, finess_categories, region_of_department
from app.structures.adapters import SourceRow, StructureRecord
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


class _Decided(Exception):
    """A rule decided the line (rejected or skipped it): its result's status, message and
    reason."""

    def __init__(self, status: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


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
        """Decide one line by the per-line rules of app/structures/imports.py, in their order:
        the first rule that rejects or skips it writes its result; a line passing them all is
        planned (written later)."""
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
        warnings: list[str] = []
        try:
            values = self._values(row, rec, finess, warnings)
        except _Decided as decided:
            self._result(row, finess, decided.status, decided.message, decided.reason)
            return
        index = self._result(row, finess, IMPORTED)  # decided when writing
        self.planned.append(Planned(index, finess, values, warnings))

    def _values(
        self, row: SourceRow, rec: StructureRecord, finess: str, warnings: list[str]
    ) -> dict[str, Any]:
        """The structure's values, else `_Decided`; the line's warnings go to `warnings`."""
        category = rec.category_code.strip()
        if category not in self.options.categories:
            label = rec.category_label or "sans libellé"
            message = f"Catégorie {category or '(vide)'} ({label}) hors champ ESMS."
            raise _Decided(SKIPPED, message, "category")
        ej = self._numbers(rec, finess, warnings)
        department, region = self._place(rec, finess, warnings)
        if finess in self.first_line:
            message = f"Doublon : ce numéro FINESS figure déjà ligne {self.first_line[finess]}."
            raise _Decided(SKIPPED, message, "duplicate")
        self.first_line[finess] = row.line
        name = rec.name.strip()
        if not name:
            name = f"Établissement {finess}"
            warnings.append("Raison sociale absente.")
        known = self.categories.get(category)
        return {
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

    def _numbers(self, rec: StructureRecord, finess: str, warnings: list[str]) -> str | None:
        """Check the FINESS ET and EJ numbers, else `_Decided`; return the EJ (None: absent)."""
        check = validate(rec.finess)
        if not check.ok:
            message = "Numéro FINESS ET : " + " ".join(check.errors)
            raise _Decided(REJECTED, message, "finess_malformed")
        self.seen.add(finess)
        if check.warnings:
            warnings.append("Numéro FINESS ET : " + CHECK_DIGIT_WARNING)
        if not rec.finess_ej.strip():
            warnings.append("Numéro FINESS EJ absent : organisme gestionnaire inconnu.")
            return None
        ej_check = validate(rec.finess_ej)
        if not ej_check.ok:
            message = "Numéro FINESS EJ : " + " ".join(ej_check.errors)
            raise _Decided(REJECTED, message, "finess_ej_malformed")
        if ej_check.warnings:
            warnings.append("Numéro FINESS EJ : " + CHECK_DIGIT_WARNING)
        return ej_check.number

    def _place(self, rec: StructureRecord, finess: str, warnings: list[str]) -> tuple[str, str]:
        """(department, region) of the line, else `_Decided` (an unknown department, a line of
        another region than the one imported)."""
        department, dep_warning = resolve_department(rec.department, finess)
        if department is None:
            message = f"Département « {rec.department} » inconnu."
            raise _Decided(REJECTED, message, "department")
        if dep_warning:
            warnings.append(dep_warning)
        region = region_of_department(department)
        assert region is not None  # every reference department has a region
        if self.options.region is not None:
            if region != self.options.region:
                message = (
                    f"Structure de la région {region_words(region)}, hors de la "
                    f"région importée, {region_words(self.options.region)}."
                )
                raise _Decided(SKIPPED, message, "other_region")
            self.in_region += 1
        return department, region


# --- writing ----------------------------------------------------------------------------------
