"""Side-by-side comparison of 2 to 6 structures of a region: results, domain scores and
answers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlmodel import Session, col

from app.assessments.models import Assessment
from app.dashboard.filters import check_region, review_statuses
from app.dashboard.stats import tier_labels
from app.dashboard.tables import LDS, LR
from app.errors import NotFound
from app.permissions import Actor
from app.questionnaires import Registry
from app.structures.directory import scope_clause
from app.structures.finess import normalize
from app.structures.models import Structure
from scoring import Questionnaire

COMPARE_MIN, COMPARE_MAX = 2, 6


# ---- side by side --------------------------------------------------------------------------


@dataclass
class CompareColumn:
    structure: Structure
    assessment_id: int | None
    submitted_at: datetime | None
    questionnaire_version: str | None
    tier: dict[str, Any] | None
    global_score: float | None
    domains: dict[str, float | None]
    requirements: dict[str, dict[str, Any]]  # requirement id -> {met, applies, answers}
    next_steps: list[str]
    review_status: str | None = None


@dataclass
class CompareRow:
    id: str
    label: str
    tier_label: str


@dataclass
class Comparison:
    columns: list[CompareColumn]
    domains: list[tuple[str, str]]
    tiers: list[tuple[str, list[CompareRow]]]  # tier label -> requirement rows
    versions: set[str]


class BadComparison(Exception):
    """Fewer than 2 or more than 6 structures asked."""


def compare(session: Session, actor: Actor | None, registry: Registry, region: str,
            finess_list: Sequence[str]) -> Comparison:
    """2 to 6 structures of the region side by side, from their stored result snapshots.
    An unknown FINESS or one outside the region or the actor's scope is NotFound."""
    check_region(actor, region)
    wanted = list(dict.fromkeys(n for n in map(normalize, finess_list) if n))
    if not COMPARE_MIN <= len(wanted) <= COMPARE_MAX:
        raise BadComparison()
    found = {s.finess: s for s in session.execute(
        select(Structure).where(col(Structure.finess).in_(wanted),
                                col(Structure.region) == region, scope_clause(actor))
    ).scalars().all()}
    if len(found) != len(wanted):
        raise NotFound("Structure introuvable dans cette région.")
    structures = [found[n] for n in wanted]
    latest = {r.structure_id: r for r in session.execute(
        select(LR).where(LR.c.structure_id.in_([s.id for s in structures]))).all()}
    snapshots = {a.id: a for a in session.execute(
        select(Assessment).where(Assessment.id.in_(  # type: ignore[union-attr]
            [r.assessment_id for r in latest.values()]))
    ).scalars().all()}

    columns: list[CompareColumn] = []
    domain_order: list[tuple[str, str]] = []
    tier_rows: dict[str, list[CompareRow]] = {}
    tier_order: list[str] = []
    versions: set[str] = set()
    my_domains = _domain_scores(session, [s.id for s in structures if s.id is not None])
    for s in structures:
        lr = latest.get(s.id)
        a = snapshots.get(lr.assessment_id) if lr else None
        if lr is None or a is None:
            columns.append(CompareColumn(s, None, None, None, None, None, {}, {}, []))
            continue
        versions.add(a.questionnaire_version)
        q = registry.get(a.questionnaire_id, a.questionnaire_version)
        # Palier, global and domain scores: the stored columns (as on the dashboard).
        tier = _tier_cell(registry, lr)
        known = {x for x, _ in domain_order}
        for did, dlabel in [*((d.id, d.label) for d in (q.domains if q else [])),
                            *((did, did) for did in my_domains[s.id])]:
            if did not in known:
                domain_order.append((did, dlabel))
                known.add(did)
        # Requirements, decisive answers and next steps: the stored result snapshot.
        r = a.result or {}
        reqs = _requirements(q, r, tier_rows, tier_order)
        steps = [st.get("title") or st.get("label") or "" for st in r.get("next_steps", [])]
        columns.append(CompareColumn(s, a.id, lr.submitted_at, a.questionnaire_version, tier,
                                     lr.global_score, dict(my_domains[s.id]), reqs, steps))
    reviews = review_statuses(session, [c.assessment_id for c in columns if c.assessment_id])
    for c in columns:
        c.review_status = reviews.get(c.assessment_id) if c.assessment_id else None
    return Comparison(columns, domain_order, [(t, tier_rows[t]) for t in tier_order],
                      versions)


def _domain_scores(session: Session, ids: list[int]) -> dict[int, dict[str, float | None]]:
    """Domain scores of the structures' latest results, by structure id and domain id."""
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    for sid, did, score in session.execute(
        select(LDS.c.structure_id, LDS.c.domain_id, LDS.c.score)
        .where(LDS.c.structure_id.in_(ids))
    ).all():
        scores[sid][did] = score
    return scores


def _tier_cell(registry: Registry, lr: Any) -> dict[str, Any] | None:
    """The palier of a latest_result row (level and label), None when it has none."""
    if lr.tier_level is None:
        return None
    label = tier_labels(registry, lr.questionnaire_id, lr.questionnaire_version)
    return {"level": lr.tier_level,
            "label": label.get(lr.tier_level, ("", f"Palier {lr.tier_level}"))[1]}


def _requirements(q: Questionnaire | None, result: dict[str, Any],
                  tier_rows: dict[str, list[CompareRow]], tier_order: list[str]
                  ) -> dict[str, dict[str, Any]]:
    """One structure's cells (met, applies, decisive answers) by requirement key, from its
    result snapshot; the rows it brings are added to `tier_rows` / `tier_order`."""
    reqs: dict[str, dict[str, Any]] = {}
    for t in result.get("tiers", []):
        if not t.get("requirements"):
            continue
        tlabel = t.get("label", t.get("id", ""))
        if tlabel not in tier_rows:
            tier_rows[tlabel] = []
            tier_order.append(tlabel)
        for req in t["requirements"]:
            key = f"{t.get('id')}/{req['id']}"
            if key not in {x.id for x in tier_rows[tlabel]}:
                tier_rows[tlabel].append(CompareRow(key, req.get("label", req["id"]),
                                                    tlabel))
            applies = req.get("applies", True) is not False
            # met: True / False, or None when the requirement does not apply
            reqs[key] = {"met": (req.get("met") is True) if applies else None,
                         "applies": applies,
                         "answers": [_answer_text(q, qid, v)
                                     for qid, v in (req.get("answers") or {}).items()]}
    return reqs


def _answer_text(q: Questionnaire | None, qid: str, value: Any) -> str:
    """'Question ? réponse' (or 'Libellé : réponse') with option labels from the
    questionnaire of the snapshot."""
    question = q.questions.get(qid) if q else None
    label = question.label if question else qid
    if value is None:
        shown = "sans réponse"
    else:
        options = {o.value: o.label for o in (getattr(question, "options", None) or [])}
        values = value if isinstance(value, list) else [value]
        shown = ", ".join(options.get(v, str(v)) if isinstance(v, str) else
                          str(v).replace(".", ",") for v in values) or "aucune"
    return f"{label} {shown}" if label.rstrip().endswith("?") else f"{label} : {shown}"
