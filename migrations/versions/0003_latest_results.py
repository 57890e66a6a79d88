"""Dashboard read model: latest result per structure, its domain scores, submissions by
quarter; backfilled from the submitted assessments already stored.

The backfill uses a frozen copy of the rules of that time (size bands, category sectors,
quarters in Europe/Paris); `palier dashboard refresh` rebuilds with the current code.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision (app/dashboard/bands.py, app/reference finess_categories.csv).
BANDS = ((40, "moins-de-40"), (100, "40-99"), (200, "100-199"), (None, "200-et-plus"))
SECTORS = {
    **dict.fromkeys(("500", "501", "502", "202", "207"), "personnes_agees"),
    **dict.fromkeys(("354", "209", "460"), "domicile"),
    **dict.fromkeys(("183", "182", "186", "188", "189", "190", "192", "194", "195", "196"),
                    "enfants_handicapes"),
    **dict.fromkeys(("255", "437", "448", "449", "382", "252", "246", "249", "445", "446"),
                    "adultes_handicapes"),
    **dict.fromkeys(("197", "178"), "addictologie"),
    **dict.fromkeys(("165", "180", "213"), "difficultes_specifiques"),
    "214": "inclusion_sociale",
    "177": "protection_enfance",
}
PARIS = ZoneInfo("Europe/Paris")
BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "latest_result",
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.String(), nullable=False),
        sa.Column("questionnaire_version", sa.String(), nullable=False),
        sa.Column("tier_level", sa.Integer(), nullable=True),
        sa.Column("global_score", sa.Float(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity_declared", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("size_band", sa.String(), nullable=True),
        sa.Column("sector", sa.String(), nullable=True),
        sa.Column("category_code", sa.String(), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("review_status", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"],
                                name=op.f("fk_latest_result_assessment_id_assessment"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"],
                                name=op.f("fk_latest_result_structure_id_structure"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("structure_id", name=op.f("pk_latest_result")),
        sa.UniqueConstraint("assessment_id", name=op.f("uq_latest_result_assessment_id")),
    )
    with op.batch_alter_table("latest_result", schema=None) as batch_op:
        for name, cols in (
            ("ix_latest_result_region", [
                "region", "questionnaire_id", "questionnaire_version", "global_score",
                "tier_level", "department", "category_code", "sector", "size_band",
                "submitted_at"]),
            ("ix_latest_result_category_code_size_band", [
                "category_code", "size_band", "questionnaire_id", "questionnaire_version",
                "global_score", "region"]),
            ("ix_latest_result_sector_size_band", [
                "sector", "size_band", "questionnaire_id", "questionnaire_version",
                "global_score", "category_code", "region"]),
            ("ix_latest_result_tier_level", ["tier_level"]),
            ("ix_latest_result_submitted_at", ["submitted_at"]),
            ("ix_latest_result_questionnaire", ["questionnaire_id", "questionnaire_version"]),
        ):
            batch_op.create_index(name, cols, unique=False)

    op.create_table(
        "latest_domain_score",
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("questionnaire_id", sa.String(), nullable=False),
        sa.Column("questionnaire_version", sa.String(), nullable=False),
        sa.Column("tier_level", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size_band", sa.String(), nullable=True),
        sa.Column("sector", sa.String(), nullable=True),
        sa.Column("category_code", sa.String(), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["structure_id"], ["latest_result.structure_id"],
                                name=op.f("fk_latest_domain_score_structure_id_latest_result"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("structure_id", "domain_id",
                                name=op.f("pk_latest_domain_score")),
    )
    with op.batch_alter_table("latest_domain_score", schema=None) as batch_op:
        batch_op.create_index("ix_latest_domain_score_national", [
            "questionnaire_id", "questionnaire_version", "domain_id", "score", "tier_level",
            "sector", "size_band", "category_code", "submitted_at"], unique=False)
        batch_op.create_index("ix_latest_domain_score_region", [
            "region", "questionnaire_id", "questionnaire_version", "domain_id", "score",
            "tier_level", "department", "category_code", "sector", "size_band",
            "submitted_at"], unique=False)
        batch_op.create_index("ix_latest_domain_score_category", [
            "category_code", "size_band", "questionnaire_id", "questionnaire_version",
            "domain_id", "score", "region"], unique=False)
        batch_op.create_index("ix_latest_domain_score_sector", [
            "sector", "size_band", "questionnaire_id", "questionnaire_version", "domain_id",
            "score", "category_code", "region"], unique=False)

    op.create_table(
        "dashboard_submission",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("tier_level", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarter", sa.String(), nullable=False),
        sa.Column("size_band", sa.String(), nullable=True),
        sa.Column("sector", sa.String(), nullable=True),
        sa.Column("category_code", sa.String(), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"],
                                name=op.f("fk_dashboard_submission_assessment_id_assessment"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"],
                                name=op.f("fk_dashboard_submission_structure_id_structure"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_dashboard_submission")),
    )
    with op.batch_alter_table("dashboard_submission", schema=None) as batch_op:
        batch_op.create_index("ix_dashboard_submission_structure", ["structure_id"],
                              unique=False)
        batch_op.create_index("ix_dashboard_submission_region", [
            "region", "quarter", "tier_level", "department", "category_code", "sector",
            "size_band", "submitted_at"], unique=False)

    op.create_table(
        "dashboard_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_state")),
    )
    op.bulk_insert(sa.table("dashboard_state", sa.column("id"), sa.column("generation")),
                   [{"id": 1, "generation": 1}])

    backfill(op.get_bind())


# ---- backfill (frozen rules) --------------------------------------------------------------


def _band(capacity: int | None) -> str | None:
    if capacity is None or capacity <= 0:
        return None
    for high, key in BANDS:
        if high is None or capacity < high:
            return key
    return None  # pragma: no cover


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _quarter(moment: datetime) -> str:
    local = _aware(moment).astimezone(PARIS)
    return f"{local.year}-T{(local.month - 1) // 3 + 1}"


def _declared(answers: Any) -> int | None:
    value = answers.get("capacite") if isinstance(answers, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    places = round(value)
    return places if places > 0 else None


def backfill(conn: sa.Connection) -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    when = sa.DateTime(timezone=True)
    a = sa.table("assessment", sa.column("id", sa.Integer), sa.column("structure_id"),
                 sa.column("questionnaire_id"), sa.column("questionnaire_version"),
                 sa.column("status"), sa.column("tier_level"), sa.column("global_score"),
                 sa.column("submitted_at", when), sa.column("answers", json_type))
    s = sa.table("structure", sa.column("id"), sa.column("capacity"),
                 sa.column("category_code"), sa.column("department"), sa.column("region"),
                 sa.column("closed"))
    ads = sa.table("assessment_domain_score", sa.column("assessment_id"),
                   sa.column("domain_id"), sa.column("score"))
    lr = sa.table("latest_result", *(sa.column(c, when if c == "submitted_at" else None) for c in (
        "structure_id", "assessment_id", "questionnaire_id", "questionnaire_version",
        "tier_level", "global_score", "submitted_at", "capacity_declared", "capacity",
        "size_band", "sector", "category_code", "department", "region")))
    lds = sa.table("latest_domain_score", *(sa.column(c, when if c == "submitted_at" else None)
                                             for c in (
        "structure_id", "domain_id", "score", "questionnaire_id", "questionnaire_version",
        "tier_level", "submitted_at", "size_band", "sector", "category_code", "department",
        "region")))
    ds = sa.table("dashboard_submission", *(sa.column(c, when if c == "submitted_at" else None)
                                            for c in (
        "assessment_id", "structure_id", "tier_level", "submitted_at", "quarter", "size_band",
        "sector", "category_code", "department", "region")))

    submitted = sa.and_(a.c.status == "submitted", a.c.submitted_at.is_not(None))
    rank = sa.func.row_number().over(partition_by=a.c.structure_id,
                                     order_by=(a.c.submitted_at.desc(), a.c.id.desc()))
    ranked = sa.select(a.c.id.label("aid"), rank.label("rank")).where(submitted).subquery()
    latest = conn.execute(
        sa.select(a.c.id, a.c.structure_id, a.c.questionnaire_id, a.c.questionnaire_version,
                  a.c.tier_level, a.c.global_score, a.c.submitted_at, a.c.answers,
                  s.c.capacity, s.c.category_code, s.c.department, s.c.region)
        .join(ranked, sa.and_(ranked.c.aid == a.c.id, ranked.c.rank == 1))
        .join(s, s.c.id == a.c.structure_id)
        .where(s.c.closed == sa.false())
    )
    out = []
    for r in latest:
        declared = _declared(r.answers)
        capacity = declared or r.capacity
        out.append({"structure_id": r.structure_id, "assessment_id": r.id,
                    "questionnaire_id": r.questionnaire_id,
                    "questionnaire_version": r.questionnaire_version,
                    "tier_level": r.tier_level, "global_score": r.global_score,
                    "submitted_at": r.submitted_at, "capacity_declared": declared,
                    "capacity": capacity, "size_band": _band(capacity),
                    "sector": SECTORS.get(r.category_code), "category_code": r.category_code,
                    "department": r.department, "region": r.region})
    for i in range(0, len(out), BATCH):
        conn.execute(lr.insert(), out[i:i + BATCH])
    attrs = {r["structure_id"]: r for r in out}
    rows = []
    for r in conn.execute(sa.select(a.c.id, a.c.structure_id, a.c.tier_level,
                                    a.c.submitted_at).where(submitted)):
        latest_row = attrs.get(r.structure_id)
        if latest_row is not None:
            rows.append({"assessment_id": r.id, "structure_id": r.structure_id,
                         "tier_level": r.tier_level, "submitted_at": r.submitted_at,
                         "quarter": _quarter(r.submitted_at),
                         **{k: latest_row[k] for k in ("size_band", "sector", "category_code",
                                                       "department", "region")}})
    for i in range(0, len(rows), BATCH):
        conn.execute(ds.insert(), rows[i:i + BATCH])
    conn.execute(lds.insert().from_select(
        ["structure_id", "domain_id", "score", "questionnaire_id", "questionnaire_version",
         "tier_level", "submitted_at", "size_band", "sector", "category_code", "department",
         "region"],
        sa.select(lr.c.structure_id, ads.c.domain_id, ads.c.score, lr.c.questionnaire_id,
                  lr.c.questionnaire_version, lr.c.tier_level, lr.c.submitted_at,
                  lr.c.size_band, lr.c.sector, lr.c.category_code, lr.c.department,
                  lr.c.region)
        .join(ads, ads.c.assessment_id == lr.c.assessment_id),
    ))
    for table in ("latest_result", "latest_domain_score", "dashboard_submission"):
        conn.execute(sa.text(f"ANALYZE {table}"))


def downgrade() -> None:
    op.drop_table("dashboard_state")
    with op.batch_alter_table("dashboard_submission", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_submission_region")
        batch_op.drop_index("ix_dashboard_submission_structure")
    op.drop_table("dashboard_submission")
    with op.batch_alter_table("latest_domain_score", schema=None) as batch_op:
        for name in ("ix_latest_domain_score_national", "ix_latest_domain_score_region",
                     "ix_latest_domain_score_category", "ix_latest_domain_score_sector"):
            batch_op.drop_index(name)
    op.drop_table("latest_domain_score")
    with op.batch_alter_table("latest_result", schema=None) as batch_op:
        for name in ("ix_latest_result_region",
                     "ix_latest_result_category_code_size_band",
                     "ix_latest_result_sector_size_band", "ix_latest_result_tier_level",
                     "ix_latest_result_submitted_at", "ix_latest_result_questionnaire"):
            batch_op.drop_index(name)
    op.drop_table("latest_result")
