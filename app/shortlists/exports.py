"""Files anyone can open: CSV (UTF-8 with BOM), XLSX (streamed, app.exports.xlsx), PDF
(WeasyPrint).

Spreadsheet formula injection: a text cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return could run as a formula when the file is opened.
- CSV: such a cell gets a leading apostrophe (`'=1+1`), the OWASP recommendation: every
  spreadsheet shows it as text, at the price of a visible apostrophe.
- XLSX: every text is written as a text cell (never a formula), and such a cell also carries
  the "quote prefix" style, so that it stays text when edited; the value itself is unchanged.
Numbers are written as numbers (CSV: decimal comma with the `;` separator, decimal point with
`,`; decimals (scores) rounded half up to one decimal in CSV, full value shown with one
decimal in XLSX), dates as text "AAAA-MM-JJ HH:MM" in Paris time (`paris_time`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from app.exports.xlsx import DANGEROUS, Book, Cells, Sheet
from app.exports.xlsx import Value as Value  # the exports' cell values
from app.exports.xlsx_widths import column_widths
from app.formatting import PARIS, in_paris
from app.numbers_fr import number_fr
from app.reference import SECTOR_LABELS, departments, finess_categories, regions
from app.shortlists import ranking
from app.shortlists.next_steps import Step
from app.shortlists.words import (
    categories_words,
    day_of,
    departments_words,
    group_words,
    reason_words,
    tiers_words,
)

BOM = "\ufeff"
ONE_DECIMAL = Decimal("0.1")
PDF_MAX_ROWS = 500
Progress = Callable[[int], None]


def paris_time(value: datetime | str | None) -> str | None:
    """A moment (aware datetime or ISO 8601 text) as "AAAA-MM-JJ HH:MM", Paris time."""
    if value is None or value == "":
        return None
    w = in_paris(value)
    return f"{w.year:04d}-{w.month:02d}-{w.day:02d} {w.hour:02d}:{w.minute:02d}"


def file_name(stem: str, ext: str, sep: str = ",") -> str:
    """`selection-12-2026-03-02.csv`: today's Paris date; `-pointvirgule` for the `;` CSV."""
    today = datetime.now(PARIS).date().isoformat()
    suffix = "-pointvirgule" if ext == "csv" and sep == ";" else ""
    return f"{stem}-{today}{suffix}.{ext}"


def inert(value: str) -> str:
    """CSV: a leading apostrophe before text a spreadsheet could run as a formula."""
    return "'" + value if value.startswith(DANGEROUS) else value


def _csv_cell(value: Value, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):  # scores, percentages: one decimal, half up
        if not math.isfinite(value):
            return ""
        text = str(Decimal(repr(value)).quantize(ONE_DECIMAL, ROUND_HALF_UP))
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, int):
        return str(value)
    return inert(value)


def _csv_row(row: Sequence[Value], decimal_comma: bool) -> list[Value]:
    """A row's cells for csv.writer: text made inert, decimals and booleans written out;
    ints and None (written as "") left to the writer (most cells: no call per cell)."""
    out = list(row)
    for i, v in enumerate(out):
        kind = type(v)
        if kind is str:
            if v.startswith(DANGEROUS):  # type: ignore[union-attr]
                out[i] = "'" + v  # type: ignore[operator]
        elif v is not None and kind is not int:
            out[i] = _csv_cell(v, decimal_comma)
    return out


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Value]], sep: str = ",",
               batch: int = 1000) -> Iterator[str]:
    """The CSV text in chunks (for StreamingResponse): BOM, header, rows."""
    if sep not in (",", ";"):
        raise ValueError("separator must be ',' or ';'")
    decimal_comma = sep == ";"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([inert(h) for h in header])
    yield buffer.getvalue()  # the first bytes go out before any row is read
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(rows, start=1):
        writer.writerow(_csv_row(row, decimal_comma))
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# ---- the shortlist as a table ---------------------------------------------------------------


def key_label(criteria: Mapping[str, Any], domain_labels: Mapping[str, str] | None = None) -> str:
    rank_by = criteria.get("rank_by")
    labels = domain_labels or {}
    if isinstance(rank_by, dict):
        parts = [f"{labels.get(d, d)} × {number_fr(w)}"
                 for d, w in rank_by["weights"].items()]
        return "Moyenne pondérée (" + ", ".join(parts) + ")"
    if rank_by == "readiness":
        return "Exigences manquantes pour le palier suivant"
    if isinstance(rank_by, str) and rank_by.startswith("domain:"):
        domain = rank_by.removeprefix("domain:")
        return f"Score du domaine « {labels.get(domain, domain)} »"
    return "Score global"


def key_distinct(criteria: Mapping[str, Any]) -> bool:
    """Whether the ranking value gets a column of its own on the pages and in the report
    (ranking by readiness, it is the unmet-requirements column: shown once)."""
    return criteria.get("rank_by") != "readiness"


SHORTLIST_HEADER = ["Rang", "FINESS", "Nom", "Code région", "Région", "Code département",
                    "Département", "Code catégorie FINESS", "Catégorie FINESS", "Secteur",
                    "Capacité", "Taille", "Palier", "Score global"]
SHORTLIST_TAIL = ["Exigences manquantes pour le palier suivant",
                  "Transmise le (heure de Paris)", "Statut de revue", "Quota concerné",
                  "Code du groupe (quotas)", "Motif de sélection", "Rang parmi les éligibles"]


def shortlist_header(criteria: Mapping[str, Any],
                     domain_labels: Mapping[str, str] | None = None) -> list[str]:
    return [*SHORTLIST_HEADER, f"Valeur de classement : {key_label(criteria, domain_labels)}",
            *SHORTLIST_TAIL]


# The keys of a frozen row that `shortlist_values` reads.
SHORTLIST_FIELDS = ("rank", "finess", "name", "region", "department", "category", "sector",
                    "capacity", "size_band", "tier", "global_score", "key", "readiness",
                    "submitted_at", "review_status", "group", "rule", "eligible_rank")


def shortlist_values(row: Mapping[str, Any], criteria: Mapping[str, Any]) -> list[Value]:
    """A frozen row: codes in their code columns, names and labels beside them."""
    region = regions().get(row["region"] or "")
    department = departments().get(row["department"] or "")
    category = finess_categories().get(row["category"] or "")
    return [row["rank"], row["finess"], row["name"],
            row["region"], region.name if region else None,
            row["department"], department.name if department else None,
            row["category"], category.label if category else None,
            SECTOR_LABELS.get(row["sector"] or "", row["sector"]),
            row["capacity"], ranking.SIZE_BAND_LABELS.get(row["size_band"], row["size_band"]),
            row["tier"], row["global_score"], row["key"], row["readiness"],
            paris_time(row["submitted_at"]),
            ranking.REVIEW_STATUS_LABELS.get(row["review_status"] or "", row["review_status"]),
            group_words(row["group"], criteria) if row["group"] else None, row["group"],
            reason_words(row["rule"]), row["eligible_rank"]]


def criteria_lines(shortlist: Any, author: str, domain_labels: Mapping[str, str],
                   funding_labels: Mapping[str, str], exported_at: str,
                   count: int | None = None) -> list[tuple[str, str]]:
    """(label, value) lines: the criteria and the provenance of a saved shortlist (`count`:
    its number of rows, when they are not loaded)."""
    c = shortlist.criteria
    region = c.get("region")
    order = c.get("order") or ("asc" if c.get("rank_by") == "readiness" else "desc")
    quotas = "; ".join(
        f"{'au plus' if 'max' in q else 'au moins'} {q.get('max', q.get('min'))} par "
        f"{ranking.DIMENSION_LABELS[q['by']]}" for q in c.get("quotas") or []) or "aucun"
    excluded = "; ".join(f"{ranking.EXCLUSION_REASONS.get(r, r)} : {n}"
                         for r, n in (shortlist.excluded or {}).items()) or "aucune"
    return [
        ("Sélection", shortlist.name),
        ("Identifiant", str(shortlist.id)),
        ("Empreinte SHA-256 (critères, versions, lignes)", shortlist.hash),
        ("Enregistrée le (heure de Paris)", paris_time(shortlist.created_at) or ""),
        ("Auteur", author),
        ("Portée", f"{regions()[region].name} ({region})" if region and region in regions()
         else (region or "Nationale")),
        ("Départements", departments_words(c.get("departments"))),
        ("Catégories ou secteurs", categories_words(c.get("categories"))),
        ("Tailles", ", ".join(ranking.SIZE_BAND_LABELS.get(x, x)
                              for x in c.get("size_bands") or []) or "toutes"),
        ("Paliers", tiers_words(c.get("tiers"))),
        ("Éligibilité à un financement", funding_labels.get(c.get("eligible_for") or "",
                                                            c.get("eligible_for") or "")
         or "sans condition"),
        ("Statuts de revue", ", ".join(ranking.REVIEW_STATUS_LABELS.get(x, x)
                                       for x in c.get("review_status") or []) or "tous"),
        ("Dernière évaluation transmise à partir du", day_of(c.get("submitted_after"))),
        ("Classement", key_label(c, domain_labels)),
        ("Ordre", "décroissant" if order == "desc" else "croissant"),
        ("Départage des ex æquo", "moins d’exigences manquantes pour le palier suivant, puis "
         "transmission la plus ancienne, puis numéro FINESS ; sans valeur de classement : "
         "en dernier"),
        ("Taille demandée", str(c.get("size"))),
        ("Quotas", quotas),
        ("Structures retenues", str(len(shortlist.rows) if count is None else count)),
        ("Exclusions", excluded),
        ("Versions du questionnaire", ", ".join(shortlist.questionnaire_versions) or "—"),
        ("Exporté le (heure de Paris)", exported_at),
    ]


def domain_columns(rows: Iterable[Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """Domain ids of the rows: questionnaire order first, then the rest alphabetically."""
    present = {d for r in rows for d in r.get("domain_scores") or {}}
    first = [d for d in order if d in present]
    return first + sorted(present - set(first))


NextSteps = Callable[[], Iterable[tuple[Mapping[str, Any], Sequence[Step]]]]
RowReader = Callable[[Sequence[str]], Iterable[Mapping[str, Any]]]
"""The rows of a shortlist with (at least) these keys, in rank order: app.shortlists.stored
streams them from the database, one pass per sheet, instead of holding them all."""
SCORE_FIELDS = ("rank", "finess", "name", "global_score", "domain_scores")


def write_shortlist_xlsx(out: IO[bytes] | str, shortlist: Any, *, author: str,
                         domain_labels: Mapping[str, str], domain_order: Sequence[str],
                         funding_labels: Mapping[str, str], exported_at: str,
                         next_steps: NextSteps | None = None,
                         progress: Progress | None = None,
                         funding_status: Mapping[str, str] | None = None,
                         rows: RowReader | None = None, count: int | None = None) -> None:
    """Sheets: Sélection, Critères et provenance, Scores par domaine, Prochaines étapes
    (`next_steps()` yields (row, steps) in rank order; omitted when None). `funding_status`
    gives each programme's kind and current status ("financement, terminé au 2 décembre
    2026") shown beside its name. `rows` and `count`: the rows read as they are written
    (else `shortlist.rows`)."""
    # Long: four sheets in order, each one pass over the rows; the progress tick is shared.
    read: RowReader = rows if rows is not None else (lambda fields: shortlist.rows)
    criteria = shortlist.criteria
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(done)

    with Book(out) as book:
        header = shortlist_header(criteria, domain_labels)
        with book.sheet("Sélection", column_widths(header)) as sheet:
            sheet.append(header)
            for row in read(SHORTLIST_FIELDS):
                sheet.append(shortlist_values(row, criteria))
                tick()
        with book.sheet("Critères et provenance",
                        column_widths(["Critère", "Valeur"], ["name", "text"])) as sheet:
            sheet.append(["Critère", "Valeur"])
            for line in criteria_lines(shortlist, author, domain_labels, funding_labels,
                                       exported_at, count):
                sheet.append(line)
        domains = domain_columns(read(("domain_scores",)), domain_order)
        header = ["Rang", "FINESS", "Nom", "Score global",
                  *(domain_labels.get(d, d) for d in domains)]
        with book.sheet("Scores par domaine",
                        column_widths(header, [None] * 4 + ["score"] * len(domains))) as sheet:
            sheet.append(header)
            for row in read(SCORE_FIELDS):
                scores = row.get("domain_scores") or {}
                sheet.append([row["rank"], row["finess"], row["name"], row["global_score"],
                              *(scores.get(d) for d in domains)])
                tick()
        if next_steps is not None:
            with book.sheet("Prochaines étapes", column_widths(NEXT_STEPS_HEADER)) as sheet:
                _steps_sheet(sheet, next_steps, funding_labels, funding_status or {}, tick)
    if progress is not None:
        progress(done)


NEXT_STEPS_HEADER = ["Rang", "FINESS", "Nom", "Palier visé", "Exigence", "Action proposée",
                     "Effort", "À vérifier auprès de l’éditeur ou du prestataire",
                     "Financements"]


def _steps_sheet(sheet: Sheet, next_steps: NextSteps, funding_labels: Mapping[str, str],
                 status: Mapping[str, str], tick: Callable[[], None]) -> None:
    """One row per step; a step's cells (a few dozen distinct ones) are laid out once."""
    def funding_cell(fid: str) -> str:
        label = funding_labels.get(fid, fid)
        return f"{label} ({status[fid]})" if fid in status else label

    sheet.append(NEXT_STEPS_HEADER)
    laid: dict[Step, Cells] = {}
    for row, steps in next_steps():
        if steps:
            who = Cells([row["rank"], row["finess"], row["name"]])
            for step in steps:
                cells = laid.get(step)
                if cells is None:
                    text, to_verify = step
                    cells = laid[step] = sheet.cells(
                        [text.tier, text.label, text.title, text.effort,
                         "oui" if to_verify else None,
                         ", ".join(funding_cell(f) for f in text.funding)], first=3)
                sheet.append_cells(who, cells)
        tick()


def write_table_xlsx(out: IO[bytes] | str, sheets: Sequence[tuple[str, Sequence[str],
                                                                   Iterable[Sequence[Value]]]],
                     progress: Progress | None = None) -> None:
    """A workbook of plain tables: [(sheet title, header, rows)]."""
    n = 0
    with Book(out) as book:
        for title, header, rows in sheets:
            with book.sheet(title, column_widths(header)) as sheet:
                sheet.append(list(header))
                for row in rows:
                    sheet.append(row)
                    n += 1
                    if progress is not None and n % 500 == 0:
                        progress(n)
    if progress is not None:
        progress(n)


# ---- distribution for the PDF ---------------------------------------------------------------


def tier_distribution(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    counts: dict[int | None, int] = {}
    for r in rows:
        counts[r.get("tier")] = counts.get(r.get("tier"), 0) + 1
    out = [(f"Palier {t}", counts[t]) for t in sorted(k for k in counts if k is not None)]
    if None in counts:
        out.append(("Non déterminé", counts[None]))
    return out
