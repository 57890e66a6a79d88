"""Jobs: kinds, context and the inline runner (the API is app.jobs).

One job API, two runners.

Features declare their background work as *jobs*: a function `fn(ctx, **kwargs)` registered
under a kind (`@register("export")`), whose keyword arguments are plain JSON values (ids,
strings). `defer(settings, kind, ...)` hands it to the runner of the settings
(`PALIER_JOBS_RUNNER`):

- `queue` (the default on PostgreSQL): the job is stored in procrastinate's table and run
  by `palier worker` (app/jobs/queue.py), with retries of transient failures, locks and
  stalled-job recovery;
- `inline` (the default on SQLite, the embedded install, and in tests): the same function
  runs in this process, after the response when the route gives its `BackgroundTasks`,
  else at once, with the same retries of transient failures (`run_inline`). A lock is a
  process-wide `threading.Lock` (one writer process on SQLite).

A job sees a `JobContext`: the settings, how to open a session, the questionnaires, the
request id of the request that deferred it (bound to its log lines), its attempt number.
Web-side helpers a job needs (the PDF report renderer) are installed in `RENDERERS` by the
wiring (app/main.py, `palier worker`): features never import app.web.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import structlog
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.config import Settings
from app.db import get_engine, is_sqlite
from app.questionnaires import Registry

log = logging.getLogger("palier.jobs")

SessionFactory = Callable[[], AbstractContextManager[Session]]
# Failures worth another attempt: the database or a server (SMTP) was briefly unreachable.
TRANSIENT: tuple[type[Exception], ...] = (OperationalError, smtplib.SMTPException, OSError)


@dataclass
class JobContext:
    settings: Settings
    sessions: SessionFactory = field(default=lambda: Session(get_engine()))
    registry_loader: Callable[[], Registry] | None = None
    request_id: str | None = None
    attempt: int = 0  # 0 on the first run
    last_attempt: bool = True  # no retry follows a failure
    queued: bool = False  # run by a worker (may find its row left running by a dead one)

    @property
    def registry(self) -> Registry:
        if self.registry_loader is None:
            return _registry(self.settings)
        return self.registry_loader()


_REGISTRIES: dict[str, Registry] = {}


def _registry(settings: Settings) -> Registry:
    key = str(settings.questionnaires_dir)
    if key not in _REGISTRIES:
        _REGISTRIES[key] = Registry.load(settings.questionnaires_dir)
    return _REGISTRIES[key]


JobFunction = Callable[..., None]


@dataclass(frozen=True)
class Kind:
    name: str
    fn: JobFunction
    retry: bool  # retried on TRANSIENT failures (the function must be idempotent)
    # Marks the job's own row failed with a reason when the queue gives up on it (stalled
    # with no attempt left): (ctx, kwargs, reason).
    abandon: Callable[[JobContext, dict[str, Any], str], None] | None = None

    def attempts(self, settings: Settings) -> int:
        """How many times it runs at most (the inline runner and the queue alike)."""
        return settings.jobs_max_attempts if self.retry else 1


KINDS: dict[str, Kind] = {}
# Web-side helpers jobs need, installed by the wiring: "shortlist_report" (dict -> HTML),
# "declaration_html" ((session, settings, registry, assessment) -> HTML).
RENDERERS: dict[str, Callable[..., str]] = {}


def register(name: str, *, retry: bool = True,
             abandon: Callable[[JobContext, dict[str, Any], str], None] | None = None,
             ) -> Callable[[JobFunction], JobFunction]:
    def decorate(fn: JobFunction) -> JobFunction:
        KINDS[name] = Kind(name, fn, retry, abandon)
        return fn
    return decorate


class Background(Protocol):
    """Starlette's BackgroundTasks (run after the response)."""

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None: ...


def runner(settings: Settings) -> str:
    """"queue" or "inline" for these settings."""
    if settings.jobs_runner != "auto":
        return settings.jobs_runner
    return "inline" if is_sqlite(settings.database_url) else "queue"


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def _inline_lock(name: str | None) -> Iterator[None]:
    if name is None:
        yield
        return
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(name, threading.Lock())
    with lock:
        yield


def run(kind: str, ctx: JobContext, kwargs: dict[str, Any]) -> None:
    """Run one job in this thread, its log lines bound to its kind and request id."""
    with structlog.contextvars.bound_contextvars(job_kind=kind, request_id=ctx.request_id):
        log.info("job %s started (attempt %s)", kind, ctx.attempt + 1)
        KINDS[kind].fn(ctx, **kwargs)
        log.info("job %s finished", kind)


def run_inline(kind: str, ctx: JobContext, lock: str | None, kwargs: dict[str, Any]) -> None:
    """The inline runner, with the queue's retry policy: a kind registered with `retry=True`
    failing with a TRANSIENT error is run again, at most `jobs_max_attempts` attempts,
    waiting `jobs_retry_wait_seconds` × attempts in between (this thread only). When it
    fails for good (no attempt left, or any other error) its `abandon` hook marks its own
    row failed with the reason (rows already done or failed are left alone)."""
    spec = KINDS[kind]
    attempts = spec.attempts(ctx.settings)
    with _inline_lock(lock):
        for attempt in range(attempts):
            ctx = replace(ctx, attempt=attempt, last_attempt=attempt + 1 >= attempts)
            try:
                run(kind, ctx, kwargs)
                return
            except TRANSIENT as exc:
                if not ctx.last_attempt:
                    log.warning("job %s: transient failure, retried: %s", kind, exc)
                    time.sleep(ctx.settings.jobs_retry_wait_seconds * (attempt + 1))
                    continue
                log.exception("job %s failed after %s attempts", kind, attempts)
                reason = GAVE_UP.format(attempts=attempts)
            except Exception:
                log.exception("job %s failed", kind)
                reason = UNEXPECTED
            _abandon(spec, ctx, kwargs, reason)
            return


GAVE_UP = ("Échec : la tâche a été tentée {attempts} fois sans succès (base de données ou "
           "serveur de courriel indisponible). Relancez-la.")
UNEXPECTED = "Échec : erreur inattendue pendant la tâche. Relancez-la."


def _abandon(spec: Kind, ctx: JobContext, kwargs: dict[str, Any], reason: str) -> None:
    if spec.abandon is None:
        return
    try:
        spec.abandon(ctx, kwargs, reason)
    except Exception:
        log.exception("job %s: could not record its failure", spec.name)
