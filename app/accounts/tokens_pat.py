"""Personal access tokens: API tokens a user creates on the account page (named, scoped
read-only or read-write, expiring, revocable; only their sha256 is kept). They replace the
password grant for ars, committee and admin accounts. Issued by `api_tokens.issue_api_token`
and resolved like any bearer token; the read-only scope is enforced in app/web/auth_deps.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts.api_tokens import IssuedToken, issue_api_token
from app.accounts.models import ApiToken, User
from app.audit import record
from app.config import Settings
from app.db import utcnow

SCOPES = {"read": "Lecture seule", "write": "Lecture et écriture"}
LIFETIMES = (30, 90, 180, 365)  # days
NAME_MAX = 100


class PatError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class NewPat:
    name: str
    scope: str
    days: str

    def validate(self) -> tuple[str, str, int]:
        errors: dict[str, str] = {}
        name = " ".join(self.name.split())
        if not name:
            errors["name"] = "Donnez un nom à ce jeton (par exemple : « Script de suivi »)."
        elif len(name) > NAME_MAX:
            errors["name"] = f"Le nom ne peut dépasser {NAME_MAX} caractères."
        if self.scope not in SCOPES:
            errors["scope"] = "Choisissez la portée : lecture seule ou lecture et écriture."
        days = int(self.days) if self.days.isdigit() else 0
        if days not in LIFETIMES:
            errors["days"] = "Choisissez une durée de validité proposée."
        if errors:
            raise PatError(errors)
        return name, self.scope, days


def create_pat(session: Session, settings: Settings, user: User, form: NewPat,
               ip: str | None = None) -> IssuedToken:
    """A new personal access token (audited); PatError with French messages per field."""
    name, scope, days = form.validate()
    return issue_api_token(session, settings, user, ip, name=name, scope=scope, days=days)


def list_pats(session: Session, user_id: int) -> list[ApiToken]:
    """The user's personal access tokens not revoked (expired ones included: shown so)."""
    return list(session.exec(select(ApiToken).where(
        ApiToken.user_id == user_id, col(ApiToken.name).is_not(None),
        col(ApiToken.revoked_at).is_(None),
    ).order_by(col(ApiToken.created_at).desc())).all())


def revoke_pat(session: Session, user_id: int, token_id: int, ip: str | None = None) -> bool:
    """Revoke a personal access token of `user_id` (False: none such)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id or token.name is None \
            or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.add(token)
    record(session, user_id, "pat_revoked", "api_token", token_id, {"name": token.name}, ip=ip)
    session.commit()
    return True
