"""The audit trail: who did what to which object, when (table `audit_event`). `record` adds,
the caller commits; `record_now` writes the event at once through the write path
(`app.db.write`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel

from app.accounts.models import User
from app.db import UTCDateTime, json_type, utcnow, write
from app.permissions import Actor


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


_P = ParamSpec("_P")


def _user_id(who: Actor | User | int | None) -> int | None:
    if who is None or isinstance(who, int):
        return who
    return who.id


def record(
    session: Session,
    who: Actor | User | int | None,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Add an AuditEvent to the session (committed with the caller's transaction).

    `who` is the acting user (an Actor, a User, a user id) or None (anonymous, system).
    Actions in use: login, login_failed, logout, password_reset_requested, password_reset,
    user_created, user_deactivated, user_reactivated, permission_denied, draft_created,
    submit...
    """
    event = AuditEvent(
        user_id=_user_id(who),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or {},
        ip=ip,
    )
    session.add(event)
    return event


def _in_own_transaction(
    add: Callable[Concatenate[Session, _P], AuditEvent],
) -> Callable[Concatenate[Session, _P], None]:
    def now(session: Session, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        write(session, lambda s: add(s, *args, **kwargs))

    return now


record_now = _in_own_transaction(record)
"""`record`'s arguments, written now in a short write transaction of its own (retried on
lock contention): for events of read-only requests (refusals, exports). Commits whatever
the session held before."""
