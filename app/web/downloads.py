"""Responses serving a file of the file storage (app/files.py) as a download: streamed from
the database in slices (app.files.chunks), never held whole in memory."""

from __future__ import annotations

from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from app import files
from app.files import StoredFile, content_disposition


def stored_file_response(session: Session, blob: StoredFile, filename: str,
                         headers: dict[str, str] | None = None) -> Response:
    return StreamingResponse(files.chunks(session, blob.key, blob.size),
                             media_type=blob.content_type, headers={
                                 "Content-Disposition": content_disposition(filename),
                                 "Content-Length": str(blob.size), **(headers or {})})
