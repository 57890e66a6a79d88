"""Server-side sessions: open, resolve (idle and absolute limits), close, revoke all.
Secret tokens are random; only their sha256 is stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Text, bindparam, cast, delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.accounts.models import (
    ApiToken,
    AuthSession,
    DirectorStructure,
    PasswordResetToken,
    User,
)
from app.accounts.tokens import new_token, token_hash
from app.audit import record
from app.config import Settings
from app.db import utcnow, write

log = logging.getLogger("palier.auth")

# last_seen_at / last_used_at are written at most this often (limits writes per request).
TOUCH_INTERVAL = timedelta(minutes=1)


def open_session(session: Session, settings: Settings, user: User, *,
                 user_agent: str | None = None, ip: str | None = None,
                 replaces: str | None = None) -> tuple[str, AuthSession]:
    """A new session for `user` (always a new id); returns the raw cookie token.

    `replaces`: the raw token of the session the browser had before, revoked now.
    """
    assert user.id is not None
    now = utcnow()
    if replaces:
        _revoke_session_row(session, token_hash(replaces), now)
    # Sessions of this user that can no longer be used are dropped.
    session.exec(delete(AuthSession).where(
        col(AuthSession.user_id) == user.id,
        (col(AuthSession.expires_at) < now) | col(AuthSession.revoked_at).is_not(None)))
    raw = new_token()
    auth_session = AuthSession(
        id=token_hash(raw),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        csrf_token=new_token(),
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(auth_session)
    record(session, user, "login", "user", user.id, {"via": "session"}, ip=ip)
    session.commit()
    session.refresh(auth_session)
    return raw, auth_session


def session_valid(auth_session: AuthSession, settings: Settings, now: datetime) -> bool:
    return _valid(auth_session.revoked_at, auth_session.expires_at, auth_session.last_seen_at,
                  settings, now)


def _valid(revoked_at: datetime | None, expires_at: datetime, last_seen_at: datetime,
           settings: Settings, now: datetime) -> bool:
    idle = timedelta(minutes=settings.session_idle_minutes)
    return revoked_at is None and now < expires_at and now - last_seen_at < idle


# Built once (read on every request with a session cookie): the session and its user.
_SESSION_USER = (select(AuthSession, User).join(User, col(User.id) == AuthSession.user_id)
                 .where(col(AuthSession.id) == bindparam("id")))


def resolve_session(session: Session, settings: Settings,
                    raw: str) -> tuple[AuthSession, User] | None:
    """The live session and active user of a cookie token, or None (unknown, revoked,
    idle or past its absolute limit, inactive user). Refreshes `last_seen_at` at most once
    per TOUCH_INTERVAL."""
    now = utcnow()
    row = session.execute(_SESSION_USER, {"id": token_hash(raw)}).first()
    if row is None:
        return None
    auth_session, user = row
    if not user.active or not session_valid(auth_session, settings, now):
        return None
    if now - auth_session.last_seen_at >= TOUCH_INTERVAL:
        touch(session, AuthSession, col(AuthSession.id) == auth_session.id,
               col(AuthSession.last_seen_at), now)
    return auth_session, user


@dataclass(frozen=True)
class LiveSession:
    """A session found valid by `live_session_of`, with a detached copy of its active user
    and the structures the user is linked to (as a director)."""

    id: str
    csrf_token: str
    user: User
    structure_ids: frozenset[int]
    needs_touch: bool  # last_seen_at is TOUCH_INTERVAL old: `resolve_session` writes it


@cache
def live_session_query(dialect: str) -> Any:
    """The session (`:session_id`), its user's columns and linked structure ids ("1,5", NULL
    for none): one Core statement, built once per dialect (`live_session_of` reads its row)."""
    s, u, ds = AuthSession.__table__, User.__table__, DirectorStructure.__table__  # type: ignore[attr-defined]
    linked = (func.string_agg(cast(ds.c.structure_id, Text), ",") if dialect == "postgresql"
              else func.group_concat(ds.c.structure_id))
    ids = sa_select(linked).where(ds.c.user_id == u.c.id).correlate(u).scalar_subquery()
    return (sa_select(s.c.csrf_token, s.c.last_seen_at, s.c.expires_at, s.c.revoked_at,
                      ids.label("linked"), *u.c)
            .select_from(s.join(u, u.c.id == s.c.user_id))
            .where(s.c.id == bindparam("session_id")))


def live_session_of(data: Mapping[Any, Any], settings: Settings,
                    session_id: str) -> LiveSession | None:
    """The LiveSession of a row of `live_session_query`, or None when `resolve_session` would
    return None (revoked, idle or past its absolute limit, inactive user)."""
    # model_construct: no defaults or validators to run on columns just read (User() costs
    # ten times more)
    user = User.model_construct(**{name: data[name] for name in User.model_fields})
    now, seen = utcnow(), data["last_seen_at"]
    if not user.active or not _valid(data["revoked_at"], data["expires_at"], seen, settings,
                                     now):
        return None
    linked = frozenset(int(i) for i in str(data["linked"] or "").split(",") if i)
    return LiveSession(session_id, data["csrf_token"], user, linked,
                       now - seen >= TOUCH_INTERVAL)


def touch(session: Session, table: type, where: ColumnElement[bool], column: Any,
           now: datetime) -> None:
    """Best-effort timestamp update in its own short write transaction (`db.write`, one
    attempt): if the database stays busy, the request goes on (only the idle clock is a
    little behind)."""
    try:
        write(session, lambda s: s.exec(update(table).where(where).values({column: now})),
              attempts=1)
    except OperationalError:
        log.warning("could not record activity on %s (database busy)", table.__name__)


def _revoke_session_row(session: Session, session_id: str, now: datetime) -> None:
    session.exec(update(AuthSession).where(
        col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None)
    ).values(revoked_at=now))


def close_session(session: Session, raw: str, ip: str | None = None) -> None:
    """Logout: revoke the session of this cookie token (if it still exists)."""
    auth_session = session.get(AuthSession, token_hash(raw))
    if auth_session is None:
        return
    if auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        session.add(auth_session)
        record(session, auth_session.user_id, "logout", "user", auth_session.user_id, ip=ip)
    session.commit()


def revoke_all(session: Session, user_id: int, *, keep_session: str | None = None) -> None:
    """End every session, API token and unused reset link of a user (no commit)."""
    now = utcnow()
    sessions = update(AuthSession).where(
        col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
    if keep_session is not None:
        sessions = sessions.where(col(AuthSession.id) != keep_session)
    session.exec(sessions.values(revoked_at=now))
    session.exec(update(ApiToken).where(
        col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None)
    ).values(revoked_at=now))
    session.exec(update(PasswordResetToken).where(
        col(PasswordResetToken.user_id) == user_id, col(PasswordResetToken.used_at).is_(None)
    ).values(used_at=now))


