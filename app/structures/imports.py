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

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import false, select
from sqlmodel import Session, col

from app.audit import record
from app.db import begin_write, utcnow
from app.errors import Forbidden, NotFound
from app.permissions import Action, Actor, can, import_scope
from app.structures.adapters import StructureSource
from app.structures.import_types import (
    COMPARED,
    ENCODING_LABELS,
    IMPORTED,
    NOT_APPLIED,
    REASONS,
    REJECTED,
    REPORT_HEADER,
    SKIPPED,
    STATUS_LABELS,
    STATUSES,
    UPDATED,
    ImportFailed,
    ImportOptions,
    ImportReport,
    LineResult,
    Progress,
    load_categories,
    options_for,
    other_lines_words,
    read_categories_file,
    report_row,
)
from app.structures.import_validation import Validator, resolve_department
from app.structures.import_writing import BATCH, mark_not_applied, write_rows
from app.structures.models import ImportJob, ImportStatus

__all__ = [
    "BATCH", "COMPARED", "ENCODING_LABELS", "IMPORTED", "NOT_APPLIED", "REASONS", "REJECTED",
    "REPORT_HEADER", "SKIPPED", "STATUSES", "STATUS_LABELS", "UPDATED", "ImportFailed",
    "ImportOptions", "ImportReport", "JobSessions", "LineResult", "Progress", "create_job",
    "fail_job", "get_job", "list_jobs", "load_categories", "options_for",
    "read_categories_file", "report_row", "resolve_department", "run_import",
]

log = logging.getLogger("palier.imports")

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


JobSessions = Callable[[], AbstractContextManager[Session]]


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
        validator = Validator(options, report)
        for count, row in enumerate(source.rows(), start=1):
            validator.add(row)
            if count % 500 == 0:
                tick("reading", row.line, source.total_lines)
        tick("reading", source.total_lines, source.total_lines)
        others = getattr(source, "other_lines", None)
        if isinstance(others, dict) and others:
            report.notes.append("Lignes ignorées (pas des établissements) : "
                                + other_lines_words(others) + ".")
        rejected = any(r.status == REJECTED for r in report.lines)
        apply = options.partial or not rejected
        job.phase = "writing" if apply else None
        job.processed = source.total_lines
        session.add(job)
        session.commit()
        if apply:
            begin_write(session)
            write_rows(session, validator, options, report, tick)
            report.applied = True
        else:
            mark_not_applied(validator, report)
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
    scope = import_scope(actor)
    if scope.all:
        return col(ImportJob.id).is_not(None)
    if scope.region is None:
        return false()
    return col(ImportJob.region) == scope.region  # ARS: the imports of their region


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
