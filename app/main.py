"""Application wiring: create_app() builds the FastAPI app. No logic lives here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.routes import public

ROOT = Path(__file__).resolve().parent.parent


def create_app() -> FastAPI:
    app = FastAPI(title="Palier", version="0.1.0")
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.include_router(public.router)
    return app
