"""Account administration: create, deactivate / reactivate, reset links (the list and the
change of role and scope: accounts/admin_users.py).

Every function checks `permissions.can(actor, Action.manage_users)` (deny by default) and
commits. Deactivating an account revokes its sessions, API tokens and reset links at once.
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from app import textcheck
from app.accounts import auth, password_reset
from app.accounts.models import User
from app.accounts.passwords import hash_password, password_problems
from app.accounts.tokens import new_token
from app.audit import record
from app.config import Settings
from app.db import utcnow
from app.errors import Forbidden, InvalidFields, NotFound
from app.forms import FormModel
from app.permissions import Action, Actor, Role, can
from app.reference import regions
from app.structures.finess import normalize
from app.structures.models import Structure

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
REGIONAL_ROLES = frozenset({Role.ars, Role.committee})
ROLE_LABELS = {
    Role.director: "Direction de structure",
    Role.ars: "Référent ARS",
    Role.committee: "Comité de sélection",
    Role.admin: "Administrateur",
}


class InvalidUser(InvalidFields):
    message = "Le compte n’a pas pu être créé : corrigez les champs signalés."


class NewUser(FormModel):
    email: str = ""
    name: str = ""
    role: str = ""
    region: str = ""
    structures: str = ""  # FINESS numbers separated by spaces, commas or new lines
    password: str = ""  # empty: the account receives a link to choose one


def _check(actor: Actor | None) -> Actor:
    if actor is None or not can(actor, Action.manage_users):
        raise Forbidden()
    return actor


def validate_scope(session: Session, raw_role: str, raw_region: str, raw_structures: str,
                   errors: dict[str, str]) -> tuple[Role | None, list[Structure]]:
    """An account's role, region and structures (FINESS numbers separated by spaces, commas
    or new lines); problems go into `errors` under "role", "region", "structures"."""
    role = Role(raw_role) if raw_role in set(Role) else None
    if role is None:
        errors["role"] = "Choisissez un rôle."
    region = raw_region.strip()
    if region and region not in regions():
        errors["region"] = "Région inconnue."
    elif region and role is not None and role not in REGIONAL_ROLES:
        errors["region"] = "Seuls les comptes ARS et comité de sélection ont une région."
    elif not region and role is Role.ars:
        errors["region"] = "Un compte ARS doit avoir une région."
    linked: list[Structure] = []
    numbers = [normalize(n) for n in re.split(r"[\s,;]+", raw_structures) if n.strip()]
    if numbers and role is not Role.director:
        errors["structures"] = "Seuls les comptes de direction sont rattachés à des structures."
        numbers = []
    for number in dict.fromkeys(numbers):
        structure = session.exec(select(Structure).where(Structure.finess == number)).first()
        if structure is None:
            errors["structures"] = f"Aucune structure de numéro FINESS {number}."
            break
        linked.append(structure)
    return role, linked


def _validate(session: Session, data: NewUser) -> tuple[Role | None, list[Structure]]:
    errors: dict[str, str] = {}
    email = auth.normalize_email(data.email)
    if (bad := textcheck.problem(data.name.strip(), textcheck.NAME)) is not None:
        errors["name"] = f"Nom : {bad}."
    if textcheck.problem(email, textcheck.SHORT) is not None or not EMAIL.fullmatch(email):
        errors["email"] = "Indiquez une adresse électronique valide, par exemple nom@domaine.fr."
    elif session.exec(select(User.id).where(User.email == email)).first() is not None:
        errors["email"] = "Un compte existe déjà avec cette adresse électronique."
    role, linked = validate_scope(session, data.role, data.region, data.structures, errors)
    if data.password:
        problems = password_problems(data.password)
        if problems:
            errors["password"] = " ".join(problems)
    if errors:
        raise InvalidUser(errors)
    return role, linked


def create_user(session: Session, settings: Settings, actor: Actor | None, data: NewUser,
                ip: str | None = None) -> tuple[User, str | None]:
    """Create an account. Without a password, it gets a reset link (e-mailed, and returned
    so the admin can pass it on); returns (user, link or None)."""
    _check(actor)
    role, linked = _validate(session, data)
    assert role is not None
    user = User(
        email=auth.normalize_email(data.email),
        name=data.name.strip(),
        # Without a chosen password: a random one nobody knows, until the link is used.
        password_hash=hash_password(data.password or new_token()),
        role=role.value,
        region=data.region.strip() or None,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    auth.link_structures(session, user.id, linked)
    raw = None if data.password else password_reset.create_reset_token(session, settings, user)
    record(session, actor, "user_created", "user", user.id,
           {"role": role.value, "region": user.region,
            "structures": [s.finess for s in linked]}, ip=ip)
    session.commit()
    session.refresh(user)
    if raw is None:
        return user, None
    password_reset.send_reset_email(settings, user, raw, by_admin=True)
    return user, password_reset.reset_url(settings, raw)


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Compte introuvable.")
    return user


def set_active(session: Session, actor: Actor | None, user_id: int, active: bool,
               ip: str | None = None) -> User:
    """Deactivate (ends every session, API token and reset link at once) or reactivate."""
    actor = _check(actor)
    if user_id == actor.id and not active:
        raise Forbidden("Vous ne pouvez pas désactiver votre propre compte.")
    user = _get(session, user_id)
    if user.active != active:
        user.active = active
        user.updated_at = utcnow()
        session.add(user)
        if not active:
            auth.revoke_all(session, user_id)
        record(session, actor, "user_reactivated" if active else "user_deactivated", "user",
               user_id, ip=ip)
    session.commit()
    session.refresh(user)
    return user


def reset_link(session: Session, settings: Settings, actor: Actor | None, user_id: int,
               ip: str | None = None) -> tuple[User, str]:
    """A new reset link for an active account (also e-mailed to it)."""
    _check(actor)
    user = _get(session, user_id)
    if not user.active:
        raise Forbidden("Ce compte est désactivé : réactivez-le d’abord.")
    raw = password_reset.create_reset_token(session, settings, user)
    record(session, actor, "password_reset_requested", "user", user_id, {"by_admin": True},
           ip=ip)
    session.commit()
    password_reset.send_reset_email(settings, user, raw, by_admin=True)
    return user, password_reset.reset_url(settings, raw)
