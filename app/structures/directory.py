"""Structures as an actor may see them: scope translated to SQL, filters, paging."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, true
from sqlmodel import Session, col, select

from app.permissions import Actor, structure_scope
from app.search_text import matches
from app.structures.models import Structure

MAX_SEARCH = 100


def search_cond(search: str) -> ColumnElement[bool] | None:
    """Name and commune containing every word typed (accents, case and punctuation
    ignored: app/search_text.py), or a FINESS number starting with the digits typed
    (spaces ignored); None for an empty search. Punctuation only matches nothing."""
    text = " ".join(search.split())[:MAX_SEARCH]
    if not text:
        return None
    conds: list[ColumnElement[bool]] = []
    if (words := matches(col(Structure.search), text)) is not None:
        conds.append(words)
    digits = text.replace(" ", "").upper()
    if re.fullmatch(r"[0-9][0-9AB][0-9]*", digits):
        conds.append(col(Structure.finess).like(f"{digits}%"))
    return or_(*conds) if conds else false()


def scope_clause(actor: Actor | None) -> ColumnElement[bool]:
    """SQL condition on Structure for what the actor may see (deny by default)."""
    scope = structure_scope(actor)
    if scope.all:
        return true()
    if scope.region is not None:
        return col(Structure.region) == scope.region
    if scope.structure_ids:
        return col(Structure.id).in_(sorted(scope.structure_ids))
    return false()


@dataclass
class StructurePage:
    items: list[Structure]
    total: int
    limit: int
    offset: int


def list_structures(session: Session, actor: Actor | None, *, region: str | None = None,
                    department: str | None = None, category: str | None = None,
                    search: str = "", limit: int = 100, offset: int = 0) -> StructurePage:
    """Visible structures, filtered (`search`: see `search_cond`), ordered by name then
    FINESS."""
    conds: list[Any] = [scope_clause(actor)]
    if (found := search_cond(search)) is not None:
        conds.append(found)
    if region:
        conds.append(col(Structure.region) == region)
    if department:
        conds.append(col(Structure.department) == department.upper())
    if category:
        conds.append(col(Structure.category_code) == category)
    total = session.exec(select(func.count()).select_from(Structure).where(*conds)).one()
    items = session.exec(select(Structure).where(*conds)
                         .order_by(col(Structure.name), col(Structure.finess))
                         .limit(limit).offset(offset)).all()
    return StructurePage(list(items), int(total), limit, offset)
