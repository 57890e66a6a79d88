"""Send an export now or run it as a background job: one decision for the pages and the API.

Small files are built during the request; above `SYNC_ROWS[format]` rows the export becomes
an `ExportJob` (app.shortlists.jobs). A frozen shortlist's finished file is reused rather
than built again; the same export already pending or running is joined, not duplicated.
Every request is audited (`export_service.record_export`), with the job's id when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.files import StoredFile
from app.permissions import Actor
from app.shortlists import export_service, jobs
from app.shortlists.models import ExportJob, ExportStatus

SYNC_ROWS = {"xlsx": 2000, "pdf": 100}  # above: a background job


def runs_as_job(fmt: str, rows: int | None) -> bool:
    """Whether an export of `rows` rows in format `fmt` is a background job."""
    limit = SYNC_ROWS.get(fmt)
    return limit is not None and rows is not None and rows > limit


@dataclass(frozen=True)
class JobSpec:
    """An export as a background job: what it produces and what its audit record names."""

    kind: str  # "<object>_<format>": "shortlist_xlsx", "region_xlsx"...
    params: dict[str, Any]
    filename: str
    rows: int | None
    object_type: str
    object_id: Any
    reuse_done: bool  # serve a finished job's file again (a frozen shortlist's)

    @property
    def fmt(self) -> str:
        return self.kind.split("_")[1]

    @property
    def as_job(self) -> bool:
        """Whether this export is large enough to be a background job."""
        return runs_as_job(self.fmt, self.rows)


@dataclass(frozen=True)
class JobExport:
    job: ExportJob
    file: StoredFile | None  # a finished job's file: serve it
    started: bool  # a new job: the caller schedules `jobs.run(job_id, ...)`

    @property
    def job_id(self) -> int:
        assert self.job.id is not None  # a stored job
        return self.job.id


def job_export(session: Session, actor: Actor, spec: JobSpec, ip: str | None) -> JobExport:
    """The job that produces this export: a finished one (its file, if `spec.reuse_done`),
    one pending or running, else a new one."""
    for job in jobs.list_for(session, actor.id):
        if job.kind != spec.kind or job.params != spec.params:
            continue
        if job.status == ExportStatus.done and spec.reuse_done:
            blob = jobs.file_of(session, job)
            if blob is not None:
                _record(session, actor, spec, ip, job.id)
                return JobExport(job, blob, started=False)
        if job.status in (ExportStatus.pending, ExportStatus.running):
            return JobExport(job, None, started=False)
    job = jobs.create(session, actor.id, spec.kind, spec.params, spec.filename, spec.rows)
    _record(session, actor, spec, ip, job.id)
    return JobExport(job, None, started=True)


def _record(session: Session, actor: Actor, spec: JobSpec, ip: str | None,
            job_id: int | None) -> None:
    export_service.record_export(session, actor, spec.object_type, spec.fmt, spec.object_type,
                                 spec.object_id, spec.rows, ip, job_id)
