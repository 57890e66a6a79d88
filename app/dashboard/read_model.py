"""The dashboard read model: the latest submitted result of every open structure
(`LatestResult`, `LatestDomainScore`) and every submission (`DashboardSubmission`), kept up to
date in the writer's transaction (`record_submission` after a submit, `refresh_structures`
after a structure changed). Dashboards read these tables only, never re-score."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    false,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlmodel import Session

from app import jobs
from app.assessments.models import Assessment, AssessmentStatus
from app.dashboard import cache
from app.dashboard.bands import (
    declared_capacity,
    size_band,
)
from app.dashboard.tables import ADS, DS, LDS, LR, A, S
from app.db import begin_write
from app.formatting import PARIS
from app.reference import sector_of_category as reference_sector
from app.shortlists import readmodel as shortlist_readmodel

log = logging.getLogger("palier.dashboard")

CHUNK = 500



# ---- the read model ------------------------------------------------------------------------


def quarter_of(moment: datetime) -> str:
    """'2025-T3': the quarter of a moment in Europe/Paris time."""
    local = moment.astimezone(PARIS)
    return f"{local.year}-T{(local.month - 1) // 3 + 1}"


def quarter_label(key: str) -> str:
    year, _, q = key.partition("-T")
    return f"{q}{'er' if q == '1' else 'e'} trimestre {year}"


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i:i + CHUNK])


def refresh_structures(session: Session, structure_ids: Iterable[int] | None = None) -> int:
    """Rebuild the read model of these structures (None: all) from their assessments, in the
    caller's transaction (the caller commits). Closed structures get no latest result.
    Review statuses of unchanged latest results are kept. Returns the latest rows written.

    Call it after anything that changes a structure's attributes or assessments outside
    `submit()` (bulk imports, admin corrections, demo loads)."""
    ids = None if structure_ids is None else sorted(set(structure_ids))
    batches: list[list[int] | None] = [None] if ids is None else list(_chunks(ids))
    written = 0
    for batch in batches:
        written += _refresh_batch(session, batch)
    shortlist_readmodel.refresh(session, ids)  # the shortlists' ranking facts, same transaction
    cache.bump(session)  # the national figures' cache: stale from now on
    if ids is None:  # planner statistics for the rebuilt tables
        for table in ("latest_result", "latest_domain_score", "dashboard_submission"):
            session.execute(text(f"ANALYZE {table}"))
    return written


def _where_ids(column: Any, batch: list[int] | None) -> ColumnElement[bool]:
    return true() if batch is None else column.in_(batch)


def _refresh_batch(session: Session, batch: list[int] | None) -> int:
    kept_reviews = {
        aid: status for aid, status in session.execute(
            select(LR.c.assessment_id, LR.c.review_status)
            .where(_where_ids(LR.c.structure_id, batch), LR.c.review_status.is_not(None))
        ).all()
    }
    session.execute(delete(LDS).where(_where_ids(LDS.c.structure_id, batch)))
    session.execute(delete(LR).where(_where_ids(LR.c.structure_id, batch)))
    session.execute(delete(DS).where(_where_ids(DS.c.structure_id, batch)))

    submitted = and_(A.c.status == AssessmentStatus.submitted.value,
                     A.c.submitted_at.is_not(None), _where_ids(A.c.structure_id, batch))
    lr_rows = _latest_rows(session, submitted, kept_reviews)
    for i in range(0, len(lr_rows), 1000):
        session.execute(insert(LR), lr_rows[i:i + 1000])
    sub_rows = _submission_rows(session, submitted, {r["structure_id"]: r for r in lr_rows})
    for i in range(0, len(sub_rows), 1000):
        session.execute(insert(DS), sub_rows[i:i + 1000])
    _copy_domain_scores(session, batch)
    return len(lr_rows)


def _latest_rows(session: Session, submitted: ColumnElement[bool],
                 kept_reviews: dict[int, Any]) -> list[dict[str, Any]]:
    """The latest_result rows: the latest submission of each open structure."""
    rank = func.row_number().over(partition_by=A.c.structure_id,
                                  order_by=(A.c.submitted_at.desc(), A.c.id.desc()))
    ranked = select(A.c.id.label("aid"), rank.label("rank")).where(submitted).subquery()
    capacite = Assessment.answers["capacite"]
    latest = session.execute(
        select(A.c.id, A.c.structure_id, A.c.questionnaire_id, A.c.questionnaire_version,
               A.c.tier_level, A.c.global_score, A.c.submitted_at,
               capacite.as_float().label("capacite"), S.c.capacity, S.c.category_code,
               S.c.department, S.c.region)
        .join(ranked, and_(ranked.c.aid == A.c.id, ranked.c.rank == 1))
        .join(S, S.c.id == A.c.structure_id)
        .where(S.c.closed == false())
    ).all()
    lr_rows = []
    for r in latest:
        declared = declared_capacity({"capacite": r.capacite})
        capacity = declared or r.capacity
        lr_rows.append({
            "structure_id": r.structure_id, "assessment_id": r.id,
            "questionnaire_id": r.questionnaire_id,
            "questionnaire_version": r.questionnaire_version, "tier_level": r.tier_level,
            "global_score": r.global_score, "submitted_at": r.submitted_at,
            "capacity_declared": declared, "capacity": capacity,
            "size_band": size_band(capacity), "sector": reference_sector(r.category_code),
            "category_code": r.category_code, "department": r.department,
            "region": r.region, "review_status": kept_reviews.get(r.id),
        })
    return lr_rows


def _submission_rows(session: Session, submitted: ColumnElement[bool],
                     attrs: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every submission of the structures in `attrs` (their latest_result rows), for the trend
    by quarter, with their filter columns."""
    sub_rows = []
    for r in session.execute(
        select(A.c.id, A.c.structure_id, A.c.tier_level, A.c.submitted_at).where(submitted)
    ).all():
        lr = attrs.get(r.structure_id)
        if lr is not None:
            sub_rows.append({
                "assessment_id": r.id, "structure_id": r.structure_id,
                "tier_level": r.tier_level, "submitted_at": r.submitted_at,
                "quarter": quarter_of(r.submitted_at), "size_band": lr["size_band"],
                "sector": lr["sector"], "category_code": lr["category_code"],
                "department": lr["department"], "region": lr["region"]})
    return sub_rows


def _copy_domain_scores(session: Session, batch: list[int] | None) -> None:
    """Domain scores: copied in SQL, with the filter columns of their latest result."""
    session.execute(insert(LDS).from_select(
        ["structure_id", "domain_id", "score", "questionnaire_id", "questionnaire_version",
         "tier_level", "submitted_at", "size_band", "sector", "category_code", "department",
         "region"],
        select(LR.c.structure_id, ADS.c.domain_id, ADS.c.score, LR.c.questionnaire_id,
               LR.c.questionnaire_version, LR.c.tier_level, LR.c.submitted_at,
               LR.c.size_band, LR.c.sector, LR.c.category_code, LR.c.department,
               LR.c.region)
        .join(ADS, ADS.c.assessment_id == LR.c.assessment_id)
        .where(_where_ids(LR.c.structure_id, batch)),
    ))


def record_submission(session: Session, assessment_id: int) -> None:
    """After a submit, in the same transaction: the structure's latest result is this one."""
    structure_id = session.execute(
        select(A.c.structure_id).where(A.c.id == assessment_id)).scalar_one()
    session.flush()
    refresh_structures(session, [structure_id])


def set_review_status(session: Session, assessment_id: int, status: str | None) -> None:
    """Show a review status (validee, a_revoir) on dashboards if this assessment is the
    structure's latest result (the review workflow calls this; the caller commits)."""
    session.execute(update(LR).where(LR.c.assessment_id == assessment_id)
                    .values(review_status=status))


@jobs.register("dashboard_refresh")
def refresh_job(ctx: jobs.JobContext, structure_ids: list[int] | None = None) -> None:
    """The job "dashboard_refresh": `refresh_structures` in a write transaction of its own
    (idempotent: retried on a transient failure)."""
    with ctx.sessions() as session:
        begin_write(session)
        n = refresh_structures(session, structure_ids)
        session.commit()
    log.info("read model refreshed: %s structures with a result", n)
