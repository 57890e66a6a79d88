"""Second factor: TOTP (RFC 6238 through pyotp) with replay protection, its enrolment QR
code (SVG, drawn on the server by segno), one-time recovery codes (argon2-hashed), admin
reset. Code checks go through the login rate limiter (`auth.reserve_attempt`) under a key
of the account's own. Functions that change data commit."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.accounts.auth import AuthError, RateLimited, mark_succeeded, reserve_attempt
from app.accounts.mfa_models import RecoveryCode, TrustedDevice, UserTotp
from app.accounts.models import User
from app.accounts.passwords import hash_password, verify_password
from app.accounts.tokens import tokens_match
from app.audit import record, record_now
from app.config import Settings
from app.db import utcnow, write
from app.permissions import Actor, needs_second_factor

ISSUER = "Palier"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_LENGTH = 10


class CodeError(AuthError):
    message = "Code incorrect. Vérifiez l’heure de votre téléphone et saisissez le code affiché."


class CodeReplayed(CodeError):
    message = "Ce code a déjà été utilisé. Attendez le code suivant (30 secondes au plus)."


class AlreadyEnrolled(CodeError):
    message = "La double authentification est déjà activée pour ce compte."


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str  # otpauth:// URI, the content of the QR code


def privileged(user: User | Actor) -> bool:
    return needs_second_factor(user.role)


def enrolled(session: Session, user_id: int) -> bool:
    row = session.get(UserTotp, user_id)
    return row is not None and row.confirmed_at is not None


def second_factor_needed(session: Session, user: User) -> bool:
    """A password login needs a code: privileged roles always, others once enrolled."""
    assert user.id is not None
    return privileged(user) or enrolled(session, user.id)


def begin_enrolment(session: Session, user: User) -> Enrolment:
    """The pending secret of `user` (created once, so reloading the page keeps the QR code
    the phone may already have scanned). AlreadyEnrolled when confirmed."""
    assert user.id is not None
    row = session.get(UserTotp, user.id)
    if row is not None and row.confirmed_at is not None:
        raise AlreadyEnrolled()
    if row is None:
        user_id = user.id

        def create(s: Session) -> UserTotp:
            found = s.get(UserTotp, user_id)
            if found is None:
                found = UserTotp(user_id=user_id, secret=pyotp.random_base32(32))
                s.add(found)
            return found

        row = write(session, create)
    return Enrolment(
        row.secret, pyotp.TOTP(row.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    )


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG (no external image, no script)."""
    label = "Code QR à scanner avec votre application d’authentification"
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, title=label, light="#fff", svgclass="palier-qr", lineclass=None
    )
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def grouped(secret: str) -> str:
    """The secret as people type it: groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _digits(code: str) -> str:
    return re.sub(r"[\s-]", "", code)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (previous, current or next: clocks drift) whose code is `code`."""
    code = _digits(code)
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if tokens_match(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _limit_keys(user_id: int, ip: str | None) -> tuple[str, str]:
    return f"mfa:{user_id}", f"ip:{ip or 'unknown'}"


def _reserve(session: Session, settings: Settings, user_id: int, ip: str | None) -> list[int]:
    keys = _limit_keys(user_id, ip)
    ids = write(
        session,
        lambda s: reserve_attempt(s, settings, keys, ip, user_id=user_id, what="mfa_failed"),
    )
    if ids is None:
        raise RateLimited(RateLimited.message.format(minutes=settings.login_window_minutes))
    return ids


def _fail(session: Session, user_id: int, reason: str, ip: str | None) -> None:
    record_now(session, user_id, "mfa_failed", "user", user_id, {"reason": reason}, ip=ip)


def check_code(
    session: Session,
    settings: Settings,
    user_id: int,
    code: str,
    ip: str | None = None,
    *,
    confirming: bool = False,
) -> None:
    """Accept a TOTP code of `user_id` once (its step is remembered: no replay), or raise
    CodeError / CodeReplayed / RateLimited. `confirming`: the first code of an enrolment
    (the secret is not confirmed yet); otherwise the secret must be confirmed."""
    attempt_ids = _reserve(session, settings, user_id, ip)
    row = session.get(UserTotp, user_id)
    session.commit()
    usable = row is not None and (row.confirmed_at is None) == confirming
    step = matching_step(row.secret, code, utcnow()) if row is not None and usable else None
    if step is None:
        _fail(session, user_id, "bad_code", ip)
        raise CodeError()

    def accept(s: Session) -> bool:
        # Conditional update: of two concurrent uses of one code, one wins.
        result = s.exec(
            update(UserTotp)
            .where(col(UserTotp.user_id) == user_id, col(UserTotp.last_step) < step)
            .values(last_step=step)
        )
        mark_succeeded(s, attempt_ids)  # a replayed right code is not a guess
        return bool(result.rowcount)

    if not write(session, accept):
        _fail(session, user_id, "replayed_code", ip)
        raise CodeReplayed()


def check_recovery_code(
    session: Session, settings: Settings, user_id: int, code: str, ip: str | None = None
) -> int:
    """Use one recovery code of `user_id` (never again); returns how many are left.
    CodeError / RateLimited otherwise."""
    attempt_ids = _reserve(session, settings, user_id, ip)
    given = _normalize_recovery(code)
    rows = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None)
        )
    ).all()
    session.commit()  # no transaction held while argon2 runs
    found = next((r for r in rows if given and verify_password(given, r.code_hash)), None)
    if found is None:
        _fail(session, user_id, "bad_recovery_code", ip)
        raise CodeError("Code de secours incorrect ou déjà utilisé.")
    now = utcnow()

    def use(s: Session) -> bool:
        result = s.exec(
            update(RecoveryCode)
            .where(col(RecoveryCode.id) == found.id, col(RecoveryCode.used_at).is_(None))
            .values(used_at=now)
        )
        if result.rowcount:
            mark_succeeded(s, attempt_ids)
            record(s, user_id, "mfa_recovery_code_used", "user", user_id, ip=ip)
        return bool(result.rowcount)

    if not write(session, use):
        raise CodeError("Code de secours incorrect ou déjà utilisé.")
    return len(rows) - 1


def _normalize_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()[:64]


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(session: Session, user_id: int, hashes: list[str]) -> None:
    session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in hashes)


def _fresh_codes() -> tuple[list[str], list[str]]:
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    return codes, [hash_password(_normalize_recovery(c)) for c in codes]


def confirm_enrolment(
    session: Session, settings: Settings, user_id: int, code: str, ip: str | None = None
) -> list[str]:
    """The first code proves the phone has the secret: the factor is on. Returns the ten
    recovery codes, in clear this once (only their hashes are kept)."""
    check_code(session, settings, user_id, code, ip, confirming=True)
    codes, hashes = _fresh_codes()

    def confirm(s: Session) -> None:
        row = s.get(UserTotp, user_id)
        assert row is not None
        row.confirmed_at = utcnow()
        s.add(row)
        _replace_recovery_codes(s, user_id, hashes)
        record(s, user_id, "mfa_enrolled", "user", user_id, ip=ip)

    write(session, confirm)
    return codes


def regenerate_recovery_codes(
    session: Session, settings: Settings, user_id: int, code: str, ip: str | None = None
) -> list[str]:
    """New recovery codes (the old ones stop working), after a current TOTP code."""
    check_code(session, settings, user_id, code, ip)
    codes, hashes = _fresh_codes()

    def replace(s: Session) -> None:
        _replace_recovery_codes(s, user_id, hashes)
        record(s, user_id, "mfa_recovery_codes_regenerated", "user", user_id, ip=ip)

    write(session, replace)
    return codes


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(
        session.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None)
            )
        ).all()
    )


def reset_second_factor(
    session: Session, admin: Actor, user_id: int, ip: str | None = None
) -> bool:
    """An administrator removes a lost factor: secret, recovery codes and remembered
    devices go; a privileged account enrols again at its next login. False: nothing to
    reset (no secret)."""

    def reset(s: Session) -> bool:
        had = s.get(UserTotp, user_id) is not None
        s.exec(delete(UserTotp).where(col(UserTotp.user_id) == user_id))
        s.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
        s.exec(
            update(TrustedDevice)
            .where(col(TrustedDevice.user_id) == user_id, col(TrustedDevice.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
        record(s, admin, "mfa_reset", "user", user_id, {"had_factor": had}, ip=ip)
        return had

    return write(session, reset)
