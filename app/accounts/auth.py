"""Accounts and access: login with rate limiting, server-side sessions, API tokens, password
reset, revocation. Everything lives in the database (no process memory), so several server
processes share it. Secret tokens are random (`secrets.token_urlsafe(32)`); only their
sha256 is stored. Functions that change data commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, delete, func, text, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.accounts.models import (
    ApiToken,
    AuthSession,
    DirectorStructure,
    LoginAttempt,
    PasswordResetToken,
    User,
)
from app.accounts.passwords import hash_password, needs_rehash, password_problems, verify_password
from app.accounts.tokens import new_token, token_hash
from app.audit import record
from app.config import Settings
from app.db import begin_write, utcnow, write
from app.email import send_email
from app.permissions import Actor, Role
from app.structures.models import Structure

log = logging.getLogger("palier.auth")

# last_seen_at / last_used_at are written at most this often (limits writes per request).
TOUCH_INTERVAL = timedelta(minutes=1)
# Self-service reset e-mails per account within the login window (anti-spam).
MAX_RESET_EMAILS = 3


class AuthError(Exception):
    message = "Authentification impossible."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidCredentials(AuthError):
    message = "Adresse électronique ou mot de passe incorrect."


class RateLimited(AuthError):
    message = (
        "Trop de tentatives de connexion ont échoué. Pour protéger ce compte, la connexion "
        "est suspendue : réessayez dans {minutes} minutes."
    )


class InvalidResetToken(AuthError):
    message = (
        "Ce lien de réinitialisation n’est pas valide ou a déjà été utilisé. "
        "Demandez un nouveau lien."
    )


class ExpiredResetToken(InvalidResetToken):
    message = "Ce lien de réinitialisation a expiré. Demandez un nouveau lien."


class WeakPassword(AuthError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def normalize_email(email: str) -> str:
    return email.strip().lower()


@cache
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown, so both cases take the same time.
    return hash_password(new_token())


def build_actor(session: Session, user: User) -> Actor:
    """The permissions Actor of a user (directors: the structures they are linked to)."""
    assert user.id is not None
    ids: frozenset[int] = frozenset()
    if user.role == Role.director:
        rows = session.exec(
            select(DirectorStructure.structure_id).where(DirectorStructure.user_id == user.id)
        ).all()
        ids = frozenset(rows)
    return Actor(id=user.id, role=Role(user.role), region=user.region, structure_ids=ids,
                 active=user.active)


def structure_finess(session: Session, actor: Actor) -> list[str]:
    """The FINESS numbers of the structures a director is linked to."""
    if not actor.structure_ids:
        return []
    query = select(Structure.finess).where(col(Structure.id).in_(actor.structure_ids))
    return sorted(session.exec(query).all())


# --- login and its rate limit ---------------------------------------------------------------


def _keys(email: str, ip: str | None) -> tuple[str, str]:
    # The e-mail is hashed: attempts on unknown addresses keep no address in clear.
    return f"email:{token_hash(normalize_email(email))}", f"ip:{ip or 'unknown'}"


def _failures(session: Session, key: str, since: datetime) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.key == key, col(LoginAttempt.at) >= since, col(LoginAttempt.success).is_(False)
    )
    return int(session.exec(query).one())


def _lock_keys(session: Session, keys: tuple[str, ...]) -> None:
    """Serialise the check-and-record of attempts on these keys until the transaction ends.
    SQLite: the transaction is already a writer (BEGIN IMMEDIATE: one at a time).
    PostgreSQL: transaction-level advisory locks, taken in a fixed order (no deadlock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(keys):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                        {"key": f"palier.login:{key}"})


def _rate_limited(session: Session, settings: Settings, email_key: str, ip_key: str) -> bool:
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    return (
        _failures(session, email_key, since) >= settings.login_max_failures_per_email
        or _failures(session, ip_key, since) >= settings.login_max_failures_per_ip
    )


def check_rate_limit(session: Session, settings: Settings, email: str, ip: str | None) -> None:
    """Raise RateLimited when this e-mail or this address failed too often lately (a read:
    `authenticate` checks and records atomically)."""
    if _rate_limited(session, settings, *_keys(email, ip)):
        raise RateLimited(RateLimited.message.format(minutes=settings.login_window_minutes))


def _reserve_attempt(session: Session, settings: Settings, email: str,
                     ip: str | None) -> list[int] | None:
    """In the caller's write transaction, under the keys' lock: None when over the limit
    (audited), else record this attempt as failed *before* the password is checked and
    return its rows' ids (marked successful afterwards if the password is right). So
    concurrent attempts never check more passwords than the limit allows."""
    email_key, ip_key = _keys(email, ip)
    _lock_keys(session, (email_key, ip_key))
    if _rate_limited(session, settings, email_key, ip_key):
        record(session, None, "login_failed", details={"reason": "rate_limited"}, ip=ip)
        return None
    now = utcnow()
    # Attempts older than the window count for nothing: forget them.
    session.exec(delete(LoginAttempt).where(
        col(LoginAttempt.at) < now - timedelta(minutes=settings.login_window_minutes)))
    rows = [LoginAttempt(key=key, at=now, success=False) for key in (email_key, ip_key)]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows if row.id is not None]


def authenticate(session: Session, settings: Settings, email: str, password: str,
                 ip: str | None = None) -> User:
    """The active user with this e-mail and password, or InvalidCredentials / RateLimited.

    Failures are counted per e-mail and per client address; beyond the limits the password
    is not even checked. The check and the recording of the attempt are one write
    transaction under a lock (`_reserve_attempt`), so concurrent attempts cannot overrun
    the limit. Each outcome is audited (login_failed here; `login` comes with the session
    or token). Rehashes a password stored with outdated parameters.
    """
    email = normalize_email(email)
    attempt_ids = write(session, lambda s: _reserve_attempt(s, settings, email, ip))
    if attempt_ids is None:
        raise RateLimited(RateLimited.message.format(minutes=settings.login_window_minutes))
    user = session.exec(select(User).where(User.email == email)).first()
    user_id = user.id if user else None
    stored_hash = user.password_hash if user else _dummy_hash()
    active = bool(user and user.active)
    session.commit()  # no transaction (nor SQLite lock) held while argon2 runs
    valid = verify_password(password, stored_hash)
    new_hash = hash_password(password) if valid and needs_rehash(stored_hash) else None
    if user_id is None or not valid or not active:
        reason = "unknown_email" if user_id is None else ("inactive" if valid else "bad_password")
        write(session, lambda s: record(s, user_id, "login_failed", "user", user_id,
                                        {"reason": reason}, ip=ip))
        raise InvalidCredentials()

    def succeed(s: Session) -> User:
        s.exec(update(LoginAttempt).where(col(LoginAttempt.id).in_(attempt_ids))
               .values(success=True))
        found = s.get(User, user_id)
        assert found is not None
        if new_hash is not None:
            found.password_hash = new_hash
            found.updated_at = utcnow()
            s.add(found)
        return found

    return write(session, succeed)


# --- browser sessions -----------------------------------------------------------------------


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
    idle = timedelta(minutes=settings.session_idle_minutes)
    return (
        auth_session.revoked_at is None
        and now < auth_session.expires_at
        and now - auth_session.last_seen_at < idle
    )


def resolve_session(session: Session, settings: Settings,
                    raw: str) -> tuple[AuthSession, User] | None:
    """The live session and active user of a cookie token, or None (unknown, revoked,
    idle or past its absolute limit, inactive user). Refreshes `last_seen_at` at most once
    per TOUCH_INTERVAL."""
    now = utcnow()
    row = session.exec(
        select(AuthSession, User)
        .join(User, col(User.id) == AuthSession.user_id)
        .where(AuthSession.id == token_hash(raw))
    ).first()
    if row is None:
        return None
    auth_session, user = row
    if not user.active or not session_valid(auth_session, settings, now):
        return None
    if now - auth_session.last_seen_at >= TOUCH_INTERVAL:
        _touch(session, AuthSession, col(AuthSession.id) == auth_session.id,
               col(AuthSession.last_seen_at), now)
    return auth_session, user


def _touch(session: Session, table: type, where: ColumnElement[bool], column: Any,
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


# --- API tokens -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int  # seconds
    row: ApiToken


def issue_api_token(session: Session, settings: Settings, user: User,
                    ip: str | None = None) -> IssuedToken:
    assert user.id is not None
    now = utcnow()
    raw = new_token()
    lifetime = timedelta(days=settings.api_token_days)
    row = ApiToken(token_hash=token_hash(raw), user_id=user.id, created_at=now,
                   expires_at=now + lifetime)
    session.add(row)
    record(session, user, "login", "user", user.id, {"via": "api_token"}, ip=ip)
    session.commit()
    session.refresh(row)
    return IssuedToken(token=raw, expires_in=int(lifetime.total_seconds()), row=row)


def resolve_api_token(session: Session, raw: str) -> tuple[ApiToken, User] | None:
    now = utcnow()
    row = session.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(raw))
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or now >= token.expires_at or not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        _touch(session, ApiToken, col(ApiToken.id) == token.id, col(ApiToken.last_used_at), now)
    return token, user


def revoke_api_token(session: Session, raw: str, ip: str | None = None) -> bool:
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.add(token)
    record(session, token.user_id, "logout", "user", token.user_id, {"via": "api_token"}, ip=ip)
    session.commit()
    return True


# --- password reset -------------------------------------------------------------------------


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
    row = session.exec(
        select(PasswordResetToken, User)
        .join(User, col(User.id) == PasswordResetToken.user_id)
        .where(PasswordResetToken.token_hash == token_hash(raw))
    ).first()
    if row is None:
        raise InvalidResetToken()
    token, user = row
    if token.used_at is not None or not user.active:
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
