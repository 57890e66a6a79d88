"""Tables of assessments: the assessment (draft or submitted, answers, result snapshot) and
its domain scores (the columns SQL aggregates). Lifecycle: `ALLOWED_TRANSITIONS`.

JSON columns are JSONB on PostgreSQL. Mutations inside `answers` / `answer_meta` are tracked
at the top level only (`assessment.answers[qid] = v` is seen; changing a nested value in place
is not: reassign).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, text
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field, SQLModel

from app.db import created_field, in_values, json_type, when_field

__all__ = ["ALLOWED_TRANSITIONS", "Assessment", "AssessmentDomainScore", "AssessmentStatus"]


class AssessmentStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


ALLOWED_TRANSITIONS: dict[AssessmentStatus, frozenset[AssessmentStatus]] = {
    AssessmentStatus.draft: frozenset({AssessmentStatus.submitted}),
    AssessmentStatus.submitted: frozenset(),
}


class Assessment(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(in_values("status", AssessmentStatus), name="status"),
        # At most one draft per structure.
        Index(
            "uq_assessment_one_draft",
            "structure_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    questionnaire_id: str
    questionnaire_version: str
    status: str = AssessmentStatus.draft.value
    # question id -> value
    answers: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(MutableDict.as_mutable(json_type()), nullable=False),
    )
    # question id -> {"by": user id, "at": ISO datetime, "revision": int}
    answer_meta: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(MutableDict.as_mutable(json_type()), nullable=False),
    )
    version: int = 0  # optimistic concurrency counter, +1 on every save
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_at: datetime | None = when_field()
    # Snapshot of the scoring Result at submission, plus columns SQL can aggregate.
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(json_type()))
    tier_id: str | None = None
    tier_level: int | None = Field(default=None, index=True)
    global_score: float | None = None
    complete: bool = False


class AssessmentDomainScore(SQLModel, table=True):
    __tablename__ = "assessment_domain_score"

    assessment_id: int = Field(foreign_key="assessment.id", primary_key=True, ondelete="CASCADE")
    domain_id: str = Field(primary_key=True, index=True)
    score: float | None = None
    earned: float
    max: float
