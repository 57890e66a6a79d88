"""The declaration PDF (WeasyPrint): the result and every answer, from the print template.

A submitted assessment never changes, so its PDF is built once and kept in the file storage
(app/files.py, key "pdf/<id>-<version>-<digest>.pdf": assessment id, version and a digest
of its submission time, so a re-used id can never serve another assessment's file). On the
job queue, submitting defers the job "declaration_pdf" that builds it ahead of the first
download. Drafts are rendered on each request and never cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app import files, jobs
from app.accounts.auth import build_actor
from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentStatus
from app.config import Settings
from app.db import write

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
PRINT_CSS = STATIC / "css" / "director-print.css"


def cache_key(a: Assessment) -> str | None:
    """The file storage key of a submitted assessment's PDF (None for a draft)."""
    if a.status != AssessmentStatus.submitted or a.id is None:
        return None
    stamp = a.submitted_at.isoformat() if a.submitted_at else ""
    digest = hashlib.sha256(f"{a.id}|{a.structure_id}|{stamp}".encode()).hexdigest()[:12]
    return f"pdf/{a.id}-{a.version}-{digest}.pdf"


def _check_static(url: str) -> None:
    """Only local files under static/ (the print CSS and its fonts): no network, no other
    file, whatever the rendered content says."""
    if url.startswith("file://"):
        path = Path(url[len("file://"):].split("?")[0]).resolve()
        if path.is_relative_to(STATIC.resolve()):
            return
    raise ValueError(f"ressource refusée dans le PDF : {url}")


def _url_fetcher() -> Any:
    """WeasyPrint's fetcher restricted by `_check_static` (class API from WeasyPrint 68,
    function API before)."""
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):
        class StaticOnly(urls.URLFetcher):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> Any:
                _check_static(url)
                return super().fetch(url, headers)

        return StaticOnly(allowed_protocols=("file",))

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - old API
        _check_static(url)
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch


def html_to_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()  # needed for the @font-face rules (Marianne)
    fetcher = _url_fetcher()
    document = HTML(string=html, base_url=str(STATIC) + "/", url_fetcher=fetcher)
    css = CSS(filename=str(PRINT_CSS), url_fetcher=fetcher, font_config=fonts)
    pdf = document.write_pdf(stylesheets=[css], font_config=fonts)
    assert pdf is not None
    return bytes(pdf)


def declaration_pdf(session: Session, a: Assessment,
                    render_html: Callable[[], str]) -> tuple[bytes, bool]:
    """(pdf bytes, served from the storage). `render_html` builds the print page when
    needed; a submitted assessment's PDF is stored (its own committed write)."""
    key = cache_key(a)
    if key is not None and (stored := files.read(session, key)) is not None:
        return stored, True
    pdf = html_to_pdf(render_html())
    if key is not None:
        write(session, lambda s: files.put(s, key, pdf, "application/pdf"))
    return pdf, False


def prebuild(settings: Settings, a: Assessment, user_id: int) -> None:
    """On the job queue, have a worker build a submitted assessment's PDF now (inline, the
    first download builds it)."""
    if jobs.runner(settings) == "queue" and a.id is not None:
        jobs.defer(settings, "declaration_pdf", assessment_id=a.id, user_id=user_id)


@jobs.register("declaration_pdf")
def declaration_pdf_job(ctx: jobs.JobContext, assessment_id: int, user_id: int) -> None:
    """Build and store a submitted assessment's PDF ahead of its first download."""
    with ctx.sessions() as session:
        a = session.get(Assessment, assessment_id)
        user = session.get(User, user_id)
        if a is None or user is None or cache_key(a) is None:
            return
        actor = build_actor(session, user)
        render = jobs.RENDERERS["declaration_html"]
        declaration_pdf(session, a, lambda: render(session, ctx.registry, actor, a))
