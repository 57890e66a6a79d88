"""The queue runner: jobs stored in PostgreSQL by procrastinate and run by `palier worker`.

- Web processes defer through a synchronous connector (`defer`); the worker runs every
  registered kind as a procrastinate task (`run_worker`), synchronous functions in threads.
- Retries: a kind registered with `retry=True` is retried on `TRANSIENT` failures, at most
  `PALIER_JOBS_MAX_ATTEMPTS` attempts, waiting `PALIER_JOBS_RETRY_WAIT_SECONDS` × attempts.
- Locks: `defer(..., lock=name)` is procrastinate's `lock`: jobs with the same lock run one
  after the other, in the order they were deferred.
- Stalled jobs: workers write a heartbeat every `PALIER_WORKER_HEARTBEAT_SECONDS`; a job
  left `doing` by a worker silent for `PALIER_WORKER_STALLED_SECONDS` (killed with -9, its
  machine gone) is retried by a live worker (`recover_stalled`), or marked failed when it
  has no attempt left, its own row (export, import) then failed with `ABANDONED`.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any

import procrastinate
import procrastinate.exceptions
import procrastinate.worker
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import normalize_url
from app.jobs.core import KINDS, TRANSIENT, JobContext, run

log = logging.getLogger("palier.jobs")

ABANDONED = ("Interrompu : le processus qui exécutait cette tâche s’est arrêté, et elle a "
             "déjà été tentée le nombre maximal de fois. Relancez-la.")


def conninfo(database_url: str) -> str:
    """A libpq connection string from the SQLAlchemy URL."""
    url = make_url(normalize_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@lru_cache
def _deferrer(info: str) -> procrastinate.App:
    """The (opened) app a web process defers with: a small synchronous pool."""
    connector = procrastinate.SyncPsycopgConnector(conninfo=info, min_size=0, max_size=4)
    app = procrastinate.App(connector=connector).open()
    _OPENED.append(app)
    return app


def close() -> None:
    """Close the deferring pools of this process (tests dropping their database)."""
    for app in list(_OPENED):
        app.close()
    _OPENED.clear()
    _deferrer.cache_clear()


_OPENED: list[procrastinate.App] = []


def defer(settings: Settings, kind: str, *, lock: str | None, request_id: str | None,
          **kwargs: Any) -> int:
    """Store the job; returns procrastinate's job id."""
    app = _deferrer(conninfo(settings.database_url))
    job_id = app.configure_task(kind, lock=lock).defer(request_id=request_id, **kwargs)
    log.info("job %s deferred (%s)", kind, job_id)
    return job_id


def reachable(settings: Settings) -> bool:
    """The queue answers (its table exists and the database is reachable)."""
    try:
        return _deferrer(conninfo(settings.database_url)).check_connection()
    except Exception:
        log.warning("job queue unreachable", exc_info=True)
        return False


def worker_app(settings: Settings) -> procrastinate.App:
    """An app with every registered kind as a task (asynchronous connector)."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings.database_url)))
    strategy = procrastinate.RetryStrategy(
        max_attempts=settings.jobs_max_attempts,
        linear_wait=settings.jobs_retry_wait_seconds, retry_exceptions=TRANSIENT)
    for kind in KINDS.values():
        app.task(name=kind.name, pass_context=True,
                 retry=strategy if kind.retry else False)(_task_function(settings, kind.name))
    return app


def _task_function(settings: Settings, name: str) -> Any:
    def task(context: procrastinate.JobContext, request_id: str | None = None,
             **kwargs: Any) -> None:
        attempts = context.job.attempts
        last = attempts + 1 >= KINDS[name].attempts(settings)
        ctx = JobContext(settings, request_id=request_id, attempt=attempts,
                         last_attempt=last, queued=True)
        run(name, ctx, kwargs)
    task.__name__ = f"job_{name}"
    return task


async def recover_stalled(app: procrastinate.App, settings: Settings,
                          own_worker: int | None = None) -> int:
    """Retry (or fail, with no attempt left) the jobs of workers that stopped beating
    (never `own_worker`'s: a busy machine may delay its own heartbeat). Returns how many."""
    manager = app.job_manager
    jobs = [job for job in await manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.worker_stalled_seconds)
        if own_worker is None or job.worker_id != own_worker]
    for job in jobs:
        try:
            await _recover(app, settings, job)
        except procrastinate.exceptions.ConnectorException:  # finished or taken meanwhile
            log.info("stalled job %s changed meanwhile", job.id, exc_info=True)
    return len(jobs)


async def _recover(app: procrastinate.App, settings: Settings, job: Any) -> None:
    manager = app.job_manager
    kind = KINDS.get(job.task_name)
    if kind is not None and job.attempts + 1 < kind.attempts(settings):
        log.warning("stalled job %s (%s) retried", job.id, job.task_name)
        await manager.retry_job(job)
        return
    log.warning("stalled job %s (%s) failed: no attempt left", job.id, job.task_name)
    await manager.finish_job(job, status=Status.FAILED, delete_job=False)
    if kind is not None and kind.abandon is not None:
        args = {k: v for k, v in job.task_kwargs.items() if k != "request_id"}
        await asyncio.to_thread(kind.abandon, JobContext(settings), args, ABANDONED)


async def _recovery_loop(app: procrastinate.App, settings: Settings,
                         worker: procrastinate.worker.Worker) -> None:
    while True:
        try:
            await recover_stalled(app, settings, worker.worker_id)
        except Exception:
            log.exception("stalled job recovery failed")
        await asyncio.sleep(settings.worker_heartbeat_seconds)


async def run_worker(settings: Settings, *, concurrency: int = 1, wait: bool = True,
                     name: str | None = None) -> None:
    """Run jobs until stopped (SIGINT / SIGTERM finish the current jobs first)."""
    app = worker_app(settings)
    async with app.open_async():
        worker = procrastinate.worker.Worker(
            app=app, concurrency=concurrency, wait=wait, name=name,
            update_heartbeat_interval=settings.worker_heartbeat_seconds,
            stalled_worker_timeout=settings.worker_stalled_seconds,
            fetch_job_polling_interval=min(5.0, settings.worker_heartbeat_seconds))
        recovery = asyncio.create_task(_recovery_loop(app, settings, worker))
        try:
            await worker.run()  # type: ignore[no-untyped-call]
        finally:
            recovery.cancel()


def schema_sql() -> str:
    """procrastinate's schema (installed by migration 0011 on PostgreSQL)."""
    return SchemaManager.get_schema()
