"""The ARS's export of its region's assessments: one row per open structure of the region,
its latest submitted assessment's answers, scores, palier and review status, streamed chunk by
chunk (the CSV/XLSX in the request or the export job)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.assessments.models import Assessment, AssessmentDomainScore
from app.db import id_chunk, in_ids
from app.errors import Forbidden, NotFound
from app.permissions import Action, Actor, can, can_see_region
from app.questionnaires import Registry, version_key
from app.reference import (
    SECTOR_LABELS,
    Category,
    Department,
    departments,
    finess_categories,
    regions,
)
from app.reviews.service import review_status
from app.shortlists import exports, ranking
from app.shortlists.export_service import labels_for
from app.shortlists.service import latest_submitted_ids
from app.structures.models import Structure


def authorize_region(actor: Actor | None, region: str) -> None:
    if region not in regions() or actor is None or not can_see_region(actor, region):
        raise NotFound("Région introuvable.")
    if not can(actor, Action.export_region):
        raise Forbidden()


@dataclass
class RegionTable:
    header: list[str]
    rows: Iterator[list[exports.Value]]
    total: int


BASE_COLUMNS = [
    "FINESS",
    "Nom",
    "Code département",
    "Département",
    "Code catégorie FINESS",
    "Catégorie FINESS",
    "Secteur",
    "Capacité",
    "Questionnaire",
    "Version",
    "Transmise le (heure de Paris)",
    "Palier",
    "Score global",
]


GAP_COLUMNS = [
    "Palier suivant",
    "Exigences manquantes pour le palier suivant",
    "Paliers supérieurs aux exigences propres remplies",
]


def gap_cells(gap: Any, above: Any, levels: Mapping[str, int]) -> list[exports.Value]:
    """The gap to the next palier (revision 2 results; empty for older ones)."""
    if not isinstance(gap, dict):
        return [None, None, None]
    nxt = gap.get("next_tier") or {}
    reqs = gap.get("requirements") or []
    met_above = ", ".join(str(levels.get(t, t)) for t in above or []) or None
    return [nxt.get("level"), len(reqs) if nxt else None, met_above]


def question_columns(
    registry: Registry, versions: Iterable[tuple[str, str]], seen: Iterable[str] = ()
) -> list[str]:
    """Question ids, stable across versions: the newest version's questionnaire order, then
    every other id (older versions, or answers of versions not loaded) alphabetically."""
    loaded = [q for v in versions if (q := registry.get(*v)) is not None]
    first: list[str] = []
    if loaded:
        newest_q = max(loaded, key=lambda q: version_key(q.version))
        first = list(newest_q.questions)
    rest = {qid for q in loaded for qid in q.questions} | set(seen)
    return first + sorted(rest - set(first))


def _answer(value: Any) -> exports.Value:
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class _RowPlan:
    """What every row is laid out from."""

    width: int  # the header's columns
    domains: list[str]
    questions: list[str]
    tier_levels: dict[tuple[str, str], dict[str, int]]  # (id, version) -> tier id -> level
    categories: Mapping[str, Category]
    deps: Mapping[str, Department]


def region_table(session: Session, actor: Actor, registry: Registry, region: str) -> RegionTable:
    """One row per open structure of the region: its latest submitted assessment's answers by
    question id, scores, palier and review status (empty without a submission)."""
    authorize_region(actor, region)
    conds = [col(Structure.region) == region, col(Structure.closed).is_(False)]
    structures = session.execute(
        sa_select(
            col(Structure.id),
            col(Structure.finess),
            col(Structure.name),
            col(Structure.department),
            col(Structure.category_code),
            col(Structure.capacity),
        )
        .where(*conds)
        .order_by(col(Structure.finess))
    ).all()
    latest = latest_submitted_ids(select(col(Structure.id)).where(*conds))
    by_structure = dict(
        session.exec(
            select(col(Assessment.structure_id), col(Assessment.id)).where(
                col(Assessment.id).in_(latest)
            )
        ).all()
    )
    header, plan = _columns(session, registry, latest)
    return RegionTable(header, _rows(session, structures, by_structure, plan), len(structures))


def _columns(session: Session, registry: Registry, latest: Any) -> tuple[list[str], _RowPlan]:
    """The header and row plan for the assessments `latest` selects: a column per domain of
    the newest questionnaire, per question id of any of their versions."""
    versions = session.exec(
        select(col(Assessment.questionnaire_id), col(Assessment.questionnaire_version))
        .where(col(Assessment.id).in_(latest))
        .distinct()
    ).all()
    versions = sorted(versions)
    unloaded = [v for v in versions if registry.get(*v) is None]
    seen: set[str] = set()
    if unloaded:  # versions whose file is gone: their question ids come from the answers
        for answers in session.exec(
            select(col(Assessment.answers)).where(
                col(Assessment.id).in_(latest),
                col(Assessment.questionnaire_version).in_([v for _, v in unloaded]),
            )
        ).all():
            seen |= set(answers or {})
    questions = question_columns(registry, versions, seen)
    labels = labels_for(registry, [f"{q}@{v}" for q, v in versions])
    domains = labels.domain_order
    header = [
        *BASE_COLUMNS,
        *(f"Score {labels.domains.get(d, d)}" for d in domains),
        *GAP_COLUMNS,
        "Statut de revue",
        *questions,
    ]
    tier_levels = {(q.id, q.version): {t.id: t.level for t in q.tiers} for q in registry.all()}
    plan = _RowPlan(
        len(header), domains, questions, tier_levels, finess_categories(), departments()
    )
    return header, plan


def _rows(
    session: Session,
    structures: Sequence[Any],  # rows of Structure columns
    by_structure: dict[int, int | None],
    plan: _RowPlan,
) -> Iterator[list[exports.Value]]:
    """The rows, reading the assessments of `id_chunk` structures at a time."""
    size = id_chunk(session)
    for start in range(0, len(structures), size):
        chunk = structures[start : start + size]
        ids = [i for s in chunk if (i := by_structure.get(s[0])) is not None]
        found = _assessments(session, ids)
        scores = _domain_scores(session, ids)
        reviews = review_status(session, [i for i in ids if i is not None])
        for sid, finess, name, department, category, capacity in chunk:
            cat = plan.categories.get(category)
            sector = SECTOR_LABELS.get(cat.sector, cat.sector) if cat else None
            dep = plan.deps.get(department or "")
            base: list[exports.Value] = [
                finess,
                name,
                department,
                dep.name if dep else None,
                category,
                cat.label if cat else None,
                sector,
                capacity,
            ]
            a = found.get(by_structure.get(sid, -1))
            if a is None:
                yield [*base, *([None] * (plan.width - len(base)))]
            else:
                yield [*base, *_assessment_cells(a, scores, reviews, plan)]


def _assessments(session: Session, ids: list[int]) -> dict[Any, Any]:
    """Assessment id -> what a row shows of it."""
    return {
        a[0]: a
        for a in session.execute(
            sa_select(
                col(Assessment.id),
                col(Assessment.questionnaire_id),
                col(Assessment.questionnaire_version),
                col(Assessment.submitted_at),
                col(Assessment.tier_level),
                col(Assessment.global_score),
                col(Assessment.answers),
                col(Assessment.result)["gap"],
                col(Assessment.result)["tiers_met_above"],
            ).where(in_ids(session, col(Assessment.id), ids))
        ).all()
    }


def _domain_scores(session: Session, ids: list[int]) -> dict[int, dict[str, float | None]]:
    """Assessment id -> domain id -> score."""
    scores: dict[int, dict[str, float | None]] = {}
    for aid, did, score in session.exec(
        select(
            col(AssessmentDomainScore.assessment_id),
            col(AssessmentDomainScore.domain_id),
            col(AssessmentDomainScore.score),
        ).where(in_ids(session, col(AssessmentDomainScore.assessment_id), ids))
    ).all():
        scores.setdefault(aid, {})[did] = score
    return scores


def _assessment_cells(
    a: Any,
    scores: dict[int, dict[str, float | None]],
    reviews: dict[int, str] | None,
    plan: _RowPlan,
) -> list[exports.Value]:
    """The cells of a row from its assessment on (questionnaire, scores, gap, review, answers)."""
    aid, qid, version, submitted_at, tier, global_score, answers, gap, above = a
    status = None if reviews is None else reviews.get(aid, ranking.NOT_REVIEWED)
    answers = answers or {}
    ds = scores.get(aid, {})
    return [
        qid,
        version,
        exports.paris_time(submitted_at),
        tier,
        global_score,
        *(ds.get(d) for d in plan.domains),
        *gap_cells(gap, above, plan.tier_levels.get((qid, version), {})),
        ranking.REVIEW_STATUS_LABELS.get(status or "", status),
        *(_answer(answers.get(q)) for q in plan.questions),
    ]
