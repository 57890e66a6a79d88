"""The second step of a password login and the devices that may skip it.

- A login challenge: the password was right, the code is still to come. Its random token
  lives in an HttpOnly cookie, its sha256 in `login_challenge`; it expires after
  `mfa_challenge_minutes`, is used once, and grants nothing but the code page (it is not
  a session: every other route sees an anonymous visitor).
- A remembered device: after a code, the browser may skip the second step for
  `mfa_remember_days` (30 at most). Its cookie holds `<random>.<hmac>` (signed with the
  secret key), the database the sha256 of the random part; revocable from the account
  page, and all revoked by an admin reset of the factor.
Functions that change data commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.accounts.mfa_models import LoginChallenge, TrustedDevice
from app.accounts.models import User
from app.accounts.token_rows import row_with_active_user
from app.accounts.tokens import new_token, sign, signed_value, token_hash
from app.audit import record
from app.config import Settings
from app.db import utcnow, write

MAX_REMEMBER_DAYS = 30
DEVICE_PURPOSE = "palier-device"  # keys the signature of remembered-device cookies


def open_challenge(session: Session, settings: Settings, user: User, next_path: str | None) -> str:
    """A new challenge for `user` (its older ones end); returns the raw cookie token."""

    def create(s: Session, user_id: int, hashed: str, now: datetime) -> None:
        s.exec(delete(LoginChallenge).where(col(LoginChallenge.user_id) == user_id))
        s.add(LoginChallenge(id=hashed, user_id=user_id, created_at=now,
                             expires_at=now + timedelta(minutes=settings.mfa_challenge_minutes),
                             next_path=next_path))

    return _write_new_token(session, user, create)


def _write_new_token(session: Session, user: User,
                     create: Callable[[Session, int, str, datetime], None]) -> str:
    """A new random token for `user`: `create(s, user_id, its hash, now)` stores it in one
    write; returns the raw token."""
    assert user.id is not None
    user_id = user.id
    raw = new_token()
    now = utcnow()
    write(session, lambda s: create(s, user_id, token_hash(raw), now))
    return raw


def resolve_challenge(session: Session, raw: str | None) -> tuple[LoginChallenge, User] | None:
    """The live challenge of a cookie and its active user, or None."""
    if not raw:
        return None
    row = row_with_active_user(session, LoginChallenge, LoginChallenge.id, raw)
    if row is None:
        return None
    challenge, user = row
    if challenge.used_at is not None or utcnow() >= challenge.expires_at:
        return None
    return challenge, user


def close_challenge(session: Session, raw: str) -> bool:
    """Mark the challenge used; False if it was already (two tabs: only one logs in)."""

    def use(s: Session) -> bool:
        result = s.exec(
            update(LoginChallenge)
            .where(col(LoginChallenge.id) == token_hash(raw), col(LoginChallenge.used_at).is_(None))
            .values(used_at=utcnow())
        )
        return bool(result.rowcount)

    return write(session, use)


# --- remembered devices ---------------------------------------------------------------------


def remember_days(settings: Settings) -> int:
    return max(0, min(settings.mfa_remember_days, MAX_REMEMBER_DAYS))


def remember_device(
    session: Session, settings: Settings, user: User, user_agent: str | None, ip: str | None = None
) -> str:
    """Remember this browser for `user`; returns the cookie value."""

    def create(s: Session, user_id: int, hashed: str, now: datetime) -> None:
        s.add(TrustedDevice(token_hash=hashed, user_id=user_id, created_at=now,
                            expires_at=now + timedelta(days=remember_days(settings)),
                            user_agent=(user_agent or "")[:300] or None))
        record(s, user_id, "mfa_device_remembered", "user", user_id, ip=ip)

    return sign(DEVICE_PURPOSE, settings.secret_key, _write_new_token(session, user, create))


def device_trusted(session: Session, settings: Settings, user_id: int, cookie: str | None) -> bool:
    """True when the cookie is a live remembered device of `user_id` (records its use)."""
    raw = signed_value(DEVICE_PURPOSE, settings.secret_key, cookie)
    if raw is None:
        return False
    device = session.exec(
        select(TrustedDevice).where(TrustedDevice.token_hash == token_hash(raw))
    ).first()
    now = utcnow()
    if (
        device is None
        or device.user_id != user_id
        or device.revoked_at is not None
        or now >= device.expires_at
    ):
        return False
    device_id = device.id
    write(
        session,
        lambda s: s.exec(
            update(TrustedDevice).where(col(TrustedDevice.id) == device_id).values(last_used_at=now)
        ),
    )
    return True


def list_devices(session: Session, user_id: int) -> list[TrustedDevice]:
    return list(
        session.exec(
            select(TrustedDevice)
            .where(
                TrustedDevice.user_id == user_id,
                col(TrustedDevice.revoked_at).is_(None),
                col(TrustedDevice.expires_at) > utcnow(),
            )
            .order_by(col(TrustedDevice.created_at).desc())
        ).all()
    )


def forget_device(
    session: Session, user_id: int, device_id: int | None, ip: str | None = None
) -> int:
    """Revoke one remembered device of `user_id` (device_id None: all); returns how many."""

    def revoke(s: Session) -> int:
        query = update(TrustedDevice).where(
            col(TrustedDevice.user_id) == user_id, col(TrustedDevice.revoked_at).is_(None)
        )
        if device_id is not None:
            query = query.where(col(TrustedDevice.id) == device_id)
        count = int(s.exec(query.values(revoked_at=utcnow())).rowcount)
        if count:
            record(
                s,
                user_id,
                "mfa_device_forgotten",
                "user",
                user_id,
                {"device": device_id, "count": count},
                ip=ip,
            )
        return count

    return write(session, revoke)
