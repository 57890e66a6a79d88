"""Retention: delete what the personal-data page says is not kept.

- sessions: expired (absolute or idle limit) or revoked ones;
- API tokens and password-reset links: expired, revoked or used ones;
- login attempts: older than the rate-limit window;
- audit trail: events older than one year.
Run daily (`palier purge`, e.g. from cron); each run is itself audited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import Session, col

from app.accounts.models import ApiToken, AuthSession, LoginAttempt, PasswordResetToken
from app.audit import AuditEvent, record
from app.config import Settings
from app.db import begin_write, utcnow

AUDIT_RETENTION = timedelta(days=365)


@dataclass
class Purged:
    sessions: int
    api_tokens: int
    reset_links: int
    login_attempts: int
    audit_events: int


def purge(session: Session, settings: Settings, now: datetime | None = None) -> Purged:
    """Delete everything past its retention period, in one transaction."""
    now = now or utcnow()
    idle = now - timedelta(minutes=settings.session_idle_minutes)
    begin_write(session)

    def gone(stmt: object) -> int:
        return int(session.exec(stmt).rowcount)  # type: ignore[call-overload]

    counts = Purged(
        sessions=gone(delete(AuthSession).where(or_(
            col(AuthSession.expires_at) < now, col(AuthSession.last_seen_at) < idle,
            col(AuthSession.revoked_at).is_not(None)))),
        api_tokens=gone(delete(ApiToken).where(or_(
            col(ApiToken.expires_at) < now, col(ApiToken.revoked_at).is_not(None)))),
        reset_links=gone(delete(PasswordResetToken).where(or_(
            col(PasswordResetToken.expires_at) < now,
            col(PasswordResetToken.used_at).is_not(None)))),
        login_attempts=gone(delete(LoginAttempt).where(
            col(LoginAttempt.at) < now - timedelta(minutes=settings.login_window_minutes))),
        audit_events=gone(delete(AuditEvent).where(col(AuditEvent.at) < now - AUDIT_RETENTION)),
    )
    record(session, None, "purge", details=asdict(counts))
    session.commit()
    return counts
