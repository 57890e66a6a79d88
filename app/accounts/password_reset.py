"""Password reset: one-time links (self-service or sent by an admin), setting a new password."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts.auth import ExpiredResetToken, InvalidResetToken, WeakPassword, normalize_email
from app.accounts.models import (
    PasswordResetToken,
    User,
)
from app.accounts.passwords import hash_password, password_problems
from app.accounts.sessions import revoke_all
from app.accounts.token_rows import row_with_active_user
from app.accounts.tokens import new_token, token_hash
from app.audit import record
from app.config import Settings
from app.db import begin_write, utcnow
from app.email import send_email

# Self-service reset e-mails per account within the login window (anti-spam).
MAX_RESET_EMAILS = 3


def reset_url(settings: Settings, raw: str) -> str:
    # From the configured base URL, never from the request's Host header (link poisoning).
    return f"{settings.public_url}/reinitialiser/{raw}"


def create_reset_token(session: Session, settings: Settings, user: User) -> str:
    """A new one-time reset token for `user` (no commit); returns the raw token."""
    assert user.id is not None
    now = utcnow()
    raw = new_token()
    session.add(PasswordResetToken(
        token_hash=token_hash(raw), user_id=user.id, created_at=now,
        expires_at=now + timedelta(hours=settings.password_reset_hours)))
    return raw


def send_reset_email(settings: Settings, user: User, raw: str, *, by_admin: bool) -> None:
    hours = settings.password_reset_hours
    intro = (
        "Un administrateur de Palier vous invite à choisir un mot de passe."
        if by_admin else
        "Vous avez demandé à réinitialiser votre mot de passe Palier."
    )
    body = (
        f"Bonjour,\n\n{intro}\n\nOuvrez ce lien pour choisir un nouveau mot de passe "
        f"(valable {hours} heure{'s' if hours > 1 else ''}, utilisable une seule fois) :\n\n"
        f"{reset_url(settings, raw)}\n\n"
        "Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de "
        "passe actuel reste valable.\n\n-- \nPalier\n"
    )
    send_email(settings, user.email, "Palier : choisir un nouveau mot de passe", body)


def request_password_reset(session: Session, settings: Settings, email: str,
                           ip: str | None = None) -> None:
    """Self-service: e-mail a reset link if an active account has this e-mail. Says nothing
    either way (the caller shows the same message), and sends at most MAX_RESET_EMAILS per
    account per login window."""
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None or not user.active:
        record(session, None, "password_reset_requested", details={"known": False}, ip=ip)
        session.commit()
        return
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    recent = session.exec(select(func.count()).select_from(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, col(PasswordResetToken.created_at) >= since
    )).one()
    if recent >= MAX_RESET_EMAILS:
        record(session, user, "password_reset_requested", "user", user.id,
               {"sent": False, "reason": "too_many"}, ip=ip)
        session.commit()
        return
    raw = create_reset_token(session, settings, user)
    record(session, user, "password_reset_requested", "user", user.id, {"sent": True}, ip=ip)
    session.commit()
    send_reset_email(settings, user, raw, by_admin=False)


def check_reset_token(session: Session, raw: str) -> tuple[PasswordResetToken, User]:
    """The unused, unexpired token and its active user; else (Expired)InvalidResetToken."""
    row = row_with_active_user(session, PasswordResetToken, PasswordResetToken.token_hash, raw)
    if row is None:
        raise InvalidResetToken()
    token, user = row
    if token.used_at is not None:
        raise InvalidResetToken()
    if utcnow() >= token.expires_at:
        raise ExpiredResetToken()
    return token, user


def reset_password(session: Session, raw: str, password: str, ip: str | None = None) -> User:
    """Set a new password with a reset token: the token is used up, and the user's sessions,
    API tokens and other reset links are revoked."""
    check_reset_token(session, raw)
    problems = password_problems(password)
    if problems:
        raise WeakPassword(problems)
    session.commit()  # no transaction (nor SQLite lock) held while argon2 runs
    new_hash = hash_password(password)
    begin_write(session)
    token, user = check_reset_token(session, raw)  # again: it may have been used meanwhile
    assert user.id is not None
    now = utcnow()
    token.used_at = now
    user.password_hash = new_hash
    user.updated_at = now
    session.add_all([token, user])
    revoke_all(session, user.id)
    record(session, user, "password_reset", "user", user.id, ip=ip)
    session.commit()
    return user
