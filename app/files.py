"""File storage: evidence uploads, generated PDFs and exports, uploaded import files.

One interface (`put`, `get`, `delete`, `exists`), keyed by a path-like name
("evidence/<name>", "pdf/<name>.pdf", "export/<id>.xlsx", "import/<id>.csv"). The storage
is the database (table `stored_file`): every web process and worker on every machine sees
the same files, and nothing is kept on a local disk another process would need. Files stay
small (evidence ≤ 5 Mo, a 40,000-row export a few Mo).

Writes join the caller's transaction (the caller commits): a file and the row that names it
are stored, or not, together.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import Column, LargeBinary, select
from sqlalchemy import delete as sql_delete
from sqlmodel import Field, Session, SQLModel, col

from app.db import created_field


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"

    key: str = Field(primary_key=True, max_length=255)
    content_type: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = created_field()


def put(session: Session, key: str, data: bytes, content_type: str) -> StoredFile:
    """Store `data` under `key` (replacing a file of the same key)."""
    existing = session.get(StoredFile, key)
    if existing is not None:
        session.delete(existing)
        session.flush()
    blob = StoredFile(key=key, content_type=content_type, size=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), data=data)
    session.add(blob)
    session.flush()
    return blob


def get(session: Session, key: str) -> StoredFile | None:
    return session.get(StoredFile, key)


def exists(session: Session, key: str) -> bool:
    return session.scalar(select(col(StoredFile.key)).where(col(StoredFile.key) == key)) \
        is not None


def delete(session: Session, key: str) -> None:
    session.execute(sql_delete(StoredFile).where(col(StoredFile.key) == key))


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", ascii_name)
    ascii_name = re.sub(r"\s+", " ", ascii_name).strip() or "fichier"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
