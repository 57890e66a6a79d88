"""Operations endpoints: the load balancer's probes and the Prometheus metrics.

    GET /healthz   alive: answers without touching the database, the session or cookies
    GET /readyz    ready: the database answers, its migrations are at head and (on the job
                   queue) the queue answers; else 503 with a JSON reason
    GET /metrics   Prometheus text exposition; administrators only (session or Bearer token)

The probes are public and skip the user loading (app.web.observability.PROBE_PATHS, honoured by
app.auth_deps.resolve_user), so a probe every second mints no cookie and opens no session.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from app import jobs
from app.cli.db import MIGRATIONS_DIR
from app.config import get_settings
from app.db import get_engine
from app.deps import SessionDep, SettingsDep
from app.jobs import queue, stats
from app.permissions import Action
from app.web.auth_deps import require_permission
from app.web.observability import jobs_exposition, metrics_exposition

router = APIRouter()
# /healthz is included by app.main without the app-wide dependencies (no threadpool hop to
# load a user, no session): an `async def` answered on the event loop.
probe_router = APIRouter()
log = logging.getLogger("palier.health")
NO_STORE = {"Cache-Control": "no-store"}


@lru_cache
def migration_heads() -> frozenset[str]:
    """The head revisions of the code's migrations (fixed for the life of the process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@probe_router.get("/healthz")
async def healthz() -> JSONResponse:
    """Vivant : le processus répond (sans base de données)."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/readyz")
def readyz() -> JSONResponse:
    """Prêt : la base répond et ses migrations sont à jour ; sinon 503 et la raison."""
    try:
        with get_engine().connect() as connection:
            current = frozenset(connection.execute(text(
                "SELECT version_num FROM alembic_version")).scalars()
                if inspect(connection).has_table("alembic_version") else ())
    except (SQLAlchemyError, OSError) as exc:
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "reason": "database unreachable"},
                            status_code=503, headers=NO_STORE)
    expected = migration_heads()
    if current != expected:
        return JSONResponse({"status": "unavailable", "reason": "migrations not at head",
                             "database": sorted(current), "expected": sorted(expected)},
                            status_code=503, headers=NO_STORE)
    settings = get_settings()
    if jobs.runner(settings) == "queue" and not queue.reachable(settings):
        return JSONResponse({"status": "unavailable", "reason": "job queue unreachable"},
                            status_code=503, headers=NO_STORE)
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/metrics", dependencies=[Depends(require_permission(Action.view_metrics))])
def metrics(session: SessionDep, settings: SettingsDep) -> Response:
    """Métriques Prometheus (administrateurs)."""
    job_counts, depth = stats.counts(session, settings)
    return Response(metrics_exposition() + jobs_exposition(job_counts, depth),
                    media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
