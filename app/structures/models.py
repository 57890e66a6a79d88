"""Tables of the structures import and of the invitations (migration 0002).

    ImportJob            one import (CLI or upload page): options, progress, counts, report
    StructureCorrection  a field an admin corrected by hand, kept by later imports
    Invitation           a one-time link inviting a director (by e-mail) to structures
    InvitationStructure  the structures an invitation links the director to
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, json_type
from app.models import utcnow

__all__ = [
    "CORRECTABLE_FIELDS",
    "ImportJob",
    "ImportStatus",
    "Invitation",
    "InvitationStructure",
    "StructureCorrection",
]


class ImportStatus(StrEnum):
    pending = "pending"  # recorded, not started
    running = "running"
    done = "done"  # finished (whether or not it wrote anything: see `applied`)
    failed = "failed"  # unreadable file or unexpected error: nothing written


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when() -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


class ImportJob(SQLModel, table=True):
    """An import of a FINESS file: what was asked, how far it got, what it did.

    `report` (JSON, set at the end): {"encoding", "header", "lines": [[line, finess, status,
    message], ...] for every line (status imported|updated|unchanged|skipped|rejected;
    message: the reason or the warnings), "reasons": {reason: count}, "warnings": count,
    "closed": [finess...], "notes": [str...]}.
    """

    __tablename__ = "import_job"
    __table_args__ = (CheckConstraint(_in("status", ImportStatus), name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True,
                                ondelete="SET NULL")
    filename: str
    source: str = "etalab"  # the adapter
    status: str = ImportStatus.pending.value
    phase: str | None = None  # reading | writing, while running
    partial: bool = False  # import the valid lines of a file that has rejected ones
    region: str | None = None  # only lines of this region (others skipped)
    close_missing: bool = False  # full re-import of `region`: flag the absent ones closed
    total: int = 0  # lines in the file (header included)
    processed: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    closed: int = 0
    applied: bool = False  # changes were written
    error: str | None = None
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(json_type()))
    created_at: datetime = _created()
    started_at: datetime | None = _when()
    finished_at: datetime | None = _when()

    @property
    def progress(self) -> int:
        """Percentage of lines read (0..100)."""
        if self.status == ImportStatus.done:
            return 100
        return min(100, (100 * self.processed) // self.total) if self.total else 0


# Fields an admin may correct; the import keeps a corrected value (see StructureCorrection).
CORRECTABLE_FIELDS = ("category_code", "capacity", "department")


class StructureCorrection(SQLModel, table=True):
    """A value an admin set by hand. Later imports keep it instead of the file's value
    (category_code: its label too; department: its region too)."""

    __tablename__ = "structure_correction"

    structure_id: int = Field(foreign_key="structure.id", primary_key=True, ondelete="CASCADE")
    field: str = Field(primary_key=True)  # category_code | department (capacity: not imported)
    value: str
    corrected_by: int | None = Field(default=None, foreign_key="user_account.id",
                                     ondelete="SET NULL")
    corrected_at: datetime = _created()


class Invitation(SQLModel, table=True):
    """A one-time invitation: the link carries a random token; only its sha256 is stored."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True)  # lower-case
    token_hash: str = Field(unique=True, index=True, max_length=64)
    invited_by: int | None = Field(default=None, foreign_key="user_account.id",
                                   ondelete="SET NULL")
    region: str | None = Field(default=None, index=True)  # the inviting ARS's region
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _when()
    used_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    revoked_at: datetime | None = _when()


class InvitationStructure(SQLModel, table=True):
    __tablename__ = "invitation_structure"

    invitation_id: int = Field(foreign_key="invitation.id", primary_key=True, ondelete="CASCADE")
    structure_id: int = Field(foreign_key="structure.id", primary_key=True, ondelete="CASCADE",
                              index=True)
