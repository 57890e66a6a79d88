"""The regional structure list: filters, sorting, paging, with each structure's latest
result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlmodel import Session

from app.dashboard.filters import Filters, check_region, latest_of, review_statuses, structure_conds
from app.dashboard.stats import DEFAULT_QUESTIONNAIRE, tier_labels
from app.dashboard.tables import LR, S
from app.permissions import Actor
from app.questionnaires import Registry
from app.structures.directory import search_cond

PAGE_SIZE = 50


# ---- the structure list --------------------------------------------------------------------

SORTS: dict[str, tuple[str, Any]] = {
    "nom": ("Nom", S.c.name),
    "finess": ("FINESS", S.c.finess),
    "commune": ("Commune", S.c.city),
    "categorie": ("Catégorie", S.c.category_label),
    "departement": ("Département", S.c.department),
    "capacite": ("Capacité", func.coalesce(LR.c.capacity, S.c.capacity)),
    "palier": ("Palier", LR.c.tier_level),
    "score": ("Score global", LR.c.global_score),
    "date": ("Transmis le", LR.c.submitted_at),
}


@dataclass
class ListRow:
    structure_id: int
    finess: str
    name: str
    city: str | None
    category_code: str
    category_label: str
    department: str
    capacity: int | None
    assessment_id: int | None
    questionnaire_version: str | None
    tier: dict[str, Any] | None  # {level, label}
    global_score: float | None
    submitted_at: datetime | None
    review_status: str | None


@dataclass
class StructureListPage:
    rows: list[ListRow]
    total: int
    page: int
    pages: int
    sort: str
    order: str
    reference_version: str | None


def structure_page(session: Session, actor: Actor | None, registry: Registry, region: str,
                   f: Filters, *, sort: str = "nom", order: str = "asc",
                   page: int = 1, page_size: int | None = None,
                   search: str = "") -> StructureListPage:
    """One page of the region's open structures with their latest result (`search`: see
    `search_cond`)."""
    check_region(actor, region)
    page_size = page_size or PAGE_SIZE
    sort = sort if sort in SORTS else "nom"
    order = "desc" if order == "desc" else "asc"
    conds = structure_conds(actor, region, f)
    if f.tier is not None:
        conds.append(LR.c.tier_level == f.tier)
    if f.after is not None:
        conds.append(LR.c.submitted_at >= f.since())
    if f.before is not None:
        conds.append(LR.c.submitted_at < f.until())
    if (found := search_cond(search)) is not None:
        conds.append(found)
    base = select(S.c.id).select_from(S).outerjoin(LR, latest_of(region)) \
        .where(*conds)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    key = SORTS[sort][1]
    ordered = key.desc().nulls_last() if order == "desc" else key.asc().nulls_last()
    rows = session.execute(
        select(S.c.id, S.c.finess, S.c.name, S.c.city, S.c.category_code, S.c.category_label,
               S.c.department, S.c.capacity, LR.c.capacity.label("lr_capacity"),
               LR.c.assessment_id, LR.c.questionnaire_id, LR.c.questionnaire_version,
               LR.c.tier_level, LR.c.global_score, LR.c.submitted_at, LR.c.review_status)
        .select_from(S).outerjoin(LR, latest_of(region))
        .where(*conds)
        .order_by(ordered, S.c.name, S.c.finess)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    label_cache: dict[tuple[str, str], dict[int, tuple[str, str]]] = {}
    out = []
    versions = set()
    for r in rows:
        tier = None
        if r.tier_level is not None:
            k = (r.questionnaire_id, r.questionnaire_version)
            if k not in label_cache:
                label_cache[k] = tier_labels(registry, *k)
            tier = {"level": r.tier_level, "label": label_cache[k][r.tier_level][1]}
            versions.add(r.questionnaire_version)
        out.append(ListRow(r.id, r.finess, r.name, r.city, r.category_code, r.category_label,
                           r.department, r.lr_capacity if r.lr_capacity else r.capacity,
                           r.assessment_id, r.questionnaire_version, tier, r.global_score,
                           r.submitted_at, r.review_status))
    reviews = review_statuses(session, [r.assessment_id for r in out if r.assessment_id])
    for row in out:
        row.review_status = reviews.get(row.assessment_id) if row.assessment_id else None
    latest_q = registry.latest(DEFAULT_QUESTIONNAIRE)
    return StructureListPage(out, int(total), page, pages, sort, order,
                             latest_q.version if latest_q else None)
