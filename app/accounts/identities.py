"""Provider identities and Palier accounts: who a ProConnect sign-in is.

An identity (issuer, subject) gives access only once attached to an account, and only
two ways attach it: its owner opens a one-time link e-mailed to the address of the account
with the same e-mail (proof that they hold it), or an admin attaches it. An unknown
identity gets nothing (its row waits for an admin; an invitation creates the account, then
the e-mail proof attaches it). No role, region or structure ever comes from a claim.
Every step is audited. Functions that change data commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import oidc
from app.accounts.models import User
from app.accounts.oidc import ProviderIdentity
from app.accounts.oidc_models import ExternalIdentity, OidcLinkToken, OidcSession
from app.accounts.tokens import new_token, token_hash
from app.audit import record
from app.config import Settings
from app.db import utcnow
from app.email import send_email
from app.permissions import Actor

LINK_PATH = "/proconnect/lier"
MAX_LINK_EMAILS = 3  # per identity within the login window


class IdentityError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


INVALID_LINK = (
    "Ce lien n’est pas valide, a expiré ou a déjà servi. Connectez-vous de "
    "nouveau avec ProConnect pour en recevoir un autre."
)


@dataclass(frozen=True)
class SignIn:
    outcome: Literal["user", "link_sent", "unknown"]
    identity: ExternalIdentity
    user: User | None = None


def requires_proconnect(settings: Settings, role: str) -> bool:
    """Accounts of this role must sign in with ProConnect (not with a password)."""
    return settings.oidc_enabled and role in settings.oidc_required_role_list


def _identity(session: Session, found: ProviderIdentity, ip: str | None) -> ExternalIdentity:
    row = session.exec(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == found.issuer, ExternalIdentity.subject == found.subject
        )
    ).first()
    if row is None:
        row = ExternalIdentity(issuer=found.issuer, subject=found.subject)
        session.add(row)
        session.flush()
        record(
            session,
            None,
            "oidc_identity_seen",
            "external_identity",
            row.id,
            {"email": found.email},
            ip=ip,
        )
    row.email, row.name, row.organisation = found.email, found.name, found.organisation
    row.last_login_at = utcnow()
    session.add(row)
    return row


def sign_in(
    session: Session, settings: Settings, found: ProviderIdentity, ip: str | None = None
) -> SignIn:
    """The account of a verified provider identity, or a link e-mailed to the account with
    its e-mail, or nothing (unknown: an admin must attach it)."""
    identity = _identity(session, found, ip)
    if identity.user_id is not None:
        user = session.get(User, identity.user_id)
        if user is None or not user.active:
            record(
                session,
                identity.user_id,
                "login_failed",
                "external_identity",
                identity.id,
                {"reason": "inactive", "via": "proconnect"},
                ip=ip,
            )
            session.commit()
            raise IdentityError(
                "Votre compte Palier est désactivé : adressez-vous à votre administrateur."
            )
        record(session, user, "oidc_login", "external_identity", identity.id, ip=ip)
        session.commit()
        return SignIn("user", identity, user)
    user = session.exec(select(User).where(User.email == found.email)).first()
    if user is None or not user.active:
        record(
            session,
            None,
            "oidc_unknown_identity",
            "external_identity",
            identity.id,
            {"email": found.email, "organisation": found.organisation},
            ip=ip,
        )
        session.commit()
        return SignIn("unknown", identity)
    _send_link(session, settings, identity, user, ip)
    return SignIn("link_sent", identity, user)


def _send_link(
    session: Session, settings: Settings, identity: ExternalIdentity, user: User, ip: str | None
) -> None:
    assert identity.id is not None and user.id is not None
    now = utcnow()
    since = now - timedelta(minutes=settings.login_window_minutes)
    recent = session.exec(
        select(func.count())
        .select_from(OidcLinkToken)
        .where(OidcLinkToken.identity_id == identity.id, col(OidcLinkToken.created_at) >= since)
    ).one()
    sent = recent < MAX_LINK_EMAILS
    details = {"user_id": user.id, "sent": sent, **({} if sent else {"reason": "too_many"})}
    record(session, None, "oidc_link_requested", "external_identity", identity.id, details, ip=ip)
    if not sent:
        session.commit()
        return
    raw = new_token()
    session.add(
        OidcLinkToken(
            token_hash=token_hash(raw),
            identity_id=identity.id,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=settings.oidc_link_hours),
        )
    )
    session.commit()
    hours = settings.oidc_link_hours
    send_email(
        settings,
        user.email,
        "Palier : relier votre identité ProConnect",
        (
            "Bonjour,\n\nQuelqu’un (vous, sans doute) s’est connecté à Palier avec ProConnect "
            "sous cette adresse électronique. Pour relier cette identité ProConnect à votre "
            f"compte Palier, ouvrez ce lien (valable {hours} heure{'s' if hours > 1 else ''}, "
            f"utilisable une seule fois) :\n\n{settings.public_url}{LINK_PATH}/{raw}\n\n"
            "Si vous n’êtes pas à l’origine de cette connexion, ignorez ce message : rien ne "
            "sera relié.\n\n-- \nPalier\n"
        ),
    )


def check_link(session: Session, raw: str) -> tuple[OidcLinkToken, ExternalIdentity, User]:
    """The unused, unexpired link, its identity (not attached elsewhere) and active user."""
    token = session.get(OidcLinkToken, token_hash(raw))
    if token is None or token.used_at is not None or utcnow() >= token.expires_at:
        raise IdentityError(INVALID_LINK)
    identity = session.get(ExternalIdentity, token.identity_id)
    user = session.get(User, token.user_id)
    if (
        identity is None
        or user is None
        or not user.active
        or identity.user_id not in (None, user.id)
    ):
        raise IdentityError(INVALID_LINK)
    return token, identity, user


def _attach(
    session: Session,
    identity: ExternalIdentity,
    user: User,
    by: Actor | User,
    proof: Literal["email_proof", "admin"],
    ip: str | None,
) -> None:
    """Attach the identity to the account, audited (`by` the owner or an admin); commits."""
    identity.user_id, identity.linked_at, identity.linked_by = user.id, utcnow(), by.id
    session.add(identity)
    details = {"by": proof, "user_id": user.id}
    record(session, by, "oidc_identity_linked", "external_identity", identity.id, details, ip=ip)
    session.commit()


def confirm_link(session: Session, raw: str, ip: str | None = None) -> User:
    """The e-mail proof: attach the link's identity to its account."""
    token, identity, user = check_link(session, raw)
    token.used_at = utcnow()
    session.add(token)
    _attach(session, identity, user, user, "email_proof", ip)
    return user


def list_identities(session: Session) -> list[tuple[ExternalIdentity, User | None]]:
    """Every identity, unattached first, then by e-mail."""
    rows = session.exec(
        select(ExternalIdentity, User)
        .join(User, col(User.id) == ExternalIdentity.user_id, isouter=True)
        .order_by(col(ExternalIdentity.user_id).is_not(None), ExternalIdentity.email)
    ).all()
    return [(identity, user) for identity, user in rows]


def admin_link(
    session: Session, actor: Actor, identity_id: int, email: str, ip: str | None = None
) -> ExternalIdentity:
    """An admin attaches an identity to the (active) account with this e-mail."""
    identity = session.get(ExternalIdentity, identity_id)
    if identity is None:
        raise IdentityError("Cette identité ProConnect n’existe pas.")
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active:
        raise IdentityError(
            "Aucun compte actif n’a cette adresse électronique : créez le "
            "compte (ou invitez la personne) d’abord."
        )
    if identity.user_id is not None and identity.user_id != user.id:
        raise IdentityError(
            "Cette identité est déjà reliée à un autre compte : détachez-la d’abord."
        )
    _attach(session, identity, user, actor, "admin", ip)
    return identity


def admin_unlink(session: Session, actor: Actor, identity_id: int, ip: str | None = None) -> None:
    identity = session.get(ExternalIdentity, identity_id)
    if identity is None:
        raise IdentityError("Cette identité ProConnect n’existe pas.")
    previous = identity.user_id
    identity.user_id, identity.linked_at, identity.linked_by = None, None, None
    session.add(identity)
    record(
        session,
        actor,
        "oidc_identity_unlinked",
        "external_identity",
        identity.id,
        {"user_id": previous},
        ip=ip,
    )
    session.commit()


def remember_session(session: Session, auth_session_id: str, issuer: str, id_token: str) -> None:
    session.add(OidcSession(auth_session_id=auth_session_id, issuer=issuer, id_token=id_token))
    session.commit()


def provider_logout_url(
    session: Session, settings: Settings, session_id: str, state: str
) -> str | None:
    """Where to end the provider's session too when this session logs out (None: not opened
    through the provider); the provider sends `state` back. Call before the local session
    is closed."""
    row = session.get(OidcSession, session_id)
    if row is None or not settings.oidc_enabled:
        return None
    return oidc.logout_url(settings, row.id_token, state)
