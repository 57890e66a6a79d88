"""Exports of the ARS structure list and of the dashboard figures, with the page's filters
(and search) applied: CSV (UTF-8 with BOM; `,` with decimal point or `;` with decimal comma)
and XLSX (streamed by app.exports.xlsx: bold frozen header row, autofilter, column widths by
kind, one-decimal scores, date cells).

Formats (documented on the pages): dates in Europe/Paris time as `AAAA-MM-JJ HH:MM` (CSV
text, XLSX date cells); scores on 100 with one decimal; department and category as a code
column and a label column. Exporting is `Action.export_region` (ARS of the region, admin):
committees read the dashboards but do not export.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlmodel import Session

from app.audit import record_now
from app.dashboard.filters import Filters, check_region
from app.dashboard.listing import structure_page
from app.dashboard.summary import Summary, summary
from app.errors import Forbidden
from app.exports.xlsx import Book, CellValue
from app.exports.xlsx_widths import column_widths
from app.formatting import PARIS
from app.permissions import Action, Actor, can
from app.questionnaires import Registry
from app.reference import departments, regions
from app.reviews.models import REVIEW_LABELS
from app.shortlists.exports import Value, csv_chunks

ALL_ROWS = 1_000_000
LIST_HEADER = ["FINESS", "Nom", "Commune", "Code département", "Département",
               "Code catégorie FINESS", "Catégorie FINESS", "Capacité", "Palier (niveau)",
               "Palier", "Score global (sur 100)", "Transmise le (heure de Paris)",
               "Revue de l’ARS"]
FIGURES_HEADER = ["Rubrique", "Code", "Libellé", "Indicateur", "Valeur"]
# Column kinds the headers do not tell (app.exports.xlsx_widths): the palier's label,
# the figures' values.
LIST_KINDS: list[str | None] = [None] * 9 + ["name"]
FIGURES_KINDS: list[str | None] = [None] * 4 + ["score"]


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[CellValue]]
    decimals: set[int] = field(default_factory=set)  # CSV columns with one decimal
    kinds: list[str | None] = field(default_factory=list)  # xlsx_widths kinds, by column

    def csv(self, sep: str) -> Iterator[str]:
        return csv_chunks(self.header, ([_csv_value(v, i in self.decimals, sep)
                                         for i, v in enumerate(r)] for r in self.rows), sep)


def _csv_value(v: CellValue, one_decimal: bool, sep: str) -> Value:
    """Dates as `AAAA-MM-JJ HH:MM`; scores with one decimal (a comma with `;`)."""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if one_decimal and isinstance(v, float):
        text = f"{v:.1f}"
        return text.replace(".", ",") if sep == ";" else text
    return v


def _one(x: float | None) -> float | None:
    return None if x is None else round(float(x), 1)


def authorize(actor: Actor | None, region: str) -> str:
    """The region if the actor may export it (403 without the right, 404 out of scope)."""
    if not can(actor, Action.export_region):
        raise Forbidden()
    return check_region(actor, region)


def list_table(session: Session, actor: Actor, registry: Registry, region: str, f: Filters,
               search: str = "") -> Table:
    """Every structure of the list page (all pages), sorted by name."""
    authorize(actor, region)
    page = structure_page(session, actor, registry, region, f, page_size=ALL_ROWS,
                          search=search)
    deps = departments()
    rows: list[list[CellValue]] = []
    for r in page.rows:
        when = r.submitted_at.astimezone(PARIS).replace(tzinfo=None, second=0,
                                                         microsecond=0) \
            if r.submitted_at else None
        rows.append([r.finess, r.name, r.city, r.department,
                     deps[r.department].name if r.department in deps else None,
                     r.category_code, r.category_label, r.capacity,
                     r.tier["level"] if r.tier else None, r.tier["label"] if r.tier else None,
                     _one(r.global_score), when,
                     REVIEW_LABELS.get(r.review_status or "", "Non revue")
                     if r.assessment_id else None])
    return Table("Structures", LIST_HEADER, rows, {10}, LIST_KINDS)


def figures_table(session: Session, actor: Actor, registry: Registry, region: str,
                  f: Filters) -> Table:
    """The dashboard's figures under the filters, one figure a row."""
    authorize(actor, region)
    sm = summary(session, actor, registry, region, f)
    return Table("Chiffres", FIGURES_HEADER, figure_rows(sm), {4}, FIGURES_KINDS)


def figure_rows(sm: Summary) -> list[list[CellValue]]:
    pct = sm.participation
    rows: list[list[CellValue]] = [
        ["Région", sm.region, regions()[sm.region].name, "Structures en activité",
         sm.structures],
        ["Région", sm.region, regions()[sm.region].name, "Évaluations transmises",
         sm.submitted],
        ["Région", sm.region, regions()[sm.region].name, "Évaluations en cours", sm.drafts],
        ["Région", sm.region, regions()[sm.region].name, "Participation (%)", _one(pct)],
        ["Région", sm.region, regions()[sm.region].name, "Score global moyen",
         _one(sm.global_mean)],
    ]
    for t in sm.tiers:
        rows.append(["Palier", str(t.level), t.label, "Structures", t.count])
    for d in sm.domains:
        rows.append(["Domaine", d.id, d.label, "Score moyen", _one(d.mean)])
        rows.append(["Domaine", d.id, d.label, "Score médian", _one(d.median)])
        rows.append(["Domaine", d.id, d.label, "Score moyen national", _one(d.national_mean)])
    for title, items in (("Département", sm.by_department), ("Secteur", sm.by_sector),
                         ("Taille", sm.by_size_band)):
        for b in items:
            rows.append([title, b.key, b.label, "Structures", b.structures])
            rows.append([title, b.key, b.label, "Évaluations transmises", b.submitted])
            rows.append([title, b.key, b.label, "Participation (%)", _one(b.participation)])
    return rows


def write_xlsx(out: IO[bytes], table: Table) -> None:
    """One sheet, streamed (app.exports.xlsx): widths from the columns' kinds and headers;
    dates as date cells, decimals (rounded to one) shown with one decimal."""
    with Book(out) as book, book.sheet(table.title,
                                       column_widths(table.header, table.kinds)) as sheet:
        sheet.append(table.header)
        for row in table.rows:
            sheet.append(row)


def record(session: Session, actor: Actor, kind: str, fmt: str, region: str,
           table: Table, f: Filters, search: str, ip: str | None) -> None:
    details: dict[str, Any] = {"kind": kind, "format": fmt, "rows": len(table.rows),
                               "filters": f.query()}
    if search:
        details["search"] = search
    record_now(session, actor, "export", "region", region, details, ip)


def filename(kind: str, region: str, ext: str, today: str, sep: str = ",") -> str:
    suffix = "-pointvirgule" if sep == ";" else ""
    return f"{kind}-region-{region}-{today}{suffix}.{ext}"


def rows_of(tables: Sequence[Table]) -> int:
    return sum(len(t.rows) for t in tables)
