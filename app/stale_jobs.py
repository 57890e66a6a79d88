"""Background jobs (exports, imports) left `pending`/`running` by a process that died are
marked failed with a reason, so that no job stays "en cours" forever.

A job is stale when this process is not running it (`ACTIVE`) and it has given no sign of
life for a while: an export's heartbeat (`updated_at`, written with its progress) older
than `EXPORT_STALE_AFTER`; an import (no heartbeat) started longer than
`IMPORT_STALE_AFTER` ago. On PostgreSQL, also a job whose queue job (procrastinate, run
by `palier worker`) ended failed, cancelled or aborted with none left to run: the queue gave
up on it (a worker killed with no attempt left is handled by the worker itself, see
app/jobs/queue.py). `recover` runs at start-up and when jobs are read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import func, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app.db import is_contention, utcnow, write
from app.shortlists.models import ExportJob, ExportStatus
from app.structures.models import ImportJob, ImportStatus

log = logging.getLogger("palier.jobs")

EXPORT_STALE_AFTER = timedelta(minutes=15)
IMPORT_STALE_AFTER = timedelta(hours=1)
INTERRUPTED = ("Interrompu : le serveur s’est arrêté pendant le traitement "
               "(redémarrage ?). Relancez-le.")

# (kind, id) of the jobs this process is running now.
ACTIVE: set[tuple[str, int]] = set()


@contextmanager
def active(kind: str, job_id: int) -> Iterator[None]:
    """Mark a job as run by this process while the block runs."""
    ACTIVE.add((kind, job_id))
    try:
        yield
    finally:
        ACTIVE.discard((kind, job_id))


_GIVEN_UP = """
SELECT r.id FROM {table} r WHERE r.status IN ('pending', 'running')
AND EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = '{kind}'
            AND j.args->>'{arg}' = r.id::text AND j.status IN ('failed', 'cancelled', 'aborted'))
AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = '{kind}'
                AND j.args->>'{arg}' = r.id::text AND j.status IN ('todo', 'doing', 'aborting'))
"""


def _given_up(session: Session, table: str, kind: str, arg: str) -> list[int]:
    """Rows whose queue jobs all ended without success (PostgreSQL: the queue's table)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    query = _GIVEN_UP.format(table=table, kind=kind, arg=arg)
    return [int(i) for i in session.execute(text(query)).scalars()]


def _stale_exports(session: Session) -> list[int]:
    ids = session.exec(select(ExportJob.id).where(
        col(ExportJob.status).in_([ExportStatus.pending.value, ExportStatus.running.value]),
        col(ExportJob.updated_at) < utcnow() - EXPORT_STALE_AFTER)).all()
    stale = {i for i in ids if i is not None and ("export", i) not in ACTIVE}
    return sorted(stale | set(_given_up(session, "export_job", "export", "export_id")))


def _stale_imports(session: Session) -> list[int]:
    since = func.coalesce(col(ImportJob.started_at), col(ImportJob.created_at))
    ids = session.exec(select(ImportJob.id).where(
        col(ImportJob.status).in_([ImportStatus.pending.value, ImportStatus.running.value]),
        since < utcnow() - IMPORT_STALE_AFTER)).all()
    stale = {i for i in ids if i is not None and ("import", i) not in ACTIVE}
    return sorted(stale | set(_given_up(session, "import_job", "import", "import_id")))


def recover(session: Session, *, exports: bool = True, imports: bool = True) -> int:
    """Mark the stale jobs failed ("interrompu"); returns how many. Reads first and writes
    (through `app.db.write`) only when there is something to recover. Best effort: on lock
    contention, the next call does it."""
    export_ids = _stale_exports(session) if exports else []
    import_ids = _stale_imports(session) if imports else []
    if not export_ids and not import_ids:
        return 0
    now = utcnow()
    running = ["pending", "running"]  # the same values in ExportStatus and ImportStatus

    def apply(s: Session) -> int:
        n = 0
        if export_ids:
            n += s.exec(update(ExportJob).where(
                col(ExportJob.id).in_(export_ids), col(ExportJob.status).in_(running)
            ).values(status=ExportStatus.failed.value, error=INTERRUPTED, finished_at=now,
                     updated_at=now)).rowcount
        if import_ids:
            n += s.exec(update(ImportJob).where(
                col(ImportJob.id).in_(import_ids), col(ImportJob.status).in_(running)
            ).values(status=ImportStatus.failed.value, phase=None, error=INTERRUPTED,
                     finished_at=now)).rowcount
        return n

    try:
        count = write(session, apply)
    except DBAPIError as exc:
        if not is_contention(exc):
            raise
        session.rollback()
        return 0
    if count:
        log.warning("%s interrupted job(s) marked failed (exports %s, imports %s)",
                    count, export_ids, import_ids)
    return count
