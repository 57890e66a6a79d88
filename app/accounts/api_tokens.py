"""API tokens: issue (a login), resolve (bearer), revoke. Only their sha256 is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.accounts.models import (
    ApiToken,
    User,
)
from app.accounts.sessions import TOUCH_INTERVAL, touch
from app.accounts.tokens import new_token, token_hash
from app.audit import record
from app.config import Settings
from app.db import utcnow


class InvalidBearerToken(Exception):
    """No usable token has this hash (401: unknown, expired, revoked, user inactive)."""


class ReadOnlyToken(Exception):
    """A read-only personal access token on a state-changing request (403)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int  # seconds
    row: ApiToken


def issue_api_token(session: Session, settings: Settings, user: User,
                    ip: str | None = None, *, name: str | None = None, scope: str = "write",
                    days: int | None = None) -> IssuedToken:
    """A token for `user`: the password grant's (no name, `api_token_days`), or a personal
    access token (named, scoped, `days`; see app/accounts/tokens_pat.py)."""
    assert user.id is not None
    now = utcnow()
    raw = new_token()
    lifetime = timedelta(days=days or settings.api_token_days)
    row = ApiToken(token_hash=token_hash(raw), user_id=user.id, created_at=now,
                   expires_at=now + lifetime, name=name, scope=scope)
    session.add(row)
    if name is None:
        record(session, user, "login", "user", user.id, {"via": "api_token"}, ip=ip)
    else:
        session.flush()
        record(session, user, "pat_created", "api_token", row.id,
               {"name": name, "scope": scope, "days": lifetime.days}, ip=ip)
    session.commit()
    session.refresh(row)
    return IssuedToken(token=raw, expires_in=int(lifetime.total_seconds()), row=row)


# Built once (read on every API request): the token and its user.
_TOKEN_USER = (select(ApiToken, User).join(User, col(User.id) == ApiToken.user_id)
               .where(col(ApiToken.token_hash) == bindparam("hash")))


def resolve_api_token(session: Session, raw: str) -> tuple[ApiToken, User] | None:
    now = utcnow()
    row = session.execute(_TOKEN_USER, {"hash": token_hash(raw)}).first()
    if row is None:
        return None
    token, user = row
    if not token_usable(token.revoked_at, token.expires_at, user.active, now):
        return None
    touch_if_due(session, token.id, token.last_used_at, now)
    return token, user


def token_usable(revoked_at: datetime | None, expires_at: datetime, user_active: bool,
                 now: datetime) -> bool:
    """A token found by its hash lets its user in: not revoked, not expired, the user
    active."""
    return revoked_at is None and now < expires_at and user_active


def check_token(token: Any, now: datetime) -> None:
    """InvalidBearerToken unless a token row was found (not None) and is usable
    (`token_usable`, on its `revoked_at`, `expires_at` and its user's `active`)."""
    if token is None or not token_usable(token.revoked_at, token.expires_at, token.active,
                                         now):
        raise InvalidBearerToken()


def check_write_scope(scope: str) -> None:
    """ReadOnlyToken for a read-only token (the caller asks to change something)."""
    if scope == "read":
        raise ReadOnlyToken()


def touch_if_due(session: Session, token_id: int | None, last_used_at: datetime | None,
                 now: datetime) -> None:
    """Record the token's use (`last_used_at`), at most once per TOUCH_INTERVAL, in its own
    short write transaction (`sessions.touch`: it commits the session's current one)."""
    if touch_due(last_used_at, now):
        touch(session, ApiToken, col(ApiToken.id) == token_id, col(ApiToken.last_used_at), now)


def touch_due(last_used_at: datetime | None, now: datetime) -> bool:
    """A token's use is recorded at most once per TOUCH_INTERVAL."""
    return last_used_at is None or now - last_used_at >= TOUCH_INTERVAL


def revoke_api_token(session: Session, raw: str, ip: str | None = None) -> bool:
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.add(token)
    record(session, token.user_id, "logout", "user", token.user_id, {"via": "api_token"}, ip=ip)
    session.commit()
    return True

