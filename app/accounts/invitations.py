"""Invitations: an ARS referent (their region) or an admin invites a director, by e-mail, to
structures; the invitee follows a one-time link that expires (`Settings.invitation_days`).

The link carries a random token (`accounts.tokens.new_token`); only its sha256 is stored. Following
it, the invitee either creates a director account (name + password) or, logged in with the
invited address, accepts: the structures are linked (DirectorStructure). A token is used at
most once (a conditional UPDATE decides between concurrent acceptances). Every step is
audited: invitation_created, invitation_revoked, invitation_accepted (+ user_created).
Functions that change data commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import textcheck
from app.accounts import auth
from app.accounts.models import Invitation, InvitationStructure, User
from app.accounts.passwords import hash_password, password_problems
from app.accounts.tokens import new_token, token_hash
from app.audit import record
from app.config import Settings
from app.db import begin_write, utcnow
from app.email import send_email
from app.errors import Forbidden, InvalidFields, NotFound, ServiceError
from app.formatting import date_fr
from app.forms import FormModel
from app.permissions import (
    Action,
    Actor,
    Role,
    can,
    can_everywhere,
    can_on_structure,
    may_be_invited,
)
from app.structures.directory import scope_clause
from app.structures.finess import format_display, normalize
from app.structures.models import Structure

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PATH = "/invitation/"


class InvalidInvitationForm(InvalidFields):
    message = "L’invitation n’a pas pu être envoyée : corrigez les champs signalés."


class InvalidInvitation(ServiceError):
    """The link cannot be used (unknown, used, revoked, expired): say which, plainly."""

    status = 410
    message = "Ce lien d’invitation n’est pas valide."


UNKNOWN = "Ce lien d’invitation n’est pas valide : vérifiez qu’il a été copié en entier."
USED = ("Cette invitation a déjà été acceptée. Connectez-vous avec votre adresse "
        "électronique et votre mot de passe.")
REVOKED = ("Cette invitation a été annulée. Demandez une nouvelle invitation à votre "
           "référent ARS.")
EXPIRED = ("Cette invitation a expiré le {date}. Demandez une nouvelle invitation à votre "
           "référent ARS.")


@dataclass(slots=True)
class InvitationRow:
    id: int
    email: str
    structures: list[tuple[str, str]]  # (finess, name)
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    state: str  # pending | used | expired | revoked
    state_label: str


STATE_LABELS = {"pending": "En attente", "used": "Acceptée", "expired": "Expirée",
                "revoked": "Annulée"}


class NewInvitation(FormModel):
    email: str = ""
    structures: str = ""  # FINESS numbers (ET or EJ), separated by spaces, commas, new lines


def state_of(inv: Invitation, now: datetime | None = None) -> str:
    if inv.used_at is not None:
        return "used"
    if inv.revoked_at is not None:
        return "revoked"
    if inv.expires_at <= (now or utcnow()):
        return "expired"
    return "pending"


def _check(actor: Actor | None) -> Actor:
    if actor is None or not can(actor, Action.invite_director):
        raise Forbidden()
    return actor


def parse_numbers(text: str) -> list[str]:
    """FINESS numbers typed one per line (or separated by commas / semicolons), spaces
    allowed inside ("69 000 003 9"); several on one line separated by spaces also work."""
    numbers: list[str] = []
    for chunk in re.split(r"[\n,;]+", text):
        compact = normalize(chunk)
        if not compact:
            continue
        if len(compact) % 9 == 0:
            numbers.extend(compact[i:i + 9] for i in range(0, len(compact), 9))
        else:
            numbers.extend(normalize(n) for n in chunk.split() if n.strip())
    return numbers


def _resolve_structures(session: Session, actor: Actor, text: str) -> tuple[list[Structure],
                                                                             str | None]:
    """The structures named by FINESS ET (or EJ: all its open structures) in the actor's
    scope; (structures, error)."""
    numbers = parse_numbers(text)
    if not numbers:
        return [], "Indiquez au moins un numéro FINESS."
    found: dict[int, Structure] = {}
    visible = scope_clause(actor)
    for number in dict.fromkeys(numbers):
        structure = session.exec(select(Structure).where(
            col(Structure.finess) == number, visible)).first()
        if structure is not None:
            if structure.closed:
                return [], f"La structure {format_display(number)} est fermée."
            candidates = [structure]
        else:
            candidates = list(session.exec(select(Structure).where(
                col(Structure.finess_ej) == number, col(Structure.closed).is_(False), visible)
                .order_by(col(Structure.finess))).all())
        allowed = [s for s in candidates if s.id is not None and can_on_structure(
            actor, Action.invite_director, s.id, s.region)]
        if not allowed:
            where = ("" if can_everywhere(actor, Action.invite_director)
                     else " dans votre région")
            return [], f"Aucune structure ni organisme de numéro FINESS {number}{where}."
        for s in allowed:
            assert s.id is not None
            found[s.id] = s
    return list(found.values()), None


def create_invitation(session: Session, settings: Settings, actor: Actor | None,
                      data: NewInvitation, ip: str | None = None) -> tuple[Invitation, str]:
    """Create the invitation and e-mail its link; returns (invitation, link)."""
    actor = _check(actor)
    errors: dict[str, str] = {}
    email = auth.normalize_email(data.email)
    if (problem := invitee_error(session, email)) is not None:
        errors["email"] = problem
    structures, problem = _resolve_structures(session, actor, data.structures)
    if problem:
        errors["structures"] = problem
    if errors:
        raise InvalidInvitationForm(errors)
    return issue(session, settings, actor, email, structures, actor.region, ip=ip)


def invitee_error(session: Session, email: str) -> str | None:
    """Why this (normalised) address cannot be invited as a director, if it cannot."""
    if textcheck.problem(email, textcheck.SHORT) is not None or not EMAIL.fullmatch(email):
        return "Indiquez une adresse électronique valide, par exemple nom@domaine.fr."
    user = session.exec(select(User).where(col(User.email) == email)).first()
    if user is not None and not may_be_invited(user.role):
        return ("Cette adresse est celle d’un compte qui n’est pas un compte de direction : "
                "elle ne peut pas être invitée.")
    if user is not None and not user.active:
        return "Le compte de cette adresse est désactivé."
    return None


def issue(session: Session, settings: Settings, actor: Actor, email: str,
          structures: list[Structure], region: str | None, *, ip: str | None = None,
          details: dict[str, Any] | None = None) -> tuple[Invitation, str]:
    """Store, audit (invitation_created, with `details`), commit and e-mail an invitation
    whose checks are done; returns (invitation, link)."""
    raw = new_token()
    now = utcnow()
    invitation = Invitation(email=email, token_hash=token_hash(raw), invited_by=actor.id,
                            region=region, created_at=now,
                            expires_at=now + timedelta(days=settings.invitation_days))
    session.add(invitation)
    session.flush()
    assert invitation.id is not None
    for s in structures:
        assert s.id is not None
        session.add(InvitationStructure(invitation_id=invitation.id, structure_id=s.id))
    record(session, actor, "invitation_created", "invitation", invitation.id,
           {"email": email, "structures": [s.finess for s in structures],
            "expires_at": invitation.expires_at.isoformat(), **(details or {})}, ip=ip)
    session.commit()
    session.refresh(invitation)
    link = settings.public_url + PATH + raw
    inviter = session.get(User, actor.id)
    _send(settings, email, link, structures, invitation.expires_at,
          inviter.name or inviter.email if inviter else None)
    return invitation, link


def _send(settings: Settings, email: str, link: str, structures: list[Structure],
          expires_at: datetime, inviter: str | None) -> None:
    listing = "\n".join(f"- {s.name} (FINESS {format_display(s.finess)})" for s in structures)
    who = f"{inviter} vous invite" if inviter else "Vous êtes invité(e)"
    body = (
        f"Bonjour,\n\n{who} à renseigner sur Palier l’autodiagnostic de maturité numérique "
        f"de :\n{listing}\n\n"
        f"Pour accepter l’invitation, ouvrez ce lien (valable jusqu’au "
        f"{date_fr(expires_at)}, une seule fois) :\n{link}\n\n"
        "Vous y choisirez votre mot de passe, ou vous vous connecterez si vous avez déjà un "
        "compte avec cette adresse.\n\n"
        "Si vous n’attendiez pas ce message, ignorez-le : aucun compte ne sera créé.\n"
    )
    send_email(settings, email, "Invitation à l’autodiagnostic Palier", body)


def _visible(actor: Actor) -> Any:
    """SQL condition: the invitations an actor may list (admin all; ARS: those touching a
    structure of their region)."""
    if can_everywhere(actor, Action.invite_director):
        return col(Invitation.id).is_not(None)
    return exists().where(
        col(InvitationStructure.invitation_id) == col(Invitation.id),
        col(InvitationStructure.structure_id) == col(Structure.id),
        scope_clause(actor))


def list_invitations(session: Session, actor: Actor | None, limit: int = 200
                     ) -> list[InvitationRow]:
    actor = _check(actor)
    invitations = session.exec(select(Invitation).where(_visible(actor))
                               .order_by(col(Invitation.created_at).desc()).limit(limit)).all()
    ids = [i.id for i in invitations]
    links: dict[int, list[tuple[str, str]]] = {}
    for inv_id, finess, name in session.exec(
            select(InvitationStructure.invitation_id, Structure.finess, Structure.name)
            .join(Structure, col(Structure.id) == col(InvitationStructure.structure_id))
            .where(col(InvitationStructure.invitation_id).in_(ids))
            .order_by(col(Structure.finess))).all():
        links.setdefault(inv_id, []).append((finess, name))
    inviters = {u.id: u.email for u in session.exec(select(User).where(col(User.id).in_(
        {i.invited_by for i in invitations if i.invited_by is not None}))).all()}
    now = utcnow()
    rows = []
    for inv in invitations:
        assert inv.id is not None
        state = state_of(inv, now)
        rows.append(InvitationRow(
            id=inv.id, email=inv.email, structures=links.get(inv.id, []),
            invited_by=inviters.get(inv.invited_by) if inv.invited_by else None,
            created_at=inv.created_at, expires_at=inv.expires_at, state=state,
            state_label=STATE_LABELS[state]))
    return rows


def revoke(session: Session, actor: Actor | None, invitation_id: int,
           ip: str | None = None) -> Invitation:
    actor = _check(actor)
    invitation = session.exec(select(Invitation).where(
        col(Invitation.id) == invitation_id, _visible(actor))).first()
    if invitation is None:
        raise NotFound()
    if state_of(invitation) != "pending":
        raise InvalidInvitation("Seule une invitation en attente peut être annulée.")
    invitation.revoked_at = utcnow()
    session.add(invitation)
    record(session, actor, "invitation_revoked", "invitation", invitation.id,
           {"email": invitation.email}, ip=ip)
    session.commit()
    return invitation


# --- following the link ----------------------------------------------------------------------


def check_token(session: Session, raw: str) -> Invitation:
    """The pending invitation of this token, or InvalidInvitation saying why not."""
    invitation = session.exec(select(Invitation).where(
        col(Invitation.token_hash) == token_hash(raw))).first()
    if invitation is None:
        error = InvalidInvitation(UNKNOWN)
        error.status = 404
        raise error
    state = state_of(invitation)
    if state == "used":
        raise InvalidInvitation(USED)
    if state == "revoked":
        raise InvalidInvitation(REVOKED)
    if state == "expired":
        raise InvalidInvitation(EXPIRED.format(date=date_fr(invitation.expires_at)))
    return invitation


def structures_of(session: Session, invitation: Invitation) -> list[Structure]:
    return list(session.exec(
        select(Structure).join(InvitationStructure,
                               col(InvitationStructure.structure_id) == col(Structure.id))
        .where(col(InvitationStructure.invitation_id) == invitation.id)
        .order_by(col(Structure.name))).all())


def account_exists(session: Session, email: str) -> bool:
    return session.exec(select(User.id).where(col(User.email) == email)).first() is not None


def _use(session: Session, invitation: Invitation, user: User, ip: str | None,
         created: bool) -> list[Structure]:
    """Mark used (once: conditional UPDATE), link the structures, audit. Caller commits."""
    assert user.id is not None and invitation.id is not None
    done = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.used_at).is_(None),
               col(Invitation.revoked_at).is_(None))
        .values(used_at=utcnow(), used_by=user.id))
    if getattr(done, "rowcount", 0) != 1:
        session.rollback()
        raise InvalidInvitation(USED)
    structures = structures_of(session, invitation)
    assert user.id is not None
    auth.link_structures(session, user.id, structures)
    record(session, user.id, "invitation_accepted", "invitation", invitation.id,
           {"email": user.email, "new_account": created,
            "structures": [s.finess for s in structures]}, ip=ip)
    return structures


class NewAccount(FormModel):
    name: str = ""
    password: str = ""
    password_confirm: str = ""


def accept_with_new_account(session: Session, raw: str, data: NewAccount,
                            ip: str | None = None) -> User:
    """Create the invited director's account, link the structures; returns the user."""
    invitation = check_token(session, raw)
    if account_exists(session, invitation.email):
        raise InvalidInvitation("Un compte existe déjà pour cette adresse : connectez-vous "
                                "pour accepter l’invitation.")
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "Indiquez votre nom."
    elif (bad := textcheck.problem(data.name.strip(), textcheck.NAME)) is not None:
        errors["name"] = f"Nom : {bad}."
    problems = password_problems(data.password)
    if problems:
        errors["password"] = " ".join(problems)
    elif data.password != data.password_confirm:
        errors["password_confirm"] = "Les deux mots de passe saisis sont différents."
    if errors:
        raise InvalidInvitationForm(errors)
    password_hash = hash_password(data.password)  # slow: before taking the write lock
    begin_write(session)
    invitation = check_token(session, raw)
    user = User(email=invitation.email, name=data.name.strip()[:200],
                password_hash=password_hash, role=Role.director.value)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # the same address created meanwhile (another tab)
        session.rollback()
        raise InvalidInvitation(USED) from None
    record(session, user.id, "user_created", "user", user.id,
           {"role": user.role, "via": "invitation", "invitation": invitation.id}, ip=ip)
    _use(session, invitation, user, ip, created=True)
    session.commit()
    session.refresh(user)
    return user


def accept_as(session: Session, actor: Actor, raw: str, ip: str | None = None
              ) -> list[Structure]:
    """The logged-in director `actor`, whose address is the invited one, accepts."""
    begin_write(session)
    invitation = check_token(session, raw)
    user = session.get(User, actor.id)
    if user is None or user.email != invitation.email:
        raise Forbidden("Cette invitation est adressée à une autre adresse électronique : "
                        "déconnectez-vous, puis ouvrez de nouveau le lien.")
    if not can(actor, Action.accept_invitation):
        raise Forbidden("Seul un compte de direction peut accepter une invitation.")
    structures = _use(session, invitation, user, ip, created=False)
    session.commit()
    return structures
