"""Accounts and access: login with rate limiting, the actor of a user; server-side sessions
(app/accounts/sessions.py), API tokens (api_tokens.py) and password reset (password_reset.py)
beside it. Everything lives in the database (no process memory), so several server
processes share it. Secret tokens are random (`secrets.token_urlsafe(32)`); only their
sha256 is stored. Functions that change data commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, func, text, update
from sqlmodel import Session, col, select

from app.accounts.api_tokens import (
    IssuedToken,
    issue_api_token,
    resolve_api_token,
    revoke_api_token,
)
from app.accounts.models import (
    DirectorStructure,
    LoginAttempt,
    User,
)
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.accounts.sessions import (
    TOUCH_INTERVAL,
    LiveSession,
    close_session,
    open_session,
    resolve_session,
    revoke_all,
    session_valid,
)
from app.accounts.tokens import new_token, token_hash
from app.audit import record, record_now
from app.config import Settings
from app.db import utcnow, write
from app.permissions import Actor, Role
from app.structures.models import Structure

__all__ = [
    "TOUCH_INTERVAL",
    "AuthError",
    "ExpiredResetToken",
    "InvalidCredentials",
    "InvalidResetToken",
    "IssuedToken",
    "LiveSession",
    "RateLimited",
    "WeakPassword",
    "actor_for_structure",
    "actor_of",
    "authenticate",
    "build_actor",
    "check_rate_limit",
    "close_session",
    "issue_api_token",
    "mark_succeeded",
    "normalize_email",
    "open_session",
    "reserve_attempt",
    "resolve_api_token",
    "resolve_session",
    "revoke_all",
    "revoke_api_token",
    "session_valid",
    "structure_finess",
]

log = logging.getLogger("palier.auth")


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


# Built once (read on every request of a director).
_DIRECTOR_STRUCTURES = select(DirectorStructure.structure_id).where(
    col(DirectorStructure.user_id) == bindparam("user_id")
)


def build_actor(session: Session, user: User) -> Actor:
    """The permissions Actor of a user (directors: the structures they are linked to)."""
    assert user.id is not None
    ids: Iterable[int] = ()
    if user.role == Role.director:
        ids = session.scalars(_DIRECTOR_STRUCTURES, {"user_id": user.id})
    return actor_of(user, ids)


def actor_of(user: User, linked: Iterable[int]) -> Actor:
    """The Actor of a user whose linked structures were read (`build_actor` reads them; only a
    director's count)."""
    assert user.id is not None
    ids = frozenset(linked) if user.role == Role.director else frozenset[int]()
    return Actor(
        id=user.id, role=Role(user.role), region=user.region, structure_ids=ids, active=user.active
    )


def actor_for_structure(user_id: int, role: str, region: str | None, active: bool,
                        structure_id: int | None, linked: bool) -> Actor:
    """The Actor of a user as far as one structure is concerned, from plain columns: as
    `build_actor`, but of the director's links only whether `structure_id` is one of them
    (`linked`), which is all a decision on that structure reads. For requests that read the
    user and the structure in one statement (the lean autosave)."""
    ids: frozenset[int] = frozenset()
    if role == Role.director and linked and structure_id is not None:
        ids = frozenset((structure_id,))
    return Actor(id=user_id, role=Role(role), region=region, structure_ids=ids, active=active)


def structure_finess(session: Session, actor: Actor) -> list[str]:
    """The FINESS numbers of the structures a director is linked to."""
    if not actor.structure_ids:
        return []
    query = select(Structure.finess).where(col(Structure.id).in_(actor.structure_ids))
    return sorted(session.exec(query).all())


def link_structures(session: Session, user_id: int, structures: Iterable[Structure]) -> None:
    """Link the director to those of `structures` not linked yet (the caller commits)."""
    linked = set(session.scalars(_DIRECTOR_STRUCTURES, {"user_id": user_id}))
    for s in structures:
        assert s.id is not None  # a stored structure
        if s.id not in linked:
            session.add(DirectorStructure(user_id=user_id, structure_id=s.id))
            linked.add(s.id)


# --- login and its rate limit ---------------------------------------------------------------


def _keys(email: str, ip: str | None) -> tuple[str, str]:
    # The e-mail is hashed: attempts on unknown addresses keep no address in clear.
    return f"email:{token_hash(normalize_email(email))}", f"ip:{ip or 'unknown'}"


def _failures(session: Session, key: str, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.key == key,
            col(LoginAttempt.at) >= since,
            col(LoginAttempt.success).is_(False),
        )
    )
    return int(session.exec(query).one())


def _lock_keys(session: Session, keys: tuple[str, ...]) -> None:
    """Serialise the check-and-record of attempts on these keys until the transaction ends.
    SQLite: the transaction is already a writer (BEGIN IMMEDIATE: one at a time).
    PostgreSQL: transaction-level advisory locks, taken in a fixed order (no deadlock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(keys):
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"palier.login:{key}"},
        )


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


def reserve_attempt(
    session: Session,
    settings: Settings,
    keys: tuple[str, str],
    ip: str | None,
    *,
    user_id: int | None = None,
    what: str = "login_failed",
) -> list[int] | None:
    """In the caller's write transaction, under the keys' lock: None when over the limit
    (audited as `what`), else record this attempt as failed *before* the secret is checked
    and return its rows' ids (`mark_succeeded` afterwards if it is right). So concurrent
    attempts never check more secrets than the limit allows. `keys`: (the account's key,
    limited per e-mail; the client's "ip:" key, limited per address)."""
    account_key, ip_key = keys
    _lock_keys(session, keys)
    if _rate_limited(session, settings, account_key, ip_key):
        record(
            session,
            user_id,
            what,
            "user" if user_id else None,
            user_id,
            {"reason": "rate_limited"},
            ip=ip,
        )
        return None
    now = utcnow()
    # Attempts older than the window count for nothing: forget them.
    session.exec(
        delete(LoginAttempt).where(
            col(LoginAttempt.at) < now - timedelta(minutes=settings.login_window_minutes)
        )
    )
    rows = [LoginAttempt(key=key, at=now, success=False) for key in keys]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows if row.id is not None]


def mark_succeeded(session: Session, attempt_ids: list[int]) -> None:
    session.exec(
        update(LoginAttempt).where(col(LoginAttempt.id).in_(attempt_ids)).values(success=True)
    )


def authenticate(
    session: Session, settings: Settings, email: str, password: str, ip: str | None = None
) -> User:
    """The active user with this e-mail and password, or InvalidCredentials / RateLimited.

    Failures are counted per e-mail and per client address; beyond the limits the password
    is not even checked. The check and the recording of the attempt are one write
    transaction under a lock (`reserve_attempt`), so concurrent attempts cannot overrun
    the limit. Each outcome is audited (login_failed here; `login` comes with the session
    or token). Rehashes a password stored with outdated parameters.
    """
    email = normalize_email(email)
    keys = _keys(email, ip)
    attempt_ids = write(session, lambda s: reserve_attempt(s, settings, keys, ip))
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
        record_now(session, user_id, "login_failed", "user", user_id, {"reason": reason}, ip=ip)
        raise InvalidCredentials()

    def succeed(s: Session) -> User:
        mark_succeeded(s, attempt_ids)
        found = s.get(User, user_id)
        assert found is not None
        if new_hash is not None:
            found.password_hash = new_hash
            found.updated_at = utcnow()
            s.add(found)
        return found

    return write(session, succeed)


# --- browser sessions -----------------------------------------------------------------------
