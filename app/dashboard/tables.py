"""Core-table handles for SQL-expression queries over the read model and the rows it is
built from (dashboards' read model, shortlists' read model and SQL ranking): defined once."""

from __future__ import annotations

from typing import Any

from app.assessments.models import Assessment, AssessmentDomainScore
from app.dashboard.models import DashboardSubmission, LatestDomainScore, LatestResult
from app.structures.models import Structure

LR: Any = LatestResult.__table__  # type: ignore[attr-defined]
LDS: Any = LatestDomainScore.__table__  # type: ignore[attr-defined]
DS: Any = DashboardSubmission.__table__  # type: ignore[attr-defined]
S: Any = Structure.__table__  # type: ignore[attr-defined]
A: Any = Assessment.__table__  # type: ignore[attr-defined]
ADS: Any = AssessmentDomainScore.__table__  # type: ignore[attr-defined]
