"""Application wiring: create_app() builds the FastAPI app. No logic lives here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import get_settings
from app.questionnaires import Registry
from app.routes import api, errors, public

ROOT = Path(__file__).resolve().parent.parent


def create_app() -> FastAPI:
    app = FastAPI(title="Palier", version="0.1.0")
    app.state.registry = Registry.load(get_settings().questionnaires_dir)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.include_router(public.router)
    app.add_exception_handler(StarletteHTTPException, public.http_error_page)
    app.include_router(api.router)
    errors.install(app)
    return app
