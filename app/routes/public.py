"""Public pages: home, legal pages; the HTML error page for HTTP errors."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.questionnaires import RegistryDep
from app.web.assets import FAVICON
from app.web.templating import is_htmx, render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, registry: RegistryDep) -> Response:
    # The paliers of the questionnaire in service, when there is exactly one.
    ids = registry.ids()
    current = registry.latest(ids[0]) if len(ids) == 1 else None
    tiers = list(current.tiers) if current is not None else []
    return render(request, "pages/home.html", {"tiers": tiers})


@router.get("/accessibilite", response_class=HTMLResponse)
def accessibilite(request: Request) -> Response:
    return render(request, "pages/accessibilite.html")


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """The icon browsers ask for at the root (pages link the DSFR's versioned icons)."""
    return FileResponse(FAVICON, media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/mentions-legales", response_class=HTMLResponse)
def mentions_legales(request: Request) -> Response:
    return render(request, "pages/mentions_legales.html")


@router.get("/donnees-personnelles", response_class=HTMLResponse)
def donnees_personnelles(request: Request) -> Response:
    return render(request, "pages/donnees_personnelles.html")


def wants_html(request: Request) -> bool:
    """HTML error pages for browser pages; JSON stays for /api and non-HTML clients."""
    if request.url.path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or is_htmx(request)


async def http_error_page(request: Request, exc: Exception) -> Response:
    """Exception handler for HTTPException: the French error page for browsers."""
    assert isinstance(exc, StarletteHTTPException)
    if not wants_html(request):
        return await http_exception_handler(request, exc)
    context = {"status": exc.status_code}
    return render(
        request, "pages/error.html", context, status_code=exc.status_code, headers=exc.headers
    )
