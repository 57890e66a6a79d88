"""The administrators' account list (search, pages, structures by name) and the change of
an account's role and scope (region, structures), audited as "user_updated" with the
values before and after. `Action.manage_users` (admins) only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import false, func, or_
from sqlmodel import Session, col, select

from app.accounts import auth
from app.accounts.models import DirectorStructure, User
from app.accounts.users import ROLE_LABELS, InvalidUser, validate_scope
from app.audit import AuditEvent, record
from app.db import utcnow
from app.errors import Forbidden, NotFound
from app.permissions import Action, Actor, Role, can
from app.reference import regions
from app.search_text import matches
from app.structures.directory import search_cond
from app.structures.models import Structure

PAGE_SIZE = 25
MAX_QUERY = 100


def _check(actor: Actor | None) -> Actor:
    if actor is None or not can(actor, Action.manage_users):
        raise Forbidden()
    return actor


@dataclass(frozen=True, slots=True)
class LinkedStructure:
    finess: str
    name: str


@dataclass(slots=True)
class AccountRow:
    id: int
    email: str
    name: str
    role: str
    role_label: str
    region: str | None
    region_name: str | None
    active: bool
    structures: list[LinkedStructure]
    last_login: datetime | None


@dataclass(slots=True)
class AccountPage:
    rows: list[AccountRow]
    total: int
    page: int
    pages: int
    query: str


def account_page(session: Session, actor: Actor | None, query: str = "", page: int = 1,
                 page_size: int | None = None) -> AccountPage:
    """Accounts by role then e-mail; every word of `query` in the account's name and e-mail,
    or in the name and commune of a linked structure, or a linked structure's FINESS number
    starting with it (accents, case and punctuation ignored: app/search_text.py)."""
    _check(actor)
    page_size = page_size or PAGE_SIZE
    text = " ".join(query.split())[:MAX_QUERY]
    stmt = select(User.id)
    if (in_structures := search_cond(text)) is not None:  # the structure list's search
        linked = (select(DirectorStructure.user_id)
                  .join(Structure, col(Structure.id) == DirectorStructure.structure_id)
                  .where(in_structures))
        user_words = matches(col(User.search), text)  # None: punctuation only
        stmt = stmt.where(or_(false() if user_words is None else user_words,
                              col(User.id).in_(linked)))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    ids = session.exec(stmt.order_by(col(User.role), col(User.email))
                       .limit(page_size).offset((page - 1) * page_size)).all()
    users = session.exec(select(User).where(col(User.id).in_(ids))
                         .order_by(col(User.role), col(User.email))).all()
    user_ids = [u.id for u in users]
    last_login = dict(session.exec(
        select(AuditEvent.user_id, func.max(AuditEvent.at))
        .where(AuditEvent.action == "login", col(AuditEvent.user_id).in_(user_ids))
        .group_by(col(AuditEvent.user_id))).all())
    links: dict[int, list[LinkedStructure]] = {}
    for user_id, finess, name in session.exec(
            select(DirectorStructure.user_id, Structure.finess, Structure.name)
            .join(Structure, col(Structure.id) == DirectorStructure.structure_id)
            .where(col(DirectorStructure.user_id).in_(user_ids))
            .order_by(col(Structure.name))).all():
        links.setdefault(user_id, []).append(LinkedStructure(finess, name))
    names = regions()
    rows = []
    for u in users:
        assert u.id is not None
        region = names.get(u.region) if u.region else None
        rows.append(AccountRow(u.id, u.email, u.name, u.role, ROLE_LABELS[Role(u.role)],
                               u.region, region.name if region else None, u.active,
                               links.get(u.id, []), last_login.get(u.id)))
    return AccountPage(rows, int(total), page, pages, text)


@dataclass(slots=True)
class AccountEdit:
    """The edit form: the account and the values typed."""

    user: User
    role: str
    region: str
    structures: str  # FINESS numbers, one a line
    linked: list[LinkedStructure] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _scope_of(session: Session, user_id: int) -> list[Structure]:
    return list(session.exec(select(Structure)
                             .join(DirectorStructure,
                                   col(DirectorStructure.structure_id) == Structure.id)
                             .where(DirectorStructure.user_id == user_id)
                             .order_by(col(Structure.name))).all())


def edit_form(session: Session, actor: Actor | None, user_id: int) -> AccountEdit:
    _check(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Compte introuvable.")
    linked = _scope_of(session, user_id)
    return AccountEdit(user, user.role, user.region or "",
                       "\n".join(s.finess for s in linked),
                       [LinkedStructure(s.finess, s.name) for s in linked])


def update_account(session: Session, actor: Actor | None, user_id: int, role: str,
                   region: str, structures: str, ip: str | None = None) -> User:
    """Change an account's role, region and structures. Raises InvalidUser (field errors),
    Forbidden (an admin changing their own role), NotFound."""
    actor = _check(actor)
    form = edit_form(session, actor, user_id)
    user = form.user
    errors: dict[str, str] = {}
    new_role, linked = validate_scope(session, role, region, structures, errors)
    if user_id == actor.id and new_role is not None and new_role != Role.admin:
        errors["role"] = ("Vous ne pouvez pas retirer votre propre rôle d’administrateur : "
                          "demandez-le à un autre administrateur.")
    if errors:
        raise InvalidUser(errors)
    assert new_role is not None
    new_region = region.strip() or None
    before = {"role": user.role, "region": user.region,
              "structures": sorted(s.finess for s in form.linked)}
    after = {"role": new_role.value, "region": new_region,
             "structures": sorted(s.finess for s in linked)}
    if before == after:
        return user
    user.role, user.region, user.updated_at = new_role.value, new_region, utcnow()
    session.add(user)
    wanted = {s.id for s in linked}
    for link in session.exec(select(DirectorStructure)
                             .where(DirectorStructure.user_id == user_id)).all():
        if link.structure_id not in wanted:
            session.delete(link)
    auth.link_structures(session, user_id, linked)
    record(session, actor, "user_updated", "user", user_id,
           {"before": before, "after": after}, ip=ip)
    session.commit()
    session.refresh(user)
    return user
