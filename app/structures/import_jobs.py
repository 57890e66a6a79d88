"""The structures import as a job: the uploaded file is stored (app/files.py), the job
"import" (app/jobs) reads it and runs `imports.run_import` as the importing user, in its
own session. Imports of the same region never run at the same time (job lock). A job that
fails, or is abandoned by the queue, ends failed with its reason, never running forever."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from app import files, jobs, stale_jobs
from app.accounts.auth import build_actor
from app.accounts.models import User
from app.config import Settings
from app.db import utcnow, write
from app.errors import Forbidden
from app.structures.adapters import EtalabCsvAdapter, SourceFormatError, StructureSource
from app.structures.imports import (
    ImportFailed,
    ImportOptions,
    JobSessions,
    create_job,
    fail_job,
    options_for,
    run_import,
)
from app.structures.models import ImportJob, ImportStatus

log = logging.getLogger("palier.imports")


def queue_job(session: Session, settings: Settings, *, filename: str, data: bytes,
              options: ImportOptions, user_id: int, ip: str | None,
              background: jobs.Background | None = None,
              sessions: JobSessions | None = None) -> int:
    """Record a pending import and its file (file storage), commit, and hand it to the job
    runner as the "import" job. Imports of the same region never run at the same time (job
    lock). Returns the job's id."""
    job = create_job(session, filename=filename, options=options, user_id=user_id)
    job_id = job.id
    assert job_id is not None
    files.put(session, file_key(job_id), data, "text/csv")
    session.commit()
    jobs.defer(settings, "import", background=background, sessions=sessions,
               lock=f"structures-import-{options.region or 'toutes'}", import_id=job_id, ip=ip)
    return job_id


def file_key(job_id: int) -> str:
    return f"import/{job_id}.csv"


def _abandon(ctx: jobs.JobContext, kwargs: dict[str, Any], reason: str) -> None:
    with ctx.sessions() as session:
        job = session.get(ImportJob, int(kwargs["import_id"]))
        if job is not None and job.status in (ImportStatus.pending, ImportStatus.running):
            fail_job(session, job, reason)


@jobs.register("import", abandon=_abandon)
def import_job(ctx: jobs.JobContext, import_id: int, ip: str | None = None) -> None:
    """The "import" job: read the stored file and run the import as its user would."""
    with ctx.sessions() as session:
        job = session.get(ImportJob, import_id)
        runnable = (ImportStatus.pending, ImportStatus.running) if ctx.queued else (
            ImportStatus.pending,)
        if job is None or job.status not in runnable:
            return
        data = files.read(session, file_key(import_id))
        user = session.get(User, job.user_id) if job.user_id is not None else None
        try:
            if data is None or user is None or not user.active:
                raise ImportFailed("Fichier ou compte introuvable : relancez l’import.")
            options = options_for(build_actor(session, user), ctx.settings,
                                  partial=job.partial, region=job.region,
                                  close_missing=job.close_missing)
            source: StructureSource = EtalabCsvAdapter(data, filename=job.filename)
        except (ImportFailed, Forbidden, SourceFormatError) as exc:
            fail_job(session, job, getattr(exc, "message", None) or str(exc))
            return
    run_job(ctx.sessions, import_id, source, options, ip)
    with ctx.sessions() as session:
        files.delete(session, file_key(import_id))
        session.commit()


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
