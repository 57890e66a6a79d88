"""Database tables (SQLModel). Schema changes go through Alembic (`migrations/`).

Datetimes are timezone-aware UTC everywhere (`utcnow()`); JSON columns are JSONB on
PostgreSQL. Mutations inside `answers` / `answer_meta` are tracked at the top level only
(`assessment.answers[qid] = v` is seen; changing a nested value in place is not: reassign).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, event, text
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, json_type
from app.permissions import Role

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ApiToken",
    "Assessment",
    "AssessmentDomainScore",
    "AssessmentStatus",
    "AuditEvent",
    "AuthSession",
    "DirectorStructure",
    "LoginAttempt",
    "PasswordResetToken",
    "Role",
    "Structure",
    "User",
    "utcnow",
]

# Stable constraint names, so batch migrations on SQLite can find them again.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when(*, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class AssessmentStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


ALLOWED_TRANSITIONS: dict[AssessmentStatus, frozenset[AssessmentStatus]] = {
    AssessmentStatus.draft: frozenset({AssessmentStatus.submitted}),
    AssessmentStatus.submitted: frozenset(),
}


class Structure(SQLModel, table=True):
    """An ESMS (FINESS ET / établissement géographique)."""

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
    created_at: datetime = _created()
    updated_at: datetime = _created()


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)  # always lower-case (see the hook below)
    name: str = ""
    password_hash: str
    role: str  # a Role value
    region: str | None = None  # ars, committee (None = national committee)
    active: bool = True
    created_at: datetime = _created()
    updated_at: datetime = _created()


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _lower_email(_mapper: Mapper[User], _conn: Any, user: User) -> None:
    user.email = user.email.strip().lower()


class DirectorStructure(SQLModel, table=True):
    """A director (or delegate) account linked to a structure it may fill in."""

    __tablename__ = "director_structure"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    structure_id: int = Field(
        foreign_key="structure.id", primary_key=True, ondelete="CASCADE", index=True
    )
    created_at: datetime = _created()


class Assessment(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_in("status", AssessmentStatus), name="status"),
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
    created_at: datetime = _created()
    updated_at: datetime = _created()
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_at: datetime | None = _when()
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


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    action: str = Field(index=True)  # login, login_failed, submit, export, permission_denied...
    object_type: str | None = None
    object_id: str | None = None
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(json_type(), nullable=False)
    )
    ip: str | None = None


class AuthSession(SQLModel, table=True):
    """A server-side login session; `id` is the sha256 hex of the cookie's random token."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)  # absolute limit
    revoked_at: datetime | None = _when()
    csrf_token: str
    user_agent: str | None = None


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = _created()
    last_used_at: datetime | None = _when()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = _when()


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _when()


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)  # "email:x@y" or "ip:1.2.3.4"
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    success: bool = False
