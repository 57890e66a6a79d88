"""Background export jobs: the state lives in `ExportJob` rows (any process can report it),
the file in the file storage (app/files.py: the database).

A job is created by a request, then run as the job kind "export" (app.jobs: by `palier
worker` on PostgreSQL, after the response in the web process on SQLite) in its own session;
it updates `rows_done`/`progress` as it goes, writes to a temporary file, then stores it. A
job left `running` without progress for `stale_jobs.EXPORT_STALE_AFTER` (its process died)
is marked failed, never left running forever. Only the job's creator sees it and downloads
its file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import update
from sqlmodel import Session, col, select

from app import files, stale_jobs
from app import jobs as job_queue
from app.accounts.auth import build_actor
from app.accounts.models import User
from app.config import Settings
from app.db import get_engine, utcnow, write
from app.errors import NotFound
from app.jobs.pace import Pacer
from app.memory import return_memory
from app.questionnaires import Registry
from app.shortlists import export_service, exports, region_export, stored
from app.shortlists import service as shortlists
from app.shortlists.models import ExportJob, ExportStatus

log = logging.getLogger("palier.exports")

KIND_LABELS = {
    "shortlist_xlsx": "Sélection au format XLSX",
    "shortlist_pdf": "Rapport de sélection au format PDF",
    "region_xlsx": "Évaluations de la région au format XLSX",
    "region_csv": "Évaluations de la région au format CSV",
}

SessionFactory = Callable[[], AbstractContextManager[Session]]


def session_factory() -> SessionFactory:
    """FastAPI dependency: how a job (or a streamed response) opens its own session."""
    return lambda: Session(get_engine())


SessionFactoryDep = Annotated[SessionFactory, Depends(session_factory)]


def create(session: Session, actor_id: int, kind: str, params: dict[str, Any], filename: str,
           rows_total: int | None) -> ExportJob:
    """A pending job, committed at once through the write path (requests creating jobs
    may be GETs: their session is a reader)."""
    def apply(s: Session) -> ExportJob:
        job = ExportJob(kind=kind, params=params, filename=filename, created_by=actor_id,
                        rows_total=rows_total)
        s.add(job)
        s.flush()
        return job

    job = write(session, apply)
    session.refresh(job)
    return job


def get(session: Session, actor_id: int, job_id: int) -> ExportJob:
    stale_jobs.recover(session, imports=False)
    job = session.get(ExportJob, job_id)
    if job is None or job.created_by != actor_id:
        raise NotFound("Export introuvable.")
    return job


def list_for(session: Session, actor_id: int, limit: int = 50) -> list[ExportJob]:
    stale_jobs.recover(session, imports=False)
    return list(session.exec(select(ExportJob).where(col(ExportJob.created_by) == actor_id)
                             .order_by(col(ExportJob.id).desc()).limit(limit)).all())


CONTENT_TYPES = {".pdf": "application/pdf", ".csv": "text/csv; charset=utf-8",
                 ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def file_of(session: Session, job: ExportJob) -> files.StoredFile | None:
    """A finished job's file (file storage), if still there."""
    if job.status != ExportStatus.done or not job.file_path:
        return None
    return files.get(session, job.file_path)


def start(settings: Settings, job_id: int, *, background: job_queue.Background | None,
          sessions: SessionFactory | None = None, registry: Registry | None = None) -> None:
    """Hand the pending job to the job runner."""
    job_queue.defer(settings, "export", background=background, sessions=sessions,
                    registry=registry, export_id=job_id)


@job_queue.register("export", abandon=lambda ctx, kwargs, reason: fail(
    int(kwargs["export_id"]), ctx.sessions, reason))
def export_job(ctx: job_queue.JobContext, export_id: int) -> None:
    run(export_id, ctx.sessions, ctx.settings, ctx.registry,
        job_queue.RENDERERS.get("shortlist_report"), restart=ctx.queued,
        last_attempt=ctx.last_attempt)


def _start(session: Session, job_id: int, restart: bool) -> ExportJob | None:
    """The job, now running; None when it is not to be run (done, failed, unknown).
    `restart`: the queue runs it again after a dead worker left it running."""
    job = session.get(ExportJob, job_id)
    runnable = (ExportStatus.pending, ExportStatus.running) if restart else (
        ExportStatus.pending,)
    if job is None or job.status not in runnable:
        return None
    job.status = ExportStatus.running.value
    job.updated_at = utcnow()
    session.add(job)
    return job


def run(job_id: int, sessions: SessionFactory, settings: Settings, registry: Registry,
        render_report: export_service.ReportRenderer | None = None, *,
        restart: bool = False, last_attempt: bool = True) -> None:
    """Run one job to completion. The job ends `done` or `failed` (with the reason); if
    even that cannot be recorded (database gone), `stale_jobs.recover` marks it failed
    later. A transient failure (database, disk) before the last attempt puts the job back
    to pending and raises, for the queue to retry it. PDF reports need `render_report`
    (the web side renders their HTML)."""
    tmp: str | None = None
    try:
        with stale_jobs.active("export", job_id), sessions() as session:
            job = write(session, lambda s: _start(s, job_id, restart))
            if job is None:
                return
            suffix = ".pdf" if job.kind.endswith("pdf") else (
                ".csv" if job.kind.endswith("csv") else ".xlsx")
            fd, tmp = tempfile.mkstemp(prefix=f"palier-export-{job_id}-", suffix=suffix)
            os.close(fd)
            progress = _progress(job_id, job.rows_total, sessions,
                                 Pacer(settings.job_duty_cycle))
            _produce(session, job, registry, tmp, progress, render_report)
            data = Path(tmp).read_bytes()
            key = f"export/{job_id}{suffix}"

            def finish(s: Session) -> None:
                done = s.get(ExportJob, job_id)
                assert done is not None
                files.put(s, key, data, CONTENT_TYPES[suffix])
                done.file_path = key
                done.status = ExportStatus.done.value
                done.progress = 1.0
                if done.rows_total is not None:
                    done.rows_done = done.rows_total
                done.finished_at = done.updated_at = utcnow()
                s.add(done)

            write(session, finish)
            Path(tmp).unlink(missing_ok=True)
    except Exception as exc:  # a failed export is reported on its page
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, job_queue.TRANSIENT) and not last_attempt:
            log.warning("export job %s: transient failure, retried: %s", job_id, exc)
            raise
        log.exception("export job %s failed", job_id)
        fail(job_id, sessions, getattr(exc, "message", None) or "L’export a échoué.")
    finally:
        return_memory()


def _progress(job_id: int, rows_total: int | None, sessions: SessionFactory,
              pacer: Pacer) -> exports.Progress:
    """A job's progress tick: its rows done recorded in a session of its own (the job's
    session keeps reading: its cursors and loaded objects survive, nothing is expired or
    read again), then the pause its duty cycle asks for."""
    def progress(done: int) -> None:
        def beat(s: Session) -> None:
            s.exec(update(ExportJob).where(col(ExportJob.id) == job_id).values(
                rows_done=done, updated_at=utcnow(),
                progress=min(1.0, done / rows_total) if rows_total else 0.0))
        with sessions() as beats:
            write(beats, beat)
        pacer.tick()

    return progress


def fail(job_id: int, sessions: SessionFactory, reason: str) -> None:
    """Mark a pending or running job failed with `reason`; never raises."""
    def apply(s: Session) -> None:
        job = s.get(ExportJob, job_id)
        if job is None or job.status not in (ExportStatus.pending, ExportStatus.running):
            return
        job.status = ExportStatus.failed.value
        job.error = reason
        job.finished_at = job.updated_at = utcnow()
        s.add(job)

    try:
        with sessions() as session:
            session.rollback()
            write(session, apply)
    except Exception:
        log.exception("export job %s: could not record its failure", job_id)


def _produce(session: Session, job: ExportJob, registry: Registry, path: str,
             progress: exports.Progress,
             render_report: export_service.ReportRenderer | None) -> None:
    user = session.get(User, job.created_by) if job.created_by is not None else None
    if user is None or not user.active:
        raise NotFound("Compte introuvable ou désactivé.")
    actor = build_actor(session, user)
    params = job.params
    if job.kind == "shortlist_xlsx":  # its rows streamed from the database, sheet by sheet
        head, count = stored.head(session, actor, int(params["shortlist_id"]))
        export_service.shortlist_xlsx(session, head, registry, path,
                                      with_next_steps=bool(params.get("next_steps", True)),
                                      progress=progress, reader=session, count=count)
        return
    if job.kind == "shortlist_pdf":
        if render_report is None:
            raise ValueError("a PDF export job needs render_report")
        shortlist = shortlists.get(session, actor, int(params["shortlist_id"]))
        Path(path).write_bytes(export_service.shortlist_pdf(session, shortlist, registry,
                                                            render_report))
        return
    table = region_export.region_table(session, actor, registry, str(params["region"]))
    if job.kind == "region_xlsx":
        exports.write_table_xlsx(path, [("Évaluations", table.header, table.rows)], progress)
        return
    with open(path, "w", encoding="utf-8", newline="") as f:
        for n, chunk in enumerate(exports.csv_chunks(table.header, table.rows,
                                                     str(params.get("sep", ",")))):
            f.write(chunk)
            progress(n * 1000)
