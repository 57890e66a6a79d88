"""The structures import's vocabulary: options, line results, the report, the categories."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import reference
from app.config import Settings
from app.errors import Forbidden, ServiceError
from app.permissions import Actor, import_scope
from app.reference import finess_categories, regions

# Compared to decide "updated" vs "already up to date".
COMPARED = ("finess_ej", "name", "category_code", "category_label", "department", "region",
            "city")

IMPORTED, UPDATED, SKIPPED, REJECTED = "imported", "updated", "skipped", "rejected"
STATUSES = (IMPORTED, UPDATED, SKIPPED, REJECTED)

# Reason keys (skipped / rejected lines) and their French labels for summaries.
REASONS = {
    "field_count": "Ligne illisible (nombre de champs)",
    "other_kind": "Ligne d’un autre type",
    "category": "Catégorie hors champ ESMS",
    "finess_malformed": "Numéro FINESS ET mal formé",
    "finess_ej_malformed": "Numéro FINESS EJ mal formé",
    "department": "Département inconnu",
    "other_region": "Hors de la région importée",
    "not_writable": "Structure d’une autre région",
    "duplicate": "Doublon dans le fichier",
    "unchanged": "Déjà à jour",
    "not_applied": "Non importée (fichier comportant des lignes rejetées)",
}
# Line results in words (the report's page and CSV; the CSV keeps the codes beside).
STATUS_LABELS = {IMPORTED: "Importée", UPDATED: "Mise à jour", SKIPPED: "Ignorée",
                 REJECTED: "Rejetée"}
# Kinds of etalab lines that are not establishments (adapters.OTHER_KINDS), for the notes.
OTHER_KIND_WORDS = {"geolocalisation": ("ligne de géolocalisation", "lignes de géolocalisation"),
                    "structureej": ("ligne d’entité juridique (organisme gestionnaire)",
                                    "lignes d’entité juridique (organisme gestionnaire)")}
# How the file's bytes were read (adapters.decode).
ENCODING_LABELS = {"utf-8": "UTF-8", "latin-1": "Latin-1 (Windows-1252)"}


def region_words(code: str | None) -> str:
    return reference.region_words(code, "inconnue")


def department_words(code: str | None) -> str:
    return reference.department_words(code, "inconnu")


def category_words(code: str) -> str:
    c = finess_categories().get(code)
    return f"{c.label} ({code})" if c else code


def other_lines_words(counts: dict[str, int]) -> str:
    """{"geolocalisation": 2} -> "2 lignes de géolocalisation"."""
    def one(kind: str, n: int) -> str:
        words = OTHER_KIND_WORDS.get(kind, (f"ligne « {kind} »", f"lignes « {kind} »"))
        return f"{n} {words[0] if n == 1 else words[1]}"
    return ", ".join(one(kind, n) for kind, n in sorted(counts.items()))


NOT_APPLIED = (
    "Non importée : le fichier contient des lignes rejetées, rien n’a été modifié "
    "(corrigez-les, ou importez seulement les lignes valides avec l’option « partiel »)."
)

Progress = Callable[[str, int, int], None]  # (phase "reading" | "writing", done, total)


class ImportFailed(ServiceError):
    status = 400
    message = "L’import n’a pas pu être réalisé."


@dataclass(frozen=True, slots=True)
class ImportOptions:
    partial: bool = False
    region: str | None = None  # only lines of this region; others are skipped
    close_missing: bool = False  # full re-import of `region`
    categories: frozenset[str] = field(default_factory=frozenset)  # ESMS categories kept
    # who imports (permissions.can_write_structure per line); None: the command line
    actor: Actor | None = None


@dataclass(slots=True)
class LineResult:
    line: int
    finess: str
    status: str  # imported | updated | skipped | rejected
    message: str = ""  # the reason (skipped, rejected) or the warnings (imported, updated)
    reason: str | None = None  # a REASONS key for skipped / rejected lines
    warnings: int = 0

    def as_list(self) -> list[Any]:
        return [self.line, self.finess, self.status, self.message, self.reason]


@dataclass(slots=True)
class ImportReport:
    encoding: str = ""
    header: str = ""
    lines: list[LineResult] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)  # FINESS numbers flagged closed
    applied: bool = False
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.lines if r.status == status)

    @property
    def counts(self) -> dict[str, int]:
        counter = Counter(r.status for r in self.lines)
        return {s: counter.get(s, 0) for s in STATUSES}

    @property
    def warnings(self) -> int:
        return sum(r.warnings for r in self.lines)

    @property
    def reasons(self) -> dict[str, int]:
        """Skipped / rejected lines by reason key, most frequent first."""
        counter = Counter(r.reason for r in self.lines if r.reason)
        return dict(counter.most_common())

    def summary_line(self) -> str:
        c = self.counts
        return (f"imported {c[IMPORTED]}, updated {c[UPDATED]}, skipped {c[SKIPPED]}, "
                f"rejected {c[REJECTED]}")

    def to_json(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "header": self.header,
            "counts": self.counts,
            "reasons": self.reasons,
            "warnings": self.warnings,
            "closed": self.closed,
            "applied": self.applied,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
            "lines": [r.as_list() for r in self.lines],
        }


def report_row(line: int, finess: str, status: str, reason: str | None,
               message: str) -> list[Any]:
    """A row of the CSV report: words, then the codes in their own columns. Text from the
    file never starts a formula in a spreadsheet (a leading = + - @ gets an apostrophe)."""
    def safe(text: str) -> str:
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    return [line, safe(finess), STATUS_LABELS.get(status, status),
            REASONS.get(reason, reason) if reason else "", safe(message), status, reason or ""]


REPORT_HEADER = ["Ligne du fichier", "Numéro FINESS", "Résultat", "Motif",
                 "Détail ou avertissement", "Code du résultat", "Code du motif"]


# --- configuration --------------------------------------------------------------------------


def load_categories(settings: Settings) -> frozenset[str]:
    """The FINESS categories to import: the settings' file, else the reference categories.

    The file is a CSV with a `code` column (like app/reference/data/finess_categories.csv),
    or plain text with one code per line (`#` starts a comment).
    """
    path = settings.import_categories_file
    if path is None:
        return frozenset(finess_categories())
    return read_categories_file(Path(path))


def read_categories_file(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    first = lines[0] if lines else ""
    if "," in first or ";" in first:
        rows = csv.DictReader(lines, delimiter="," if "," in first else ";")
        if "code" not in [name.strip() for name in rows.fieldnames or []]:
            raise ImportFailed(f"{path} : colonne « code » absente.")
        codes = {(row.get("code") or "").strip() for row in rows}
    else:
        codes = {line.split("#", 1)[0].strip() for line in lines}
    codes.discard("")
    if not codes:
        raise ImportFailed(f"{path} : aucune catégorie FINESS.")
    return frozenset(codes)


def options_for(actor: Actor | None, settings: Settings, *, partial: bool = False,
                region: str | None = None, close_missing: bool = False) -> ImportOptions:
    """The options an actor may use: an ARS referent imports for their own region only."""
    scope = import_scope(actor)
    if actor is None or scope.empty:
        raise Forbidden()
    region = ((region or "").strip() or None) if scope.all else scope.region
    if region is not None and region not in regions():
        raise ImportFailed(f"Région inconnue : {region}.")
    if close_missing and region is None:
        raise ImportFailed("Un import complet porte sur une région : choisissez-la.")
    return ImportOptions(partial=partial, region=region, close_missing=close_missing,
                         categories=load_categories(settings), actor=actor)


# --- validation (no database) -----------------------------------------------------------------


