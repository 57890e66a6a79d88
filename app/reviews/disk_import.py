"""Evidence files of older installs, kept on disk, moved into the file storage (the database).

Before files lived in the database (app/files.py), an evidence file was written to
`<evidence_dir>/<first two characters>/<stored name>` (`settings.evidence_dir`, default
var/evidence), its Evidence row naming it by `stored_name` with its sha256. `import_disk`
stores each such file under its key ("evidence/<stored name>"), checked against the row's
sha256; a file already stored is left alone, so running it again does nothing new. Files on
disk that no row names are only listed (`unknown`). `remove=True` deletes a disk file once
the database holds it (after the commit).

Declaration PDFs and exports of older installs were caches (rebuilt on demand) and are not
imported.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from app import files
from app.reviews.models import Evidence, EvidenceKind
from app.reviews.storage import STORED_NAME, key_of

log = logging.getLogger("palier.evidence")


@dataclass
class DiskImport:
    moved: list[str] = field(default_factory=list)  # stored names now in the database
    present: list[str] = field(default_factory=list)  # already in the database
    missing: list[str] = field(default_factory=list)  # named by a row, not on disk
    mismatched: list[str] = field(default_factory=list)  # on disk, not the row's sha256
    unknown: list[Path] = field(default_factory=list)  # on disk, named by no row
    removed: int = 0  # disk files deleted (remove=True)
    bytes_moved: int = 0


def disk_path(directory: Path, stored_name: str) -> Path:
    return directory / stored_name[:2] / stored_name


def import_disk(session: Session, directory: Path, *, remove: bool = False) -> DiskImport:
    """Store the evidence files found under `directory` (one commit per file)."""
    report = DiskImport()
    rows = session.exec(select(Evidence.stored_name, Evidence.content_type, Evidence.sha256)
                        .where(Evidence.kind == EvidenceKind.file.value,
                               col(Evidence.stored_name).is_not(None))
                        .order_by(col(Evidence.id))).all()
    named: set[str] = set()
    for stored_name, content_type, sha256 in rows:
        if stored_name is None or not STORED_NAME.fullmatch(stored_name):
            continue
        named.add(stored_name)
        path = disk_path(directory, stored_name)
        if files.exists(session, key_of(stored_name)):
            report.present.append(stored_name)
        elif not path.is_file():
            report.missing.append(stored_name)
            continue
        else:
            data = path.read_bytes()
            if sha256 and hashlib.sha256(data).hexdigest() != sha256:
                report.mismatched.append(stored_name)
                continue
            files.put(session, key_of(stored_name), data,
                      content_type or "application/octet-stream")
            session.commit()
            report.moved.append(stored_name)
            report.bytes_moved += len(data)
        if remove and path.is_file():
            path.unlink()
            report.removed += 1
    if directory.is_dir():
        report.unknown = sorted(p for p in directory.glob("??/*")
                                if p.is_file() and p.name not in named)
    log.info("evidence import from %s: %s moved, %s present, %s missing, %s mismatched",
             directory, len(report.moved), len(report.present), len(report.missing),
             len(report.mismatched))
    return report
