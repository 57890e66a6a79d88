"""Map service errors to HTTP: JSON under /api, the French error page elsewhere."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from app.errors import Conflict, Incomplete, InvalidAnswers, ServiceError
from app.web.templating import render


def error_payload(exc: ServiceError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, Conflict):
        body["conflicts"] = [asdict(i) for i in exc.items]
        body["version"] = exc.version
    elif isinstance(exc, InvalidAnswers):
        body["errors"] = [e.to_dict() for e in exc.errors]
    elif isinstance(exc, Incomplete):
        body["missing"] = exc.missing
    return body


async def service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_payload(exc), status_code=exc.status)
    return render(request, "pages/error.html",
                  {"status": exc.status, "title": _TITLES.get(exc.status, "Erreur"),
                   "message": exc.message}, status_code=exc.status)


_TITLES = {403: "Accès refusé", 404: "Page introuvable", 409: "Modification impossible",
           422: "Données invalides", 503: "Service indisponible"}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error_handler)
