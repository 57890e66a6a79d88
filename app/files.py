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
from datetime import datetime

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
