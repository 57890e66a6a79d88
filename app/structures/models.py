"""Tables of structures: the structure (ESMS, FINESS ET), imports of FINESS files and the
corrections an admin made by hand.

    Structure            an ESMS (FINESS ET / établissement géographique)
    ImportJob            one import (CLI or upload page): options, progress, counts, report
    StructureCorrection  a field an admin corrected by hand, kept by later imports
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, event
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from app.db import created_field, in_values, json_type, when_field
from app.search_text import joined, search_field, search_index

__all__ = [
    "CORRECTABLE_FIELDS",
    "ImportJob",
    "ImportStatus",
    "Structure",
    "StructureCorrection",
]


class Structure(SQLModel, table=True):
    """An ESMS (FINESS ET / établissement géographique). `search`: name and commune
    normalised (app/search_text.py), written with the row."""

    __table_args__ = (search_index("structure"),)

    id: int | None = Field(default=None, primary_key=True)
    finess: str = Field(max_length=9, unique=True, index=True)
    finess_ej: str | None = Field(default=None, max_length=9, index=True)
    name: str
    category_code: str  # FINESS categetab, e.g. "500"
    category_label: str
    department: str = Field(index=True)  # INSEE code: "01".."95", "2A", "2B", "971".."976"
    region: str = Field(index=True)  # INSEE region code, e.g. "84"
    city: str | None = None
    capacity: int | None = None
    closed: bool = False
    search: str = search_field("name", "city")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


@event.listens_for(Structure, "before_insert")
@event.listens_for(Structure, "before_update")
def _set_search(_mapper: Mapper[Structure], _conn: Any, structure: Structure) -> None:
    structure.search = joined(structure.name, structure.city)


class ImportStatus(StrEnum):
    pending = "pending"  # recorded, not started
    running = "running"
    done = "done"  # finished (whether or not it wrote anything: see `applied`)
    failed = "failed"  # unreadable file or unexpected error: nothing written


class ImportJob(SQLModel, table=True):
    """An import of a FINESS file: what was asked, how far it got, what it did.

    `report` (JSON, set at the end): {"encoding", "header", "lines": [[line, finess, status,
    message], ...] for every line (status imported|updated|unchanged|skipped|rejected;
    message: the reason or the warnings), "reasons": {reason: count}, "warnings": count,
    "closed": [finess...], "notes": [str...]}.
    """

    __tablename__ = "import_job"
    __table_args__ = (CheckConstraint(in_values("status", ImportStatus), name="status"),)

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
    created_at: datetime = created_field()
    started_at: datetime | None = when_field()
    finished_at: datetime | None = when_field()

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
    corrected_at: datetime = created_field()
