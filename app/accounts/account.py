"""« Mon compte » (issue 10): a person changes their name and password (the current one
required, argon2 like every password), and a director invites a colleague (a delegate) to
one of their structures through the invitation machinery. Every change is audited:
name_changed, password_changed (other sessions ended), invitation_created (delegate: true).
Functions that change data commit."""

from __future__ import annotations

from sqlmodel import Session

from app import textcheck
from app.accounts import auth
from app.accounts.invitations import invitee_error as _invitee_error
from app.accounts.invitations import issue
from app.accounts.models import Invitation, User
from app.accounts.passwords import hash_password, password_problems, verify_password
from app.accounts.sessions import revoke_all
from app.audit import record
from app.config import Settings
from app.db import begin_write, utcnow
from app.errors import Forbidden, InvalidFields, NotFound
from app.permissions import Action, Actor, can, can_on_structure
from app.structures.models import Structure

NAME_MAX = 120


class InvalidAccountForm(InvalidFields):
    message = "Le formulaire contient des erreurs."


def _user(session: Session, actor: Actor | None) -> User:
    if actor is None:
        raise Forbidden()
    user = session.get(User, actor.id)
    if user is None or not user.active:
        raise NotFound("Compte introuvable.")
    return user


def change_name(session: Session, actor: Actor | None, name: str,
                ip: str | None = None) -> User:
    user = _user(session, actor)
    name = " ".join(name.split())
    problem = textcheck.problem(name, NAME_MAX)
    if not name or problem is not None:
        raise InvalidAccountForm({"name": problem or "Indiquez votre nom."})
    begin_write(session)
    before = user.name
    user.name = name
    user.updated_at = utcnow()
    session.add(user)
    record(session, actor, "name_changed", "user", user.id, {"from": before, "to": name}, ip=ip)
    session.commit()
    return user


def change_password(session: Session, actor: Actor | None, current: str, new: str,
                    confirm: str, *, keep_session: str | None = None,
                    ip: str | None = None) -> None:
    """Check the current password, set the new one and end the user's other sessions, API
    tokens and reset links (`keep_session`: the id of the session making the change)."""
    user = _user(session, actor)
    errors: dict[str, str] = {}
    if not verify_password(current, user.password_hash):
        errors["current"] = "Le mot de passe actuel est incorrect."
    problems = password_problems(new)
    if problems:
        errors["new"] = " ".join(problems)
    elif new != confirm:
        errors["confirm"] = "Les deux saisies du nouveau mot de passe sont différentes."
    elif new == current:
        errors["new"] = "Le nouveau mot de passe doit être différent de l’actuel."
    if errors:
        raise InvalidAccountForm(errors)
    begin_write(session)
    user.password_hash = hash_password(new)
    user.updated_at = utcnow()
    session.add(user)
    assert user.id is not None
    revoke_all(session, user.id, keep_session=keep_session)
    record(session, actor, "password_changed", "user", user.id, {}, ip=ip)
    session.commit()


def delegable_structures(session: Session, actor: Actor | None) -> list[Structure]:
    """The structures a director may invite a colleague to: their own, open ones."""
    if actor is None or not can(actor, Action.invite_colleague):
        return []
    out = []
    for sid in sorted(actor.structure_ids):
        s = session.get(Structure, sid)
        if s is not None and not s.closed and can_on_structure(
                actor, Action.invite_colleague, sid, s.region):
            out.append(s)
    return sorted(out, key=lambda s: s.name)


def invite_colleague(session: Session, settings: Settings, actor: Actor | None, email: str,
                     structure_id: int | None, ip: str | None = None
                     ) -> tuple[Invitation, str]:
    """A director invites a colleague to one of their structures (the invitee becomes a
    director of it once they accept)."""
    if actor is None or not can(actor, Action.invite_colleague):
        raise Forbidden()
    errors: dict[str, str] = {}
    email = auth.normalize_email(email)
    if (problem := _invitee_error(session, email)) is not None:
        errors["email"] = problem
    elif session.get(User, actor.id) is not None and email == _user(session, actor).email:
        errors["email"] = "Indiquez l’adresse de votre collègue, pas la vôtre."
    mine = {s.id: s for s in delegable_structures(session, actor)}
    structure = mine.get(structure_id) if structure_id is not None else None
    if structure is None:
        errors["structure"] = "Choisissez l’une de vos structures."
    if errors:
        raise InvalidAccountForm(errors)
    assert structure is not None
    return issue(session, settings, actor, email, [structure], structure.region, ip=ip,
                 details={"delegate": True})
