"""Background export jobs: the state lives in `ExportJob` rows (any worker can report it),
the file under the exports folder (`<var>/exports/`, beside the evidence folder).

A job is created by a request, then run after the response (Starlette background task, in
the threadpool) in its own database session; it updates `rows_done`/`progress` as it goes,
writes to a temporary file and renames it when complete. A job left `running` without
progress for `STALE_AFTER` (its process died) is reported as failed, never as running
forever. Only the job's creator sees it and downloads its file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlmodel import Session, col, select

from app.accounts.auth import build_actor
from app.accounts.models import User
from app.config import Settings
from app.db import get_engine, utcnow
from app.errors import NotFound
from app.questionnaires import Registry
from app.shortlists import export_service, exports
from app.shortlists import service as shortlists
from app.shortlists.models import ExportJob, ExportStatus

log = logging.getLogger("palier.exports")

STALE_AFTER = timedelta(minutes=15)
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


def exports_dir(settings: Settings) -> Path:
    configured = getattr(settings, "exports_dir", None)
    return Path(configured) if configured else Path(settings.evidence_dir).parent / "exports"


def create(session: Session, actor_id: int, kind: str, params: dict[str, Any], filename: str,
           rows_total: int | None) -> ExportJob:
    job = ExportJob(kind=kind, params=params, filename=filename, created_by=actor_id,
                    rows_total=rows_total)
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def get(session: Session, actor_id: int, job_id: int) -> ExportJob:
    job = session.get(ExportJob, job_id)
    if job is None or job.created_by != actor_id:
        raise NotFound("Export introuvable.")
    return _unstale(job)


def list_for(session: Session, actor_id: int, limit: int = 50) -> list[ExportJob]:
    jobs = session.exec(select(ExportJob).where(col(ExportJob.created_by) == actor_id)
                        .order_by(col(ExportJob.id).desc()).limit(limit)).all()
    return [_unstale(j) for j in jobs]


def _unstale(job: ExportJob) -> ExportJob:
    """A job whose worker stopped reporting is shown as failed (not written back)."""
    if job.status in (ExportStatus.pending, ExportStatus.running) \
            and utcnow() - job.updated_at > STALE_AFTER:
        job.status = ExportStatus.failed.value
        job.error = "L’export a été interrompu (redémarrage du serveur ?) : relancez-le."
    return job


def file_of(settings: Settings, job: ExportJob) -> Path | None:
    if job.status != ExportStatus.done or not job.file_path:
        return None
    path = exports_dir(settings) / job.file_path
    return path if path.is_file() else None


def run(job_id: int, sessions: SessionFactory, settings: Settings, registry: Registry,
        render_report: export_service.ReportRenderer | None = None) -> None:
    """Run one job to completion (or failure); never raises. PDF reports need
    `render_report` (the web side renders their HTML)."""
    with sessions() as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.status != ExportStatus.pending:
            return
        job.status = ExportStatus.running.value
        job.updated_at = utcnow()
        session.add(job)
        session.commit()
        target = exports_dir(settings)
        target.mkdir(parents=True, exist_ok=True)
        suffix = ".pdf" if job.kind.endswith("pdf") else (
            ".csv" if job.kind.endswith("csv") else ".xlsx")
        fd, tmp = tempfile.mkstemp(prefix=f"job-{job_id}-", suffix=".tmp", dir=target)
        os.close(fd)

        def progress(done: int) -> None:
            job.rows_done = done
            if job.rows_total:
                job.progress = min(1.0, done / job.rows_total)
            job.updated_at = utcnow()
            session.add(job)
            session.commit()

        try:
            _produce(session, job, registry, tmp, progress, render_report)
            final = target / f"export-{job_id}{suffix}"
            os.replace(tmp, final)
            job.file_path = final.name
            job.status = ExportStatus.done.value
            job.progress = 1.0
            if job.rows_total is not None:
                job.rows_done = job.rows_total
        except Exception as exc:  # a failed export is reported on its page
            log.exception("export job %s failed", job_id)
            session.rollback()
            Path(tmp).unlink(missing_ok=True)
            job = session.get(ExportJob, job_id) or job
            job.status = ExportStatus.failed.value
            job.error = getattr(exc, "message", None) or "L’export a échoué."
        job.finished_at = job.updated_at = utcnow()
        session.add(job)
        session.commit()


def _produce(session: Session, job: ExportJob, registry: Registry, path: str,
             progress: exports.Progress,
             render_report: export_service.ReportRenderer | None) -> None:
    user = session.get(User, job.created_by) if job.created_by is not None else None
    if user is None or not user.active:
        raise NotFound("Compte introuvable ou désactivé.")
    actor = build_actor(session, user)
    params = job.params
    if job.kind in ("shortlist_xlsx", "shortlist_pdf"):
        shortlist = shortlists.get(session, actor, int(params["shortlist_id"]))
        if job.kind == "shortlist_pdf":
            if render_report is None:
                raise ValueError("a PDF export job needs render_report")
            Path(path).write_bytes(export_service.shortlist_pdf(session, shortlist, registry,
                                                                render_report))
            return
        export_service.shortlist_xlsx(session, shortlist, registry, path,
                                      with_next_steps=bool(params.get("next_steps", True)),
                                      progress=progress)
        return
    table = export_service.region_table(session, actor, registry, str(params["region"]))
    if job.kind == "region_xlsx":
        exports.write_table_xlsx(path, [("Évaluations", table.header, table.rows)], progress)
        return
    with open(path, "w", encoding="utf-8", newline="") as f:
        for n, chunk in enumerate(exports.csv_chunks(table.header, table.rows,
                                                     str(params.get("sep", ",")))):
            f.write(chunk)
            progress(n * 1000)
