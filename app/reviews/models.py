"""Tables of the review package (migration 0004_reviews_evidence).

Every review is kept (the history); an assessment's review status is its latest review, by id.
Evidence is a file or a note attached by a director to one answer of a draft; it stays with the
assessment once submitted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.db import created_field, in_values, json_type


class ReviewStatus(StrEnum):
    validee = "validee"
    a_revoir = "a_revoir"


REVIEW_LABELS: dict[str, str] = {
    ReviewStatus.validee.value: "Validée",
    ReviewStatus.a_revoir.value: "À revoir",
}


class EvidenceKind(StrEnum):
    file = "file"
    note = "note"


class AssessmentReview(SQLModel, table=True):
    __tablename__ = "assessment_review"
    __table_args__ = (
        CheckConstraint(in_values("status", ReviewStatus), name="status"),
        # The latest review of each assessment: max(id) per assessment_id.
        Index("ix_assessment_review_assessment_id_id", "assessment_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", ondelete="CASCADE")
    status: str
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewer_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = created_field()
    # The questions an "à revoir" concerns (ids), shown next to them in the correction draft
    # (migration 0012).
    questions: list[str] | None = Field(default=None, sa_column=Column(json_type(),
                                                                       nullable=True))


class AssessmentMessage(SQLModel, table=True):
    """One message of the thread between a structure's directors and its region's ARS about
    a submitted assessment (migration 0012)."""

    __tablename__ = "assessment_message"
    __table_args__ = (Index("ix_assessment_message_assessment_id_id", "assessment_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author_role: str  # a Role value at the time of writing ("director" or "ars")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_field()


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(in_values("kind", EvidenceKind), name="kind"),
        Index("ix_evidence_assessment_id_question_id", "assessment_id", "question_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", ondelete="CASCADE")
    question_id: str
    kind: str
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    original_filename: str | None = None  # display only, never used as a path
    stored_name: str | None = Field(default=None, unique=True)  # random hex, see storage
    content_type: str | None = None  # from the allow-list, never the browser's claim
    size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = created_field()
