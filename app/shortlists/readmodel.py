"""The shortlists' read model (`shortlist_candidate`): the ranking facts of each latest
result, extracted once from its stored result snapshot: unmet requirements to the next
palier (readiness) and the eligible funding programmes; and its domain scores as the
canonical JSON text a frozen shortlist row holds (`scores_text`, migration 0014).

Written in the dashboards' read-model transaction (`app.dashboard.service.refresh_structures`
calls `refresh`), so it follows every submission, import and `palier dashboard refresh`
(and so do the next steps of those results, app.shortlists.next_steps);
its rows go with their `latest_result` (ON DELETE CASCADE). `ensure` fills what a database
upgraded from before migration 0007 lacks: once, at application start-up (`app.main`), never
per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, text
from sqlmodel import Session

from app.dashboard.tables import ADS, LR, A
from app.db import id_chunk, in_ids, write
from app.shortlists import next_steps, ranking
from app.shortlists.models import ShortlistCandidate

CHUNK = 500
SC = ShortlistCandidate.__table__  # type: ignore[attr-defined]


def funding_text(programmes: Iterable[str]) -> str:
    """The stored form of eligible programmes: "|a|b|" (sorted)."""
    return "|" + "".join(f"{p}|" for p in sorted(programmes))


def funding_set(text: str | None) -> frozenset[str]:
    return frozenset(funding_list(text))


def funding_list(text: str | None) -> list[str]:
    """The programmes of a stored "|a|b|", sorted (as stored)."""
    return [p for p in (text or "").split("|") if p]


def scores_text(scores: Mapping[str, float | None]) -> str:
    """The stored form of domain scores: their canonical JSON, keys sorted (as a frozen
    shortlist row writes them)."""
    return ranking.canonical_json(dict(scores))


def _scores(session: Session, assessment_ids: list[int]) -> dict[int, str]:
    """`scores_text` of these assessments' domain scores (those without any: absent)."""
    found: dict[int, dict[str, float | None]] = {}
    size = id_chunk(session)
    for start in range(0, len(assessment_ids), size):
        for aid, did, score in session.execute(
                select(ADS.c.assessment_id, ADS.c.domain_id, ADS.c.score)
                .where(in_ids(session, ADS.c.assessment_id,
                              assessment_ids[start:start + size]))):
            found.setdefault(aid, {})[did] = score
    return {aid: scores_text(scores) for aid, scores in found.items()}


def _rows(session: Session, structure_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    """Facts of the latest results of these structures (None: all) without a row yet."""
    query = (select(LR.c.structure_id, A.c.id, A.c.tier_level, A.c.result["tiers"],
                    A.c.result["funding"])
             .join(A, A.c.id == LR.c.assessment_id)
             .outerjoin(SC, SC.c.structure_id == LR.c.structure_id)
             .where(SC.c.structure_id.is_(None)))
    batches: list[Sequence[int] | None] = [None] if structure_ids is None else [
        structure_ids[i:i + CHUNK] for i in range(0, len(structure_ids), CHUNK)]
    out = []
    for batch in batches:
        q = query if batch is None else query.where(LR.c.structure_id.in_(batch))
        for sid, aid, level, tiers, funding in session.execute(q).all():
            out.append({"structure_id": sid, "assessment_id": aid,
                        "readiness": ranking.readiness_from_tiers(tiers, level),
                        "funding": funding_text(ranking.eligible_funding(funding))})
    scores = _scores(session, sorted(r["assessment_id"] for r in out))
    for r in out:
        r["domain_scores"] = scores.get(r["assessment_id"], "{}")
    return out


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 1000):
        session.execute(insert(SC), rows[i:i + 1000])


def refresh(session: Session, structure_ids: Iterable[int] | None = None) -> None:
    """In the caller's transaction, after the latest results of these structures (None:
    all) were rebuilt: their rows, from the result snapshots."""
    ids = None if structure_ids is None else sorted(set(structure_ids))
    rows = _rows(session, ids)
    _insert(session, rows)
    next_steps.store(session, [r["assessment_id"] for r in rows])  # for the exports
    if ids is None:  # planner statistics for the rebuilt table
        session.execute(text("ANALYZE shortlist_candidate"))


def missing(session: Session) -> bool:
    return session.execute(
        select(LR.c.structure_id)
        .outerjoin(SC, SC.c.structure_id == LR.c.structure_id)
        .where(SC.c.structure_id.is_(None)).limit(1)).first() is not None


def ensure(session: Session) -> None:
    """Fill the rows of latest results that have none (a database upgraded to 0007 before
    its first refresh), in a write transaction of its own. Cheap when complete."""
    if not missing(session):
        return

    def fill(s: Session) -> None:
        _insert(s, _rows(s, None))

    write(session, fill)

