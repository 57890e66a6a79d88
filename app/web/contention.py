"""Lock contention is not a bug: a request that could not get the database's write lock
(SQLite `database is locked` past the busy timeout, PostgreSQL serialization failure,
deadlock or lock timeout, no free connection in the pool) answers 503 with Retry-After,
which clients retry (autosave.js does). Any other database error stays a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from psycopg_pool import PoolTimeout as EventLoopPoolTimeout
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import Receive, Scope, Send

from app.db import is_contention
from app.web.templating import is_htmx, render

log = logging.getLogger("palier.db")

RETRY_AFTER_SECONDS = 2
BUSY_MESSAGE = (
    "Le service est momentanément très sollicité et n’a pas pu enregistrer ou lire vos "
    "données. Rien n’a été perdu : réessayez dans quelques secondes."
)


async def contention_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, (PoolTimeout, EventLoopPoolTimeout)) and not is_contention(exc):
        raise exc  # a real error: the server error page (500), logged
    log.warning("database busy on %s %s: 503", request.method, request.url.path)
    return busy_response(request)


def busy_response(request: Request) -> Response:
    """503 + Retry-After: JSON for the API, an alert for htmx, else the error page. Also for
    a write that kept losing its compare-and-swap race (autosave)."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": BUSY_MESSAGE}, status_code=503, headers=headers)
    if is_htmx(request):
        return HTMLResponse(
            '<div class="fr-alert fr-alert--warning fr-alert--sm" role="alert">'
            f"<p>{BUSY_MESSAGE}</p></div>", status_code=503, headers=headers)
    return render(request, "pages/error.html",
                  {"status": 503, "title": "Service momentanément indisponible",
                   "message": BUSY_MESSAGE}, status_code=503, headers=headers)


async def busy_response_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """busy_response for a request no route has seen yet (app.web.lanes)."""
    request = Request(scope, receive)
    await busy_response(request)(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, contention_handler)
    app.add_exception_handler(PoolTimeout, contention_handler)  # every connection busy
    app.add_exception_handler(EventLoopPoolTimeout, contention_handler)  # the asyncio pool's
