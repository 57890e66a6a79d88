"""Static files: versioned URLs, long caching, gzip.

`static_url("css/palier.css")` is `/static/css/palier.css?v=<hash of the file>`: a URL that
changes with the file, so the response to it is cached for a year (`immutable`). A URL
without `v=` (a font or an icon named inside a CSS file) is revalidated with its ETag
(`no-cache`: a 304 when unchanged). Text files are gzip-compressed when the browser accepts
it (DSFR's CSS: 710 KiB, about 100 KiB compressed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = ROOT / "static"
FAVICON = STATIC_DIR / "vendor" / "dsfr-1.15.3" / "favicon" / "favicon.ico"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"

_watch = False  # development: a file edited while the server runs gets a new hash


def configure(development: bool) -> None:
    global _watch
    _watch = development


@lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int) -> str:
    try:
        data = (STATIC_DIR / path).read_bytes()
    except OSError:  # a missing file: no version (the URL answers 404 anyway)
        return ""
    return hashlib.sha256(data).hexdigest()[:12]


def static_url(path: str) -> str:
    path = path.lstrip("/")
    mtime = 0
    if _watch:
        with contextlib.suppress(OSError):
            mtime = os.stat(STATIC_DIR / path).st_mtime_ns
    version = _digest(path, mtime)
    return f"/static/{path}?v={version}" if version else f"/static/{path}"


class CachedStaticFiles(StaticFiles):
    """Starlette's static files (ETag, Last-Modified, 304) with a Cache-Control header."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result,
                      scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
        return response


def static_app() -> ASGIApp:
    return GZipMiddleware(CachedStaticFiles(directory=STATIC_DIR), minimum_size=1024,
                          compresslevel=6)
