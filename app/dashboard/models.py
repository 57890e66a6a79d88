"""Read model of the dashboards: each open structure's latest submitted result.

Derived data, rebuilt at will from `assessment` (`app.dashboard.service.refresh_structures`,
`palier dashboard refresh`), kept current by `submit()`. Structure attributes (region,
department, category, sector, size band) are copied in so that regional and national
aggregates read one narrow table through covering indexes, never the assessments' JSON.

- `latest_result`: one row per open structure with a submitted assessment.
- `latest_domain_score`: one row per (structure, domain) of that result, with the same
  filter columns (domain means, medians and percentiles without joins).
- `dashboard_submission`: one row per submitted assessment of those structures (the
  quarterly trend), with the same filter columns.
- `dashboard_state`: one row whose `generation` goes up with every change of the read model
  (the national figures' cache, `app.dashboard.cache`, is keyed on it).
Closed structures have no latest result (their history stays in `assessment`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime

__all__ = ["DashboardState", "DashboardSubmission", "LatestDomainScore", "LatestResult"]


class LatestResult(SQLModel, table=True):
    __tablename__ = "latest_result"
    __table_args__ = (
        # Regional figures: one covering index (every filter column after the region and
        # the version, scores in order for the distribution of the global score).
        Index("ix_latest_result_region", "region", "questionnaire_id", "questionnaire_version",
              "global_score", "tier_level", "department", "category_code", "sector",
              "size_band", "submitted_at"),
        # National figures and like-for-like groups.
        Index("ix_latest_result_category_code_size_band", "category_code", "size_band",
              "questionnaire_id", "questionnaire_version", "global_score", "region"),
        Index("ix_latest_result_sector_size_band", "sector", "size_band", "questionnaire_id",
              "questionnaire_version", "global_score", "category_code", "region"),
        Index("ix_latest_result_tier_level", "tier_level"),
        Index("ix_latest_result_submitted_at", "submitted_at"),
        Index("ix_latest_result_questionnaire", "questionnaire_id", "questionnaire_version"),
    )

    structure_id: int = Field(sa_column=Column(
        Integer, ForeignKey("structure.id", ondelete="CASCADE"), primary_key=True))
    assessment_id: int = Field(sa_column=Column(
        Integer, ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False,
        unique=True))
    questionnaire_id: str
    questionnaire_version: str
    tier_level: int | None = None
    global_score: float | None = None
    submitted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    capacity_declared: int | None = None  # the `capacite` answer of the profile section
    capacity: int | None = None  # declared, else the structure's: what the band is made of
    size_band: str | None = None  # app.dashboard.bands key
    sector: str | None = None  # FINESS `public` of the category
    category_code: str
    department: str
    region: str
    review_status: str | None = None  # set by the review workflow (validee, a_revoir)


class LatestDomainScore(SQLModel, table=True):
    __tablename__ = "latest_domain_score"
    __table_args__ = (
        # Covering indexes: every filter column follows the grouping columns.
        Index("ix_latest_domain_score_national", "questionnaire_id", "questionnaire_version",
              "domain_id", "score", "tier_level", "sector", "size_band", "category_code",
              "submitted_at"),
        Index("ix_latest_domain_score_region", "region", "questionnaire_id",
              "questionnaire_version", "domain_id", "score", "tier_level", "department",
              "category_code", "sector", "size_band", "submitted_at"),
        Index("ix_latest_domain_score_category", "category_code", "size_band",
              "questionnaire_id", "questionnaire_version", "domain_id", "score", "region"),
        Index("ix_latest_domain_score_sector", "sector", "size_band", "questionnaire_id",
              "questionnaire_version", "domain_id", "score", "category_code", "region"),
    )

    structure_id: int = Field(sa_column=Column(
        Integer, ForeignKey("latest_result.structure_id", ondelete="CASCADE"),
        primary_key=True))
    domain_id: str = Field(primary_key=True)
    score: float | None = None
    questionnaire_id: str
    questionnaire_version: str
    tier_level: int | None = None
    submitted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    size_band: str | None = None
    sector: str | None = None
    category_code: str
    department: str
    region: str


class DashboardSubmission(SQLModel, table=True):
    """Every submitted assessment of a structure that has a latest result, for the trend by
    quarter, with the structure's filter columns (as in its latest result)."""

    __tablename__ = "dashboard_submission"
    __table_args__ = (
        Index("ix_dashboard_submission_structure", "structure_id"),
        Index("ix_dashboard_submission_region", "region", "quarter", "tier_level",
              "department", "category_code", "sector", "size_band", "submitted_at"),
    )

    assessment_id: int = Field(sa_column=Column(
        Integer, ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True))
    structure_id: int = Field(sa_column=Column(
        Integer, ForeignKey("structure.id", ondelete="CASCADE"), nullable=False))
    tier_level: int | None = None
    submitted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    quarter: str  # "2025-T3", in Europe/Paris time
    size_band: str | None = None
    sector: str | None = None
    category_code: str
    department: str
    region: str


class DashboardState(SQLModel, table=True):
    """A single row (id 1): the read model's generation, a new random value at every refresh
    or submit (app.dashboard.cache)."""

    __tablename__ = "dashboard_state"

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(default=0, sa_type=BigInteger)
