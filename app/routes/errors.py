"""Map service errors to HTTP: JSON under /api, the French error page elsewhere."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError

from app.errors import Conflict, Incomplete, InvalidAnswers, InvalidValue, ServiceError
from app.web.templating import render

log = logging.getLogger("palier.errors")

ECHO_MAX = 200  # characters of a refused value echoed back in an error body


def json_safe(value: Any) -> Any:
    """A refused value made fit to echo in a JSON error body: NaN and infinities become
    strings, lone surrogates and control characters are escaped, long texts are cut."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        if len(value) > ECHO_MAX:
            value = value[:ECHO_MAX] + "…"
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def error_payload(exc: ServiceError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, Conflict):
        body["conflicts"] = [asdict(i) for i in exc.items]
        body["version"] = exc.version
    elif isinstance(exc, InvalidAnswers):
        body["errors"] = [e.to_dict() for e in exc.errors]
    elif isinstance(exc, Incomplete):
        body["missing"] = exc.missing
    return json_safe(body)  # type: ignore[no-any-return]


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 body ({"detail": [{loc, msg, type, input, ...}]}), safe to serialise
    whatever the refused input was (NaN, 1e400, lone surrogates)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": json_safe(jsonable_encoder(exc.errors()))}, status_code=422)


async def service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_payload(exc), status_code=exc.status)
    return render(request, "pages/error.html",
                  {"status": exc.status, "title": _TITLES.get(exc.status, "Erreur"),
                   "message": exc.message}, status_code=exc.status)


_TITLES = {403: "Accès refusé", 404: "Page introuvable", 409: "Modification impossible",
           422: "Données invalides", 503: "Service indisponible"}


async def out_of_range_handler(request: Request, exc: Exception) -> Response:
    """Last line of defence: a value the database cannot store (a NUL byte on PostgreSQL, an
    integer beyond its columns) that escaped the checks at the boundary is the client's
    error, not the server's. The request's session is rolled back by its dependency."""
    log.warning("value refused by the database on %s %s: %s", request.method,
                request.url.path, type(exc).__name__)
    return await service_error_handler(request, InvalidValue())


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(DataError, out_of_range_handler)
    app.add_exception_handler(OverflowError, out_of_range_handler)
