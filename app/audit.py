"""The audit trail: who did what to which object, when. `record` adds, the caller commits;
`record_now` writes the event at once through the write path (`app.db.write`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.db import write
from app.models import AuditEvent, User
from app.permissions import Actor


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


def record_now(
    session: Session,
    who: Actor | User | int | None,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Write an AuditEvent now, in a short write transaction of its own (retried on lock
    contention): for events of read-only requests (refusals, exports). Commits whatever
    the session held before."""
    write(session, lambda s: record(s, who, action, object_type, object_id, details, ip))
