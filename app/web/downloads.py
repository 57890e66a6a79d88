"""Responses serving a file of the file storage (app/files.py) as a download."""

from __future__ import annotations

from fastapi.responses import Response

from app.files import StoredFile, content_disposition


def stored_file_response(blob: StoredFile, filename: str,
                         headers: dict[str, str] | None = None) -> Response:
    return Response(blob.data, media_type=blob.content_type, headers={
        "Content-Disposition": content_disposition(filename), **(headers or {})})
