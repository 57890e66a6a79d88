"""Application wiring: create_app() builds the FastAPI app. No logic lives here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import auth_deps, contention, stale_jobs
from app.config import get_settings
from app.db import get_engine
from app.questionnaires import Registry
from app.reviews.limits import UploadSizeLimit
from app.routes import admin, admin_users, api, director, docs, errors, public, reviews, reviews_api
from app.routes import audit as audit_routes
from app.routes import auth as auth_routes
from app.routes import shortlists as shortlist_routes
from app.routes import shortlists_api as shortlist_api_routes
from app.routes.invitations import router as invitations_router
from app.routes.organismes import router as organismes_router
from app.routes.region import router as region_router
from app.routes.structures_admin import router as structures_admin_router
from app.schemas import ApiError
from app.security import BodySizeLimit, SecurityHeadersMiddleware

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("palier")


def _recover_jobs() -> None:
    """Jobs left running by a process that died are marked failed (best effort)."""
    try:
        with Session(get_engine()) as session:
            stale_jobs.recover(session)
    except Exception:  # a missing or unmigrated database must not stop the server here
        log.warning("could not check for interrupted jobs at start-up", exc_info=True)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    await run_in_threadpool(_recover_jobs)
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="Palier",
        version="0.1.0",
        dependencies=[Depends(auth_deps.load_user)],  # user, actor, CSRF on every route
        docs_url=None,  # /docs is app.routes.docs (self-hosted Swagger UI)
        redoc_url=None,
        lifespan=lifespan,
        responses={422: {"model": ApiError, "description": "Données invalides"}},
    )
    app.add_middleware(UploadSizeLimit)  # inside the security headers: its 413 gets them
    app.add_middleware(BodySizeLimit,
                       import_max_bytes=get_settings().import_max_upload_mb * 1024 * 1024)
    settings = get_settings()
    app.add_middleware(SecurityHeadersMiddleware,
                       https_base=settings.public_url.startswith("https://"))
    if settings.trusted_proxy_list:  # outermost: every other layer sees the real client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.state.registry = Registry.load(get_settings().questionnaires_dir)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.include_router(director.router)  # before public: its "/" sends directors home
    app.include_router(public.router)
    app.add_exception_handler(StarletteHTTPException, public.http_error_page)
    app.include_router(api.public_router)
    app.include_router(admin.router)
    app.include_router(api.router)
    errors.install(app)
    auth_deps.install(app)
    contention.install(app)
    app.include_router(auth_routes.router)
    app.include_router(auth_routes.api_router)
    app.include_router(admin_users.router)
    app.include_router(docs.router)
    app.include_router(shortlist_routes.router)
    app.include_router(shortlist_routes.region_router)
    app.include_router(shortlist_routes.jobs_router)
    app.include_router(shortlist_api_routes.router)
    app.include_router(shortlist_api_routes.jobs_router)
    app.include_router(audit_routes.router)
    app.include_router(reviews.router)
    app.include_router(reviews_api.router)
    app.include_router(structures_admin_router)
    app.include_router(invitations_router)
    app.include_router(organismes_router)
    app.include_router(region_router)
    return app
