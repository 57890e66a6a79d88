"""Application wiring: create_app() builds the FastAPI app. No logic lives here."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import auth_deps
from app.config import get_settings
from app.observability import RequestObservability, configure_logging
from app.questionnaires import Registry
from app.reviews.limits import UploadSizeLimit
from app.routes import admin, admin_users, api, director, docs, errors, public, reviews, reviews_api
from app.routes import audit as audit_routes
from app.routes import auth as auth_routes
from app.routes import health as health_routes
from app.routes import shortlists as shortlist_routes
from app.routes import shortlists_api as shortlist_api_routes
from app.routes.invitations import router as invitations_router
from app.routes.organismes import router as organismes_router
from app.routes.region import router as region_router
from app.routes.structures_admin import router as structures_admin_router
from app.security import BodySizeLimit, SecurityHeadersMiddleware

ROOT = Path(__file__).resolve().parent.parent


def create_app() -> FastAPI:
    app = FastAPI(
        title="Palier",
        version="0.1.0",
        dependencies=[Depends(auth_deps.load_user)],  # user, actor, CSRF on every route
        docs_url=None,  # /docs is app.routes.docs (self-hosted Swagger UI)
        redoc_url=None,
    )
    app.add_middleware(UploadSizeLimit)  # inside the security headers: its 413 gets them
    app.add_middleware(BodySizeLimit,
                       import_max_bytes=get_settings().import_max_upload_mb * 1024 * 1024)
    settings = get_settings()
    app.add_middleware(SecurityHeadersMiddleware,
                       https_base=settings.public_url.startswith("https://"))
    configure_logging(settings)
    app.add_middleware(RequestObservability)  # request id, access log, metrics
    if settings.trusted_proxy_list:  # outermost: every other layer sees the real client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.state.registry = Registry.load(get_settings().questionnaires_dir)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.include_router(health_routes.router)
    app.include_router(director.router)  # before public: its "/" sends directors home
    app.include_router(public.router)
    app.add_exception_handler(StarletteHTTPException, public.http_error_page)
    app.include_router(api.public_router)
    app.include_router(admin.router)
    app.include_router(api.router)
    errors.install(app)
    auth_deps.install(app)
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
