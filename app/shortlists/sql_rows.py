"""The rows of a shortlist computed in the database (app.shortlists.sql): the values of the
selected structures read from the read models, as full candidates (the builder's preview,
re-runs) or straight as frozen rows (`ranking.frozen_row` of each, what is saved and
hashed), without an object per row for a national list."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, any_, bindparam, func, select
from sqlmodel import Session

from app.dashboard.tables import LR, S
from app.db import id_chunk, in_ids
from app.reference import sector_of_category
from app.reviews.models import AssessmentReview
from app.shortlists import ranking, readmodel
from app.shortlists.ranking import Candidate, Criteria
from app.shortlists.readmodel import SC

# (eligible index, structure id, its quota groups, rule), in rank order
Chosen = list[tuple[int, int, Candidate, str]]


sector = lru_cache(maxsize=1024)(sector_of_category)  # called once per row


def reviews() -> Any:
    """The latest review status of each reviewed assessment (a subquery)."""
    ar = AssessmentReview.__table__  # type: ignore[attr-defined]
    latest = select(func.max(ar.c.id)).group_by(ar.c.assessment_id)
    return (select(ar.c.assessment_id, ar.c.status).where(ar.c.id.in_(latest))
            .subquery("latest_review"))


def _values(ids: Any) -> Select[Any]:
    """The values of the structures `ids` (a condition's right side) with a latest result
    (their domain scores: the canonical JSON text kept in the read model, last)."""
    latest = reviews()
    return (select(S.c.id, S.c.finess, S.c.name, S.c.department, S.c.region,
                   S.c.category_code, LR.c.capacity, LR.c.assessment_id, LR.c.submitted_at,
                   LR.c.questionnaire_id, LR.c.questionnaire_version, LR.c.tier_level,
                   LR.c.global_score, SC.c.readiness, SC.c.funding, latest.c.status,
                   SC.c.domain_scores)
            .join(LR, LR.c.structure_id == S.c.id)
            .outerjoin(SC, SC.c.structure_id == S.c.id)
            .outerjoin(latest, latest.c.assessment_id == LR.c.assessment_id)
            .where(ids))


def _chunks(session: Session, structure_ids: list[int]) -> Iterator[Sequence[Any]]:
    """`_values` of the structures, a chunk at a time."""
    size = id_chunk(session)
    for start in range(0, len(structure_ids), size):
        yield session.execute(_values(in_ids(session, S.c.id,
                                             structure_ids[start:start + size]))).all()


def _tuples(session: Session, structure_ids: list[int]) -> Iterator[Sequence[Any]]:
    """`_chunks` as plain tuples: on PostgreSQL read by the driver's cursor in the
    session's transaction (no SQLAlchemy row or type processing for 34,000 rows of 17
    values; `submitted_at` then comes in the connection's time zone)."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        yield from _chunks(session, structure_ids)
        return
    statement = str(_values(S.c.id == any_(bindparam("ids", type_=ARRAY(Integer))))
                    .compile(dialect=dialect))
    size = id_chunk(session)
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a connection checked out of the pool
    with driver.cursor() as cursor:
        for start in range(0, len(structure_ids), size):
            cursor.execute(statement, {"ids": structure_ids[start:start + size]})
            yield cursor.fetchall()


def load(session: Session, structure_ids: list[int]) -> dict[int, Candidate]:
    """Full candidates (with a latest result) of these structures, from the read models."""
    out: dict[int, Candidate] = {}
    for rows in _chunks(session, structure_ids):
        for r in rows:
            out[r.id] = Candidate(
                structure_id=r.id, finess=r.finess, name=r.name, department=r.department,
                region=r.region, category_code=r.category_code,
                sector=sector(r.category_code), capacity=r.capacity,
                assessment_id=r.assessment_id, submitted_at=r.submitted_at,
                questionnaire=f"{r.questionnaire_id}@{r.questionnaire_version}",
                tier_level=r.tier_level, global_score=r.global_score,
                domain_scores=json.loads(r.domain_scores or "{}"), readiness=r.readiness,
                funding=readmodel.funding_set(r.funding),
                review_status=r.status or ranking.NOT_REVIEWED)
    return out


# What a created shortlist's answer shows of each row: (rank, finess, name, tier, key,
# group, rule).
Brief = tuple[int, str, str, int | None, float | None, str | None, str]


def frozen(session: Session, criteria: Criteria, chosen: Chosen
           ) -> tuple[str, list[Brief]]:
    """The canonical JSON of the frozen rows (`ranking.frozen_row` of each chosen
    structure's row, in order), written from the read models' values (no object per row;
    the domain scores copied from the read model's text, decoded only when the ranking
    key needs them), and the `Brief` of each row
    (tests/integration/test_shortlist_sql_vs_pure.py checks they are the specification's)."""
    values: dict[int, Any] = {}
    for rows in _tuples(session, [sid for _, sid, _, _ in chosen]):
        for r in rows:
            values[r[0]] = r
    ordered = [values[sid] for _, sid, _, _ in chosen]
    texts = [r[-1] or "{}" for r in ordered]
    rank_by = criteria.rank_by
    scores: list[Any] = json.loads("[" + ",".join(texts) + "]") \
        if not isinstance(rank_by, str) or rank_by.startswith("domain:") else [{}] * len(texts)
    dims = criteria.quota_dimensions
    not_reviewed, key_of, size_band = ranking.NOT_REVIEWED, ranking.key_of, ranking.size_band
    funding_list, row_json = readmodel.funding_list, ranking.frozen_values_json
    parts, brief = [], []
    for position, ((index, sid, stub, rule), values_row, domains, text) in enumerate(
            zip(chosen, ordered, scores, texts, strict=True), start=1):
        (_, finess, name, department, region, category, capacity, assessment_id, submitted_at,
         qid, version, tier, global_score, readiness, funding, status, _) = values_row
        key = key_of(rank_by, global_score, readiness, domains)
        group = stub.groups_label(dims)
        parts.append(row_json((  # in the order of ranking.FROZEN_KEYS
            assessment_id, capacity, category, department, None, index + 1, finess,
            funding_list(funding), global_score, group, key, name, f"{qid}@{version}",
            position, readiness, region, status or not_reviewed, rule, sector(category),
            size_band(capacity), sid, submitted_at.astimezone(UTC).isoformat(), tier), text))
        brief.append((position, finess, name, tier, key, group, rule))
    return "[" + ",".join(parts) + "]", brief
