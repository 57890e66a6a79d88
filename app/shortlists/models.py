"""Tables of the shortlists area (migration 0005): saved shortlists, export jobs, and a cache
of the facts a ranking reads from each submitted assessment's stored result snapshot."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, event
from sqlmodel import Field, SQLModel

from app.assessments.models import Assessment
from app.db import created_field, json_type, when_field


class Shortlist(SQLModel, table=True):
    """A frozen shortlist: criteria, questionnaire versions, ranked rows with the values
    used, author, date and the hash of criteria + versions + rows."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    author_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    created_at: datetime = created_field()
    region: str | None = Field(default=None, index=True)  # None: national
    criteria: dict[str, Any] = Field(sa_column=Column(json_type(), nullable=False))
    questionnaire_versions: list[str] = Field(sa_column=Column(json_type(), nullable=False))
    # The canonical JSON text that was hashed, kept as it is (PostgreSQL `json`, not `jsonb`:
    # never searched, written once; migration 0016).
    rows: list[dict[str, Any]] = Field(sa_column=Column(JSON(), nullable=False))
    row_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    excluded: dict[str, int] = Field(sa_column=Column(json_type(), nullable=False))
    hash: str = Field(max_length=64, index=True)


@event.listens_for(Shortlist, "before_insert")
@event.listens_for(Shortlist, "before_update")
def _count_rows(_mapper: Any, _connection: Any, shortlist: Shortlist) -> None:
    """`row_count` follows `rows` whenever the ORM writes them (`service.create` writes
    both itself)."""
    if "rows" in shortlist.__dict__:  # loaded or set (not a deferred load)
        shortlist.row_count = len(shortlist.rows)


class ExportStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class ExportJob(SQLModel, table=True):
    """A background export: state and progress live here (never in process memory); the
    file is written under the exports folder (`var/exports/` by default)."""

    __tablename__ = "export_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # shortlist_xlsx | shortlist_pdf | region_csv | region_xlsx
    params: dict[str, Any] = Field(default_factory=dict,
                                   sa_column=Column(json_type(), nullable=False))
    status: str = ExportStatus.pending.value
    progress: float = 0.0  # 0..1
    rows_done: int = 0
    rows_total: int | None = None
    file_path: str | None = None  # relative to the exports folder
    filename: str | None = None  # offered to the browser
    created_by: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    finished_at: datetime | None = when_field()
    error: str | None = None


class AssessmentFacts(SQLModel, table=True):
    """What a ranking reads from a submitted assessment's result snapshot, extracted once
    (a submitted assessment never changes): unmet requirements of the palier above the
    placed one (None at the top palier) and the eligible funding programmes."""

    __tablename__ = "shortlist_assessment_facts"

    assessment_id: int = Field(foreign_key="assessment.id", primary_key=True,
                               ondelete="CASCADE")
    readiness: int | None = None
    funding: list[str] = Field(default_factory=list,
                               sa_column=Column(json_type(), nullable=False))


# Covering index for "latest submitted assessment per structure" (declared here so that the
# models match migration 0005).
Index("ix_assessment_latest_submitted", Assessment.__table__.c.status,  # type: ignore[attr-defined]
      Assessment.__table__.c.structure_id, Assessment.__table__.c.submitted_at,  # type: ignore[attr-defined]
      Assessment.__table__.c.id)  # type: ignore[attr-defined]


class ShortlistCandidate(SQLModel, table=True):
    """Read model of the shortlists (migration 0007): for each latest result
    (`latest_result`, one per open structure with a submission), the ranking facts of its
    stored result snapshot. Written with the dashboards' read model, at submission and by
    `palier dashboard refresh` (app.shortlists.readmodel); removed with its latest result.

    `funding` lists the eligible funding programmes as "|a|b|" (a programme p is in it when
    it contains "|p|"): filtered in SQL on every backend without JSON functions.
    `domain_scores` (migration 0014) is the result's domain scores {domain: score or null} as
    canonical JSON text (`ranking.canonical_json`), exactly as a frozen shortlist row writes
    them: a national shortlist copies it without reading 7 score rows per structure or
    writing 240,000 floats again. Text, not JSON: PostgreSQL's JSONB would rewrite it."""

    __tablename__ = "shortlist_candidate"

    structure_id: int = Field(sa_column=Column(
        Integer, ForeignKey("latest_result.structure_id", ondelete="CASCADE"),
        primary_key=True))
    assessment_id: int = Field(sa_column=Column(
        Integer, ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False))
    readiness: int | None = None  # unmet requirements of the palier above; None at the top
    funding: str = "|"
    domain_scores: str = Field(default="{}", sa_column=Column(Text, nullable=False,
                                                              server_default="{}"))


class NextStepText(SQLModel, table=True):
    """A distinct next step's texts (migration 0011): palier level, requirement label,
    proposed action, effort, funding programmes ("a|b", the result's order); `key` is the
    SHA-256 of these values (app.shortlists.next_steps)."""

    __tablename__ = "next_step_text"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    tier: int | None = None
    label: str | None = None
    title: str | None = None
    effort: str | None = None
    funding: str = ""


class AssessmentNextStep(SQLModel, table=True):
    """The next steps of a submitted assessment's result, in order (migration 0011)."""

    __tablename__ = "assessment_next_step"

    assessment_id: int = Field(sa_column=Column(
        Integer, ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True))
    position: int = Field(primary_key=True)
    text_id: int = Field(foreign_key="next_step_text.id")
    to_verify: bool = False
