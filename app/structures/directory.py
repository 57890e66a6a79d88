"""Structures as an actor may see them: scope translated to SQL, filters, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, true
from sqlmodel import Session, col, select

from app.permissions import Actor, structure_scope
from app.structures.models import Structure


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
                    limit: int = 100, offset: int = 0) -> StructurePage:
    """Visible structures, filtered, ordered by name then FINESS."""
    conds: list[Any] = [scope_clause(actor)]
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
