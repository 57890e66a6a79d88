"""The organisme gestionnaire (FINESS EJ) view: its structures with their latest palier.

Who sees what (decided for issue 4): the page lists the EJ's structures *the actor may see*
(`structures.directory.scope_clause`): a director, those of the EJ they are linked to (never
the others, nor their number); an ARS referent or a regional committee, those of their
region; an admin or the national committee, all. No visible structure → 404 (absent and
out of scope look the same). Closed structures are listed apart.

Paliers are read from the stored Assessment columns (tier_id, tier_level, global_score) of
each structure's latest submitted assessment; nothing is re-scored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from app.assessments.models import Assessment, AssessmentStatus
from app.errors import NotFound
from app.permissions import Actor
from app.questionnaires import Registry
from app.reference import SECTOR_LABELS, departments, sector_of_category
from app.structures.directory import scope_clause
from app.structures.finess import normalize
from app.structures.models import Structure


@dataclass(slots=True)
class OrganismeRow:
    structure: Structure
    department_name: str
    sector: str
    assessment_id: int | None = None
    tier_level: int | None = None
    tier_label: str | None = None
    global_score: float | None = None
    submitted_at: datetime | None = None
    draft: bool = False


@dataclass(slots=True)
class OrganismeView:
    finess_ej: str
    rows: list[OrganismeRow]  # open structures, by name
    closed: list[OrganismeRow]
    tiers: list[tuple[str, int]] = field(default_factory=list)  # (label, count), by level
    without: int = 0  # open structures with no submitted assessment

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.assessment_id is not None)


def _tier_label(registry: Registry | None, a: Assessment) -> str | None:
    if a.tier_level is None:
        return None
    q = registry.get(a.questionnaire_id, a.questionnaire_version) if registry else None
    if q is not None:
        for tier in q.tiers:
            if tier.id == a.tier_id or tier.level == a.tier_level:
                return str(tier.label)
    return f"Palier {a.tier_level}"


def organisme_view(session: Session, actor: Actor | None, finess_ej: str,
                   registry: Registry | None = None) -> OrganismeView:
    number = normalize(finess_ej)
    structures = list(session.exec(
        select(Structure).where(col(Structure.finess_ej) == number, scope_clause(actor))
        .order_by(col(Structure.name), col(Structure.finess))).all())
    if not structures:
        raise NotFound()
    ids = [s.id for s in structures]
    latest: dict[int, Assessment] = {}
    for a in session.exec(
            select(Assessment).where(col(Assessment.structure_id).in_(ids),
                                     col(Assessment.status) == AssessmentStatus.submitted)
            .order_by(col(Assessment.submitted_at).desc(), col(Assessment.id).desc())).all():
        latest.setdefault(a.structure_id, a)
    drafts = set(session.exec(select(Assessment.structure_id).where(
        col(Assessment.structure_id).in_(ids),
        col(Assessment.status) == AssessmentStatus.draft)).all())
    names = departments()
    rows: list[OrganismeRow] = []
    closed: list[OrganismeRow] = []
    for s in structures:
        dep = names.get(s.department)
        sector = sector_of_category(s.category_code)
        row = OrganismeRow(structure=s, department_name=dep.name if dep else s.department,
                           sector=SECTOR_LABELS.get(sector, "") if sector else "",
                           draft=s.id in drafts)
        last = latest.get(s.id or 0)
        if last is not None:
            row.assessment_id = last.id
            row.tier_level = last.tier_level
            row.tier_label = _tier_label(registry, last)
            row.global_score = last.global_score
            row.submitted_at = last.submitted_at
        (closed if s.closed else rows).append(row)
    counts = Counter((r.tier_level, r.tier_label) for r in rows if r.tier_level is not None)
    tiers = [(label or f"Palier {level}", n)
             for (level, label), n in sorted(counts.items(), key=lambda kv: kv[0][0] or 0)]
    without = sum(1 for r in rows if r.assessment_id is None)
    return OrganismeView(finess_ej=number, rows=rows, closed=closed, tiers=tiers,
                         without=without)
