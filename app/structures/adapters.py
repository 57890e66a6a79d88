"""Sources of FINESS structures: one adapter per file format, all yielding `SourceRow`s.

An adapter only reads and splits: it says which line a row comes from, gives the raw values
of the establishment (ET) it describes, or says why the line cannot be read. Validation
(numbers, categories, departments, regions, duplicates) is the import service's job
(`app.structures.imports`), the same for every format.

Formats:
- `EtalabCsvAdapter`: the legacy etalab extraction (domain.md), `;`-separated, no header
  row but a first line `finess;etalab;<n>;<date>`, then `structureet` lines of 32 fields;
  UTF-8 or Latin-1.
- FiNESS+ JSON (ANS daily feed), not written yet. A second adapter will read
  `pmej[]` (entités juridiques: `numFinessEj`, raison sociale) and, for each,
  `pmej[].ege[]` (établissements géographiques), mapping
  `ege[].informationsGeneralesEGE.numFinessEge` → `finess`, the enclosing EJ's number →
  `finess_ej`, the EGE's raison sociale (longue if present) → `name`, its catégorie
  (code and libellé) → `category_code` / `category_label`, its département → `department`
  (INSEE code, so no overseas letters), its commune → `city`; WGS84 coordinates could be
  kept later. It will yield the same `SourceRow`s, numbering rows by their position in the
  feed (`line` = 1-based index of the EGE) since JSON has no meaningful line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from scoring.text import text_problem

__all__ = [
    "ETALAB_FIELDS",
    "EtalabCsvAdapter",
    "SourceFormatError",
    "SourceRow",
    "StructureRecord",
    "StructureSource",
    "decode",
]


class SourceFormatError(Exception):
    """The file as a whole is not of the adapter's format (nothing can be imported)."""


@dataclass(frozen=True, slots=True)
class StructureRecord:
    """The raw values of one establishment, as the source gives them (stripped)."""

    finess: str  # nofinesset
    finess_ej: str  # nofinessej ("" if absent)
    name: str
    category_code: str
    category_label: str
    department: str  # the file's department code: "01", "2A", "9C"... ("" if absent)
    city: str | None
    postal_code: str | None


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One line of the source: a record, or why it cannot be read (`error`).

    `finess_hint`: the second field of an unreadable line, so that a full re-import does not
    close a structure only because its line was broken.
    """

    line: int
    record: StructureRecord | None = None
    error: str | None = None
    finess_hint: str | None = None
    ignored: str | None = None  # a line of another kind, skipped with this reason


@runtime_checkable
class StructureSource(Protocol):
    """What the import service needs from a source."""

    name: str  # short id of the format, stored on the ImportJob ("etalab")
    encoding: str  # how the bytes were decoded ("utf-8", "latin-1"...; "json" for JSON)
    header: str  # the source's own description of itself (e.g. its first line)

    @property
    def total_lines(self) -> int:
        """Lines (or items) in the source, for progress: the last `SourceRow.line` at most."""
        ...

    def rows(self) -> Iterator[SourceRow]:
        """The data rows in order (the header is not a row)."""
        ...


def decode(data: bytes) -> tuple[str, str]:
    """Bytes to text: UTF-8 if the whole file is valid UTF-8 (BOM dropped), else Latin-1.

    Latin-1 bytes 0x80-0x9F are control characters, never text: such files are really
    Windows-1252 (its superset for printable characters: ’ œ …), decoded as such when they
    can be. Returns (text, encoding name).
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "latin-1"
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: not cp1252
        return data.decode("latin-1"), "latin-1"


# The 32 fields of a `structureet` line, in order (domain.md).
ETALAB_FIELDS = (
    "structureet", "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib",
    "numvoie", "typvoie", "voie", "compvoie", "lieuditbp", "commune", "departement",
    "libdepartement", "ligneacheminement", "telephone", "telecopie", "categetab",
    "libcategetab", "categagretab", "libcategagretab", "siret", "codeape", "codemft",
    "libmft", "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai",
)  # fmt: skip
_I = {name: i for i, name in enumerate(ETALAB_FIELDS)}
HEADER = re.compile(r"finess;etalab(;.*)?", re.IGNORECASE)
# Other kinds of lines found in etalab extractions: not establishments, not errors.
OTHER_KINDS = frozenset({"geolocalisation", "structureej"})
# "75013 PARIS", "97300 CAYENNE", "20000 AJACCIO CEDEX 1"
_ACHEMINEMENT = re.compile(r"(\d{5})\s+(.*)")


def _field(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('""', '"').strip()
    return value


class EtalabCsvAdapter:
    """The legacy etalab CSV extraction (`etalab-cs1100507-stock-*.csv`).

    Fields are split on `;` (the extraction does not quote; a field wrapped in double quotes
    is unwrapped). Lines are split on `\\n` only (`\\r` stripped), so line numbers are those an
    editor shows. A `structureet` line with a number of fields other than 32 is an error;
    `geolocalisation` / `structureej` lines are ignored; blank lines are not rows.
    """

    name = "etalab"

    def __init__(self, data: bytes, *, filename: str = "") -> None:
        self.filename = filename
        self.text, self.encoding = decode(data)
        self._lines = self.text.split("\n")
        if self._lines and self._lines[-1] == "":
            self._lines.pop()
        first = self._lines[0].strip().rstrip("\r") if self._lines else ""
        if not HEADER.fullmatch(first):
            shown = first[:60] + ("…" if len(first) > 60 else "")
            raise SourceFormatError(
                "Ce fichier n’est pas une extraction FINESS au format etalab : la première "
                f"ligne devrait commencer par « finess;etalab », elle vaut « {shown} »."
            )
        self.header = first
        self.other_lines: dict[str, int] = {}  # kind -> count of ignored known lines

    @classmethod
    def from_path(cls, path: Path) -> EtalabCsvAdapter:
        return cls(path.read_bytes(), filename=path.name)

    @property
    def total_lines(self) -> int:
        return len(self._lines)

    def rows(self) -> Iterator[SourceRow]:
        expected = len(ETALAB_FIELDS)
        for number, raw in enumerate(self._lines[1:], start=2):
            line = raw.rstrip("\r")
            if not line.strip():
                continue
            if (bad := text_problem(line, len(line))) is not None:  # e.g. a NUL byte
                yield SourceRow(number, error=f"Ligne illisible : {bad}.")
                continue
            fields = [_field(v) for v in line.split(";")]
            kind = fields[0].lower()
            if kind in OTHER_KINDS:
                self.other_lines[kind] = self.other_lines.get(kind, 0) + 1
                continue
            hint = fields[1] if len(fields) > 1 else None
            if kind != "structureet":
                yield SourceRow(number, ignored=f"Ligne de type « {fields[0][:30]} » ignorée : "
                                                "seules les lignes d’établissement "
                                                "(« structureet ») sont lues.",
                                finess_hint=hint)
                continue
            if len(fields) != expected:
                yield SourceRow(number, error=f"{len(fields)} champs au lieu de {expected} "
                                              "(ligne tronquée ou séparateur en trop).",
                                finess_hint=hint)
                continue
            yield SourceRow(number, record=self._record(fields))

    @staticmethod
    def _record(f: list[str]) -> StructureRecord:
        postal_code = city = None
        match = _ACHEMINEMENT.fullmatch(f[_I["ligneacheminement"]])
        if match:
            postal_code, city = match.group(1), match.group(2).strip() or None
        elif f[_I["ligneacheminement"]]:
            city = f[_I["ligneacheminement"]]
        return StructureRecord(
            finess=f[_I["nofinesset"]],
            finess_ej=f[_I["nofinessej"]],
            name=f[_I["rslongue"]] or f[_I["rs"]],
            category_code=f[_I["categetab"]],
            category_label=f[_I["libcategetab"]],
            department=f[_I["departement"]].upper(),
            city=city,
            postal_code=postal_code,
        )
