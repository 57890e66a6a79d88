"""Retention: delete what the personal-data page says is not kept.

- sessions: expired (absolute or idle limit) or revoked ones;
- API tokens and password-reset links: expired, revoked or used ones;
- login attempts: older than the rate-limit window;
- second factor: expired or used half-open logins, expired or revoked remembered devices;
- ProConnect: logins in progress past their expiry, expired or used link e-mails, identities
  attached to no account and not seen for UNATTACHED_IDENTITY_RETENTION;
- audit trail: events older than one year.
Run daily (`palier purge`, e.g. from cron); each run is itself audited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col

from app.accounts.mfa_models import LoginChallenge, TrustedDevice
from app.accounts.models import ApiToken, AuthSession, LoginAttempt, PasswordResetToken
from app.accounts.oidc_models import ExternalIdentity, OidcLinkToken, OidcLoginRequest
from app.audit import AuditEvent, record
from app.config import Settings
from app.db import begin_write, utcnow

AUDIT_RETENTION = timedelta(days=365)
UNATTACHED_IDENTITY_RETENTION = timedelta(days=30)


@dataclass
class Purged:
    sessions: int
    api_tokens: int
    reset_links: int
    login_attempts: int
    mfa_challenges: int
    trusted_devices: int
    oidc_login_requests: int
    oidc_link_tokens: int
    oidc_identities: int
    audit_events: int


def purge(session: Session, settings: Settings, now: datetime | None = None) -> Purged:
    """Delete everything past its retention period, in one transaction."""
    now = now or utcnow()
    idle = now - timedelta(minutes=settings.session_idle_minutes)
    begin_write(session)

    def gone(stmt: object) -> int:
        return int(session.exec(stmt).rowcount)  # type: ignore[call-overload]

    def expired_or(model: type, *ended: object) -> int:
        """Delete the rows of `model` past `expires_at`, or whose column in `ended` is set."""
        return gone(
            delete(model).where(
                or_(
                    col(model.expires_at) < now,  # type: ignore[attr-defined]
                    *(col(c).is_not(None) for c in ended),
                )
            )
        )

    last_seen = func.coalesce(ExternalIdentity.last_login_at, ExternalIdentity.created_at)
    counts = Purged(
        sessions=gone(
            delete(AuthSession).where(
                or_(
                    col(AuthSession.expires_at) < now,
                    col(AuthSession.last_seen_at) < idle,
                    col(AuthSession.revoked_at).is_not(None),
                )
            )
        ),
        api_tokens=expired_or(ApiToken, ApiToken.revoked_at),
        reset_links=expired_or(PasswordResetToken, PasswordResetToken.used_at),
        login_attempts=gone(
            delete(LoginAttempt).where(
                col(LoginAttempt.at) < now - timedelta(minutes=settings.login_window_minutes)
            )
        ),
        mfa_challenges=expired_or(LoginChallenge, LoginChallenge.used_at),
        trusted_devices=expired_or(TrustedDevice, TrustedDevice.revoked_at),
        oidc_login_requests=expired_or(OidcLoginRequest),
        oidc_link_tokens=expired_or(OidcLinkToken, OidcLinkToken.used_at),
        oidc_identities=gone(
            delete(ExternalIdentity).where(
                col(ExternalIdentity.user_id).is_(None),
                last_seen < now - UNATTACHED_IDENTITY_RETENTION,
            )
        ),
        audit_events=gone(delete(AuditEvent).where(col(AuditEvent.at) < now - AUDIT_RETENTION)),
    )
    record(session, None, "purge", details=asdict(counts))
    session.commit()
    return counts
