"""The structures import: validate the rows of a source, then upsert them by FINESS ET.

Per line, in this order (first match decides):
1. unreadable line (adapter error, e.g. wrong field count)        -> rejected
2. another kind of line                                             -> skipped
3. category not in the ESMS list (settings / reference data)        -> skipped
4. malformed FINESS ET, malformed FINESS EJ                         -> rejected
5. department unknown (file, then derived from the number)          -> rejected
6. outside the import's region (`region` option, ARS uploads)       -> skipped
7. same FINESS ET as an earlier line of the file                    -> skipped
8. a structure the importing actor may not write (permissions.can_write_structure: an ARS
   referent only creates or changes structures that are and stay in their region; the
   current region of a known number is the database's, not the file's) -> skipped
9. new FINESS ET -> imported; known with changes -> updated; known, same values -> skipped
   (already up to date). A bad check digit, a missing EJ, a missing name, a value kept from
   an admin's correction are warnings: the line is still imported or updated.

Transactional: when a line is rejected and `partial` is off, nothing is written (the valid
lines are reported skipped, "not imported"); with `partial`, the valid lines are written.
All writes happen in one transaction: a failure leaves the database as it was.

A full re-import of a region (`region` + `close_missing`) flags closed the open structures of
that region whose number is absent from the file (never deletes them); a structure found
again is reopened. Nothing is closed when the file has no line of the region (wrong file).

Performance: the rows are validated without the database; then one query loads the existing
FINESS -> values map, and Core `insert()` / `update()` run in batches of BATCH.
"""

from __future__ import annotations

import csv
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlmodel import Session, col

from app import stale_jobs
from app.audit import record
from app.config import Settings
from app.dashboard.read_model import refresh_structures
from app.db import begin_write, utcnow, write
from app.errors import Forbidden, NotFound, ServiceError
from app.permissions import Action, Actor, Role, can, can_write_structure
from app.reference import departments, finess_categories, region_of_department, regions
from app.structures.adapters import SourceRow, StructureSource
from app.structures.finess import CHECK_DIGIT_WARNING, department_of, normalize, validate
from app.structures.models import ImportJob, ImportStatus, Structure, StructureCorrection

log = logging.getLogger("palier.imports")

BATCH = 1000
# Overseas departments as letters in the etalab file, confirmed in domain.md. Other `9X`
# letters are uncertain: the department is then derived from the FINESS number.
OVERSEAS_LETTERS = {"9A": "971", "9C": "973"}
_OVERSEAS_LETTER = re.compile(r"9[A-Z]")
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
    """A row of the CSV report. Text from the file never starts a formula in a spreadsheet
    (a leading = + - @ gets an apostrophe)."""
    def safe(text: str) -> str:
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    return [line, safe(finess), status, reason or "", safe(message)]


REPORT_HEADER = ["ligne", "finess", "statut", "motif", "message"]


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
    if actor is None or not can(actor, Action.import_structures):
        raise Forbidden()
    region = (region or "").strip() or None
    if actor.role == Role.ars:
        if not actor.region:
            raise Forbidden()
        region = actor.region
    if region is not None and region not in regions():
        raise ImportFailed(f"Région inconnue : {region}.")
    if close_missing and region is None:
        raise ImportFailed("Un import complet porte sur une région : choisissez-la.")
    return ImportOptions(partial=partial, region=region, close_missing=close_missing,
                         categories=load_categories(settings), actor=actor)


# --- validation (no database) -----------------------------------------------------------------


@dataclass(slots=True)
class _Planned:
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
        return derived, (f"Département « {code} » inconnu : département {derived} déduit "
                         "du numéro FINESS.")
    return derived, None


class _Validator:
    def __init__(self, options: ImportOptions, report: ImportReport) -> None:
        self.options = options
        self.report = report
        self.first_line: dict[str, int] = {}  # FINESS ET -> line of its first occurrence
        self.seen: set[str] = set()  # well-formed numbers of ESMS lines (and broken lines)
        self.planned: list[_Planned] = []
        self.in_region = 0  # lines of the import's region (closure guard)
        self.categories = finess_categories()

    def _result(self, row: SourceRow, finess: str, status: str, message: str = "",
                reason: str | None = None, warnings: int = 0) -> int:
        self.report.lines.append(LineResult(row.line, finess, status, message, reason, warnings))
        return len(self.report.lines) - 1

    def _hint(self, raw: str | None) -> None:
        if raw and validate(raw).ok:
            self.seen.add(normalize(raw))

    def add(self, row: SourceRow) -> None:
        if row.error is not None:
            self._hint(row.finess_hint)
            self._result(row, normalize(row.finess_hint or ""), REJECTED, row.error,
                         "field_count")
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
            self._result(row, finess, SKIPPED,
                         f"Catégorie {category or '(vide)'} ({label}) hors champ ESMS.",
                         "category")
            return
        check = validate(rec.finess)
        if not check.ok:
            self._result(row, finess, REJECTED, "Numéro FINESS ET : " + " ".join(check.errors),
                         "finess_malformed")
            return
        self.seen.add(finess)
        warnings: list[str] = []
        if check.warnings:
            warnings.append("Numéro FINESS ET : " + CHECK_DIGIT_WARNING)
        ej: str | None = None
        if rec.finess_ej.strip():
            ej_check = validate(rec.finess_ej)
            if not ej_check.ok:
                self._result(row, finess, REJECTED,
                             "Numéro FINESS EJ : " + " ".join(ej_check.errors),
                             "finess_ej_malformed")
                return
            ej = ej_check.number
            if ej_check.warnings:
                warnings.append("Numéro FINESS EJ : " + CHECK_DIGIT_WARNING)
        else:
            warnings.append("Numéro FINESS EJ absent : organisme gestionnaire inconnu.")
        department, dep_warning = resolve_department(rec.department, finess)
        if department is None:
            self._result(row, finess, REJECTED,
                         f"Département « {rec.department} » inconnu.", "department")
            return
        if dep_warning:
            warnings.append(dep_warning)
        region = region_of_department(department)
        assert region is not None  # every reference department has a region
        if self.options.region is not None:
            if region != self.options.region:
                self._result(row, finess, SKIPPED,
                             f"Structure de la région {region}, hors de la région importée "
                             f"({self.options.region}).", "other_region")
                return
            self.in_region += 1
        if finess in self.first_line:
            self._result(row, finess, SKIPPED,
                         f"Doublon : ce numéro FINESS figure déjà ligne "
                         f"{self.first_line[finess]}.", "duplicate")
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
            "category_label": known.label if known else (rec.category_label
                                                         or f"Catégorie {category}"),
            "department": department,
            "region": region,
            "city": rec.city or None,
        }
        index = self._result(row, finess, IMPORTED)  # decided when writing
        self.planned.append(_Planned(index, finess, values, warnings))


# --- writing ----------------------------------------------------------------------------------


def _table() -> Table:
    return cast(Table, Structure.__table__)  # type: ignore[attr-defined]


def _corrections(session: Session) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for sid, name, value in session.execute(select(
            col(StructureCorrection.structure_id), col(StructureCorrection.field),
            col(StructureCorrection.value))).all():
        out.setdefault(sid, {})[name] = value
    return out


def _apply_corrections(values: dict[str, Any], fixed: dict[str, str]) -> list[str]:
    kept: list[str] = []
    if "category_code" in fixed and values["category_code"] != fixed["category_code"]:
        code = fixed["category_code"]
        known = finess_categories().get(code)
        values["category_code"] = code
        values["category_label"] = known.label if known else f"Catégorie {code}"
        kept.append(f"catégorie {code}")
    if "department" in fixed and values["department"] != fixed["department"]:
        values["department"] = fixed["department"]
        values["region"] = region_of_department(fixed["department"]) or values["region"]
        kept.append(f"département {fixed['department']}")
    return kept


def _write(session: Session, validator: _Validator, options: ImportOptions,
           report: ImportReport, progress: Progress | None) -> None:
    t = _table()
    existing: dict[str, dict[str, Any]] = {
        row.finess: dict(row._mapping)
        for row in session.execute(select(t.c.id, t.c.finess, t.c.closed,
                                          *(t.c[name] for name in COMPARED)))
    }
    fixes = _corrections(session)
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for plan in validator.planned:
        result = report.lines[plan.index]
        current = existing.get(plan.finess)
        values = dict(plan.values)
        warnings = plan.warnings
        kept = _apply_corrections(values, fixes.get(current["id"], {})) if current else []
        if not _writable(options, current, values):
            result.status, result.reason = SKIPPED, "not_writable"
            result.message = (
                "Structure rattachée à une autre région que la vôtre : non modifiée "
                "(seul un administrateur ou l’ARS de sa région peut la modifier).")
            result.warnings = 0
            continue
        if current is None:
            inserts.append({"finess": plan.finess, **values, "closed": False,
                            "created_at": now, "updated_at": now})
            result.status = IMPORTED
        else:
            if kept:
                warnings = [*warnings, "Correction manuelle conservée : " + ", ".join(kept)
                            + "."]
            changed = [n for n in COMPARED if (current[n] or None) != (values[n] or None)]
            if current["closed"]:
                warnings = [*warnings, "Structure de nouveau présente : rouverte."]
            if changed or current["closed"]:
                updates.append({"_id": current["id"], **values, "closed": False,
                                "updated_at": now})
                result.status = UPDATED
            else:
                result.status = SKIPPED
                result.reason = "unchanged"
                warnings = ["Déjà à jour : aucun changement.", *warnings]
        result.message = " ".join(warnings)
        result.warnings = len([w for w in warnings if not w.startswith("Déjà à jour")])

    closing: list[dict[str, Any]] = []
    if options.close_missing and options.region is not None:
        if validator.in_region == 0:
            report.notes.append(
                f"Aucune ligne de la région {options.region} dans le fichier : aucune "
                "structure n’a été marquée fermée (mauvais fichier ?).")
        else:
            for number, current in existing.items():
                if (current["region"] == options.region and not current["closed"]
                        and number not in validator.seen
                        and _writable(options, current, current)):
                    closing.append({"_id": current["id"], "updated_at": now})
                    report.closed.append(number)
            report.closed.sort()

    total = len(inserts) + len(updates) + len(closing)
    done = 0
    for i in range(0, len(inserts), BATCH):
        chunk = inserts[i:i + BATCH]
        session.execute(insert(t), chunk)
        done += len(chunk)
        if progress:
            progress("writing", done, total)
    if updates:
        stmt = update(t).where(t.c.id == bindparam("_id")).values(
            **{name: bindparam(name) for name in (*COMPARED, "closed", "updated_at")})
        for i in range(0, len(updates), BATCH):
            chunk = updates[i:i + BATCH]
            session.execute(stmt, chunk, execution_options={"synchronize_session": False})
            done += len(chunk)
            if progress:
                progress("writing", done, total)
    if closing:
        stmt = update(t).where(t.c.id == bindparam("_id")).values(
            closed=True, updated_at=bindparam("updated_at"))
        for i in range(0, len(closing), BATCH):
            chunk = closing[i:i + BATCH]
            session.execute(stmt, chunk, execution_options={"synchronize_session": False})
            done += len(chunk)
            if progress:
                progress("writing", done, total)
    touched: list[int] = [u["_id"] for u in updates] + [c["_id"] for c in closing]
    if touched:  # the dashboards' read model copies region, category, capacity, closed
        refresh_structures(session, touched)


def _writable(options: ImportOptions, current: dict[str, Any] | None,
              values: dict[str, Any]) -> bool:
    """May the importing actor write this line (the command line may write anything)?"""
    if options.actor is None:
        return True
    return can_write_structure(options.actor, current["region"] if current else None,
                               values["region"])


def _not_applied(validator: _Validator, report: ImportReport) -> None:
    for plan in validator.planned:
        result = report.lines[plan.index]
        result.status = SKIPPED
        result.reason = "not_applied"
        result.message = " ".join([NOT_APPLIED, *plan.warnings])
        result.warnings = len(plan.warnings)


# --- jobs -------------------------------------------------------------------------------------


def create_job(session: Session, *, filename: str, options: ImportOptions,
               user_id: int | None, source: str = "etalab") -> ImportJob:
    """Record a pending import (committed), e.g. before running it in the background."""
    job = ImportJob(filename=filename[:255], source=source, partial=options.partial,
                    region=options.region, close_missing=options.close_missing,
                    user_id=user_id)
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def queue_job(session: Session, *, filename: str, options: ImportOptions,
              user_id: int | None) -> int:
    """`create_job`, then end the session's transaction: the request holds no (SQLite write)
    transaction while the job runs in the background. Returns the job's id."""
    job = create_job(session, filename=filename, options=options, user_id=user_id)
    job_id = job.id
    assert job_id is not None
    session.commit()
    return job_id


JobSessions = Callable[[], AbstractContextManager[Session]]


def run_job(sessions: JobSessions, job_id: int, source: StructureSource,
            options: ImportOptions, ip: str | None) -> None:
    """The background task: run the import recorded as `job_id`. Never raises; the job
    always ends done or failed (if even that cannot be recorded, `stale_jobs.recover`
    marks it failed later)."""
    try:
        with stale_jobs.active("import", job_id), sessions() as session:
            job = session.get(ImportJob, job_id)
            if job is None:
                return
            try:
                run_import(session, job, source, options, ip=ip)
            except Exception:  # recorded on the job by run_import when it could
                log.exception("import job %s failed", job_id)
                _ensure_failed(session, job_id)
    except Exception:
        log.exception("import job %s: could not record its outcome", job_id)


def _ensure_failed(session: Session, job_id: int) -> None:
    """A job still pending/running after an error is marked failed (retried on contention)."""
    def apply(s: Session) -> None:
        job = s.get(ImportJob, job_id)
        if job is not None and job.status in (ImportStatus.pending, ImportStatus.running):
            job.status = ImportStatus.failed.value
            job.phase = None
            job.error = "Erreur inattendue pendant l’import : relancez-le."
            job.finished_at = utcnow()
            s.add(job)

    session.rollback()
    write(session, apply)


class _JobProgress:
    """Commits the job's progress while reading (at most every `interval` seconds)."""

    def __init__(self, session: Session, job: ImportJob, outer: Progress | None,
                 interval: float = 0.5) -> None:
        self.session, self.job, self.outer, self.interval = session, job, outer, interval
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.outer:
            self.outer(phase, done, total)
        if phase != "reading":
            return  # the write transaction is open: nothing else may be committed
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.job.processed = done
            self.session.add(self.job)
            self.session.commit()


def run_import(session: Session, job: ImportJob, source: StructureSource,
               options: ImportOptions, *, progress: Progress | None = None,
               ip: str | None = None) -> ImportReport:
    """Run `job` on `source`: validate, then write (or not), record the report; commits.

    Raises on an unexpected error after marking the job failed (nothing written).
    """
    started = time.monotonic()
    report = ImportReport(encoding=source.encoding, header=source.header)
    job.status = ImportStatus.running.value
    job.phase = "reading"
    job.started_at = utcnow()
    job.total = source.total_lines
    session.add(job)
    session.commit()
    tick = _JobProgress(session, job, progress)
    try:
        validator = _Validator(options, report)
        for count, row in enumerate(source.rows(), start=1):
            validator.add(row)
            if count % 500 == 0:
                tick("reading", row.line, source.total_lines)
        tick("reading", source.total_lines, source.total_lines)
        others = getattr(source, "other_lines", None)
        if isinstance(others, dict) and others:
            report.notes.append("Lignes ignorées (pas des établissements) : " + ", ".join(
                f"{n} {kind}" for kind, n in sorted(others.items())) + ".")
        rejected = any(r.status == REJECTED for r in report.lines)
        apply = options.partial or not rejected
        job.phase = "writing" if apply else None
        job.processed = source.total_lines
        session.add(job)
        session.commit()
        if apply:
            begin_write(session)
            _write(session, validator, options, report, tick)
            report.applied = True
        else:
            _not_applied(validator, report)
        report.seconds = time.monotonic() - started
        _finish(session, job, report, ip)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("import %s failed", job.id)
        fail_job(session, job, "Erreur inattendue pendant l’import : rien n’a été modifié.")
        raise
    return report


def _finish(session: Session, job: ImportJob, report: ImportReport, ip: str | None) -> None:
    counts = report.counts
    job.status = ImportStatus.done.value
    job.phase = None
    job.imported, job.updated = counts[IMPORTED], counts[UPDATED]
    job.skipped, job.rejected = counts[SKIPPED], counts[REJECTED]
    job.closed = len(report.closed)
    job.applied = report.applied
    job.report = report.to_json()
    job.finished_at = utcnow()
    session.add(job)
    record(session, job.user_id, "structures_imported", "import_job", job.id, {
        "filename": job.filename, "applied": report.applied, "partial": job.partial,
        "region": job.region, "close_missing": job.close_missing, **counts,
        "closed": len(report.closed)}, ip=ip)


def fail_job(session: Session, job: ImportJob, message: str) -> None:
    """Mark `job` failed (committed); nothing else is written."""
    job_id = job.id
    session.rollback()
    fresh = session.get(ImportJob, job_id)
    if fresh is None:
        return
    fresh.status = ImportStatus.failed.value
    fresh.phase = None
    fresh.error = message
    fresh.finished_at = utcnow()
    session.add(fresh)
    session.commit()


# --- jobs as an actor may see them --------------------------------------------------------


def _job_visible(actor: Actor) -> Any:
    if actor.role == Role.admin:
        return col(ImportJob.id).is_not(None)
    return col(ImportJob.region) == actor.region  # ARS: the imports of their region


def list_jobs(session: Session, actor: Actor | None, limit: int = 20) -> list[ImportJob]:
    if actor is None or not can(actor, Action.import_structures):
        raise Forbidden()
    return list(session.scalars(select(ImportJob).where(_job_visible(actor))
                                .order_by(col(ImportJob.id).desc()).limit(limit)).all())


def get_job(session: Session, actor: Actor | None, job_id: int) -> ImportJob:
    if actor is None or not can(actor, Action.import_structures):
        raise Forbidden()
    job = session.scalars(select(ImportJob).where(col(ImportJob.id) == job_id,
                                                  _job_visible(actor))).first()
    if job is None:
        raise NotFound()
    return job
