"""Application wiring: create_app() builds the FastAPI app. No logic lives here."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import jobs, stale_jobs
from app.accounts.oidc import provider_origins
from app.config import get_settings
from app.db import close_event_loop_pool, get_engine
from app.questionnaires import Registry
from app.routes import (
    ROUTERS,
    api,
    api_autosave,
    assessment_results,
    errors,
    health,
    public,
    section_page,
)
from app.routes.schemas import ApiError
from app.shortlists import readmodel as shortlist_readmodel
from app.web import assets, auth_deps, contention, reports, templating
from app.web.edge import EdgeApp
from app.web.lanes import Lanes
from app.web.observability import RequestObservability, configure_logging
from app.web.security import BodySizeLimit, SecurityHeadersMiddleware
from app.web.upload_limit import UploadSizeLimit

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("palier")


def _at_start() -> None:
    """Best effort: jobs left running by a process that died are marked failed; the
    shortlists' read model gets the rows a database upgraded to 0007 lacks (once here,
    not on every preview)."""
    try:
        with Session(get_engine()) as session:
            stale_jobs.recover(session)
        with Session(get_engine()) as session:
            shortlist_readmodel.ensure(session)
    except Exception:  # a missing or unmigrated database must not stop the server here
        log.warning("could not check for interrupted jobs or read-model rows at start-up",
                    exc_info=True)


def install_jobs() -> None:
    """The web-side helpers jobs need (the routes imported above register every job kind)."""
    jobs.RENDERERS["shortlist_report"] = reports.shortlist_report_html
    jobs.RENDERERS["declaration_html"] = assessment_results.declaration_html


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    await run_in_threadpool(_at_start)
    yield
    await close_event_loop_pool(_app.state)


def create_app() -> FastAPI:
    app = EdgeApp(  # the app's own middlewares below run fused as one layer
        title="Palier",
        version="0.1.0",
        dependencies=[Depends(auth_deps.load_user)],  # user, actor, CSRF on every route
        docs_url=None,  # /docs is app.routes.docs (self-hosted Swagger UI)
        redoc_url=None,
        lifespan=lifespan,
        # No OpenTelemetry: the app's metrics are Prometheus' (app.web.observability). Off,
        # FastAPI does not look for configured providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        responses={422: {"model": ApiError, "description": "Données invalides"}},
    )
    app.add_middleware(UploadSizeLimit)  # inside the security headers: its 413 gets them
    app.add_middleware(BodySizeLimit,
                       import_max_bytes=get_settings().import_max_upload_mb * 1024 * 1024)
    settings = get_settings()
    app.add_middleware(SecurityHeadersMiddleware,
                       https_base=settings.public_url.startswith("https://"),
                       form_origins=provider_origins(settings))
    configure_logging(settings)
    templating.configure(settings)
    sys.setswitchinterval(settings.switch_interval_ms / 1000)  # for this process (app.web.lanes)
    app.add_middleware(Lanes, page_slots=settings.page_slots,  # inside: metrics count the wait
                       download_slots=settings.download_slots,
                       wait_seconds=settings.lane_wait_seconds)
    app.add_middleware(RequestObservability)  # request id, access log, metrics
    if settings.trusted_proxy_list:  # outermost: every other layer sees the real client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    install_jobs()
    app.state.registry = Registry.load(get_settings().questionnaires_dir)
    app.mount("/static", assets.static_app(), name="static")  # gzip, cache headers
    app.add_exception_handler(StarletteHTTPException, public.http_error_page)
    errors.install(app)
    auth_deps.install(app)
    contention.install(app)
    # The liveness probe's route joins the app's routes as is: include_router would add the
    # app-wide dependencies (user loading in the threadpool) to it.
    app.router.routes.extend(health.probe_router.routes)
    # The API's autosave too: its route checks the caller itself (app.web.api_caller)
    # and reads the token with its own rows (issue 14).
    app.router.routes.extend(api.lean_router.routes)
    for router in ROUTERS:
        app.include_router(router)
    section_page.install(app)  # the section page's lean path in front of its route
    api_autosave.install(app)  # the API autosave's lean path in front of its route
    return app
