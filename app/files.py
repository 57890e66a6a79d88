"""File storage: evidence uploads, generated PDFs and exports, uploaded import files.

One interface (`put`, `get`, `read`, `delete`, `exists`), keyed by a path-like name
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
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import Column, LargeBinary, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col

from app.db import created_field

CHUNK = 1 << 20  # bytes read at once by a download


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
    existing = get(session, key)  # its data is not read
    if existing is not None:
        session.delete(existing)
        session.flush()
    blob = StoredFile(key=key, content_type=content_type, size=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), data=data)
    session.add(blob)
    session.flush()
    return blob


def get(session: Session, key: str) -> StoredFile | None:
    """The file's description, without its data (to stream it: `chunks`; to hold it whole:
    `read`, not `.data`, which would cost a second query)."""
    return session.scalars(select(StoredFile).options(defer(StoredFile.data))  # type: ignore[arg-type]
                           .where(col(StoredFile.key) == key)).first()


def read(session: Session, key: str) -> bytes | None:
    """The file's bytes, in one query (None: no such file)."""
    data = session.scalar(select(col(StoredFile.data)).where(col(StoredFile.key) == key))
    return bytes(data) if data is not None else None


def chunks(session: Session, key: str, size: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The `size` bytes of a stored file in slices of `chunk` bytes, each read from the
    database when it is consumed (a download never holds the whole file)."""
    data = col(StoredFile.data)
    for offset in range(0, size, chunk):
        part = session.scalar(select(func.substr(data, offset + 1, chunk))
                              .where(col(StoredFile.key) == key))
        if part is None:  # deleted meanwhile
            return
        yield bytes(part)


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
