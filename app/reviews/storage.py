"""Safe storage of evidence files in the file storage (app/files.py: the database).

- Stored under a random name (`secrets.token_hex`, key "evidence/<name>"); the user's file
  name is kept for display and the download's file name only, never as a key or a path.
- Size limit (`MAX_BYTES`), an allow-list of types checked by extension AND content (magic
  bytes, or the archive's layout for office documents); the content type served is the
  allow-list's, never the browser's claim.
- The upload is checked in a private temporary file (0600, removed at once); the stored
  file joins the transaction that records its Evidence row (both or neither); files are only
  ever served as downloads (see app/routes/reviews.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from app import files
from app.errors import Unprocessable
from app.files import content_disposition

__all__ = ["ACCEPT", "ALLOWED", "MAX_BYTES", "MAX_LABEL", "EmptyFile", "EvidenceFileError",
           "FileContentMismatch", "FileTooLarge", "FileTypeNotAllowed", "StoredFile", "check",
           "content_disposition", "delete", "display_name", "extension", "key_of", "read",
           "store", "type_label"]

log = logging.getLogger("palier.evidence")

MAX_BYTES = 5 * 1024 * 1024
MAX_LABEL = "5 Mo"
CHUNK = 64 * 1024
HEAD = 2048  # bytes read for the magic-number checks
STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
MAX_FILENAME = 150


class EvidenceFileError(Unprocessable):
    message = "Ce fichier ne peut pas être joint."


class FileTooLarge(EvidenceFileError):
    status = 413
    message = f"Le fichier dépasse la taille maximale de {MAX_LABEL}."


class FileTypeNotAllowed(EvidenceFileError):
    status = 415
    message = ("Ce type de fichier n’est pas accepté. Formats acceptés : PDF, PNG, JPEG, "
               "ODT, ODS, DOCX, XLSX, TXT.")


class FileContentMismatch(EvidenceFileError):
    status = 415
    message = ("Le contenu du fichier ne correspond pas à son extension : le fichier est "
               "peut-être endommagé ou renommé. Enregistrez-le de nouveau dans son format "
               "d’origine puis réessayez.")


class EmptyFile(EvidenceFileError):
    message = "Le fichier est vide."


# ---- type checks ----------------------------------------------------------------------------


def _zip_names(path: Path) -> list[str] | None:
    """The member names of a ZIP archive (central directory only: nothing is extracted)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _odf(mimetype: str) -> Callable[[bytes, Path], bool]:
    def check(head: bytes, path: Path) -> bool:
        # ODF: a ZIP whose first member is an uncompressed "mimetype" holding the type.
        if not head.startswith(b"PK\x03\x04") or head[30:38] != b"mimetype":
            return False
        try:
            with zipfile.ZipFile(path) as zf:
                info = zf.getinfo("mimetype")
                if info.file_size > 200:
                    return False
                return zf.read(info).strip() == mimetype.encode()
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError):
            return False
    return check


def _ooxml(main_part: str) -> Callable[[bytes, Path], bool]:
    def check(head: bytes, path: Path) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        names = _zip_names(path)
        if names is None:
            return False
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            return False  # macros: not in a .docx/.xlsx
        return "[Content_Types].xml" in names and main_part in names
    return check


def _pdf(head: bytes, _path: Path) -> bool:
    return b"%PDF-" in head[:1024]


def _png(head: bytes, _path: Path) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _jpeg(head: bytes, _path: Path) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _text(_head: bytes, path: Path) -> bool:
    """Plain text: no NUL byte anywhere (binary files nearly always hold one)."""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            if b"\x00" in chunk:
                return False
    return True


@dataclass(frozen=True, slots=True)
class FileType:
    label: str
    content_type: str
    check: Callable[[bytes, Path], bool]


ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ALLOWED: dict[str, FileType] = {
    ".pdf": FileType("PDF", "application/pdf", _pdf),
    ".png": FileType("PNG", "image/png", _png),
    ".jpg": FileType("JPEG", "image/jpeg", _jpeg),
    ".jpeg": FileType("JPEG", "image/jpeg", _jpeg),
    ".odt": FileType("ODT", ODT, _odf(ODT)),
    ".ods": FileType("ODS", ODS, _odf(ODS)),
    ".docx": FileType("DOCX", DOCX, _ooxml("word/document.xml")),
    ".xlsx": FileType("XLSX", XLSX, _ooxml("xl/workbook.xml")),
    ".txt": FileType("TXT", "text/plain", _text),
}
ACCEPT = ",".join(sorted(ALLOWED))  # the file input's `accept` attribute


def type_label(content_type: str | None) -> str:
    """'application/pdf' -> 'PDF' (the allow-list's label; 'fichier' for anything else)."""
    base = (content_type or "").split(";", 1)[0].strip()
    return next((t.label for t in ALLOWED.values() if t.content_type == base), "fichier")


def _text_content_type(path: Path) -> str:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "text/plain; charset=windows-1252"
    return "text/plain; charset=utf-8"


# ---- names ----------------------------------------------------------------------------------


def display_name(filename: str | None) -> str:
    """The user's file name reduced to a harmless label: last path component only, no control
    characters, at most MAX_FILENAME characters (extension kept). "" when nothing is left."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if name in ("", "..", "."):
        return ""
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 10:
            name = stem[: MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name


def extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and ext else ""


def key_of(stored_name: str) -> str:
    """The file storage key of a stored evidence file; refuses anything but a name this
    module made."""
    if not STORED_NAME.fullmatch(stored_name):
        raise ValueError(f"not a stored evidence name: {stored_name!r}")
    return f"evidence/{stored_name}"


# ---- check / store / read / delete ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredFile:
    stored_name: str
    original_filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)


def check(source: BinaryIO, filename: str | None, max_bytes: int = MAX_BYTES) -> StoredFile:
    """Check an uploaded file and name it (nothing stored yet: `store`); raises an
    EvidenceFileError when it is too large, of a type not allowed, empty, or not what its
    extension says."""
    name = display_name(filename)
    ftype = ALLOWED.get(extension(name))
    if ftype is None:
        raise FileTypeNotAllowed()
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix="palier-evidence-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge()
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise EmptyFile()
        with tmp.open("rb") as f:
            head = f.read(HEAD)
        if not ftype.check(head, tmp):
            raise FileContentMismatch()
        content_type = _text_content_type(tmp) if ftype.content_type == "text/plain" \
            else ftype.content_type
        data = tmp.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
    return StoredFile(secrets.token_hex(16), name, content_type, size, digest.hexdigest(),
                      data)


def store(session: Session, checked: StoredFile) -> None:
    """Add the checked file to the session's transaction (the caller commits)."""
    files.put(session, key_of(checked.stored_name), checked.data, checked.content_type)


def read(session: Session, stored_name: str) -> bytes | None:
    return files.read(session, key_of(stored_name))


def delete(session: Session, stored_name: str | None) -> None:
    """Remove a stored file in the session's transaction (the caller commits)."""
    if stored_name:
        files.delete(session, key_of(stored_name))
