"""The declaration PDF (WeasyPrint): the result and every answer, from the print template.

A submitted assessment never changes, so its PDF is built once and cached on disk under
`<var>/pdf/` (beside the evidence folder: `settings.evidence_dir.parent / "pdf"`), named by
assessment id, version and a digest of its submission time (so a re-used id can never serve
another assessment's file). Drafts are rendered on each request and never cached.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.assessments.models import Assessment, AssessmentStatus
from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
PRINT_CSS = STATIC / "css" / "director-print.css"


def cache_dir(settings: Settings) -> Path:
    configured = getattr(settings, "pdf_dir", None)
    return Path(configured) if configured else Path(settings.evidence_dir).parent / "pdf"


def cache_path(settings: Settings, a: Assessment) -> Path | None:
    """Where the PDF of a submitted assessment lives (None for a draft)."""
    if a.status != AssessmentStatus.submitted or a.id is None:
        return None
    stamp = a.submitted_at.isoformat() if a.submitted_at else ""
    digest = hashlib.sha256(f"{a.id}|{a.structure_id}|{stamp}".encode()).hexdigest()[:12]
    return cache_dir(settings) / f"{a.id}-{a.version}-{digest}.pdf"


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


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def declaration_pdf(settings: Settings, a: Assessment,
                    render_html: Callable[[], str]) -> tuple[bytes, bool]:
    """(pdf bytes, served from cache). `render_html` builds the print page when needed."""
    path = cache_path(settings, a)
    if path is not None and path.is_file():
        return path.read_bytes(), True
    pdf = html_to_pdf(render_html())
    if path is not None:
        _write_atomically(path, pdf)
    return pdf, False
