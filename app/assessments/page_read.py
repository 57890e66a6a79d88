"""What a director's section page reads of an assessment, in one Core statement (issue 14,
lean requests): the assessment's columns and its structure's, whether evidence is attached,
the carry-over that brought a draft to its version (`service.carried_over`) and the status of
the latest review of the structure's latest submission (an "à revoir" one makes the page
read `reviews.messages.correction_of`). No permission check: the caller decides with
app/permissions.py from the structure read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.engine import Connection

from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.service import CARRIED_OVER
from app.audit import AuditEvent
from app.reviews.models import AssessmentReview, Evidence
from app.structures.models import Structure


@dataclass(frozen=True)
class PageAssessment:
    """The columns of an assessment its pages show (templates read them as of an
    `Assessment`)."""

    id: int
    structure_id: int
    questionnaire_id: str
    questionnaire_version: str
    status: str
    answers: dict[str, Any]
    version: int
    updated_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True)
class PageStructure:
    id: int
    name: str
    finess: str
    region: str


@dataclass(frozen=True)
class SectionRead:
    assessment: PageAssessment
    structure: PageStructure
    has_evidence: bool
    carried: dict[str, Any] | None  # `service.carried_over` of a draft, else None
    latest_review: str | None  # status of the latest review of the latest submission


def _query() -> Any:
    a, s = Assessment.__table__, Structure.__table__  # type: ignore[attr-defined]
    ev, audit = Evidence.__table__, AuditEvent.__table__  # type: ignore[attr-defined]
    r, older = AssessmentReview.__table__, a.alias("submission")  # type: ignore[attr-defined]
    carried = (select(audit.c.details, audit.c.at)
               .where(audit.c.action == CARRIED_OVER, audit.c.object_type == "assessment",
                      audit.c.object_id == bindparam("object_id"))
               .order_by(audit.c.id.desc()).limit(1))
    latest = (select(older.c.id)
              .where(older.c.structure_id == a.c.structure_id,
                     older.c.status == AssessmentStatus.submitted.value)
              .order_by(older.c.submitted_at.desc(), older.c.id.desc()).limit(1)
              .correlate(a).scalar_subquery())
    review = (select(r.c.status).where(r.c.assessment_id == latest)
              .order_by(r.c.id.desc()).limit(1).correlate(a).scalar_subquery())
    return (select(a.c.id, a.c.structure_id, a.c.questionnaire_id, a.c.questionnaire_version,
                   a.c.status, a.c.answers, a.c.version, a.c.updated_at, a.c.submitted_at,
                   s.c.name, s.c.finess, s.c.region,
                   exists().where(ev.c.assessment_id == a.c.id).label("has_evidence"),
                   carried.with_only_columns(audit.c.details).scalar_subquery()
                   .label("carried"),
                   carried.with_only_columns(audit.c.at).scalar_subquery()
                   .label("carried_at"),
                   review.label("latest_review"))
            .select_from(a.join(s, s.c.id == a.c.structure_id))
            .where(a.c.id == bindparam("id")))


# Built once: read on every view of a section page.
_SECTION_READ = _query()


def read_section(conn: Connection, assessment_id: int) -> SectionRead | None:
    """The assessment `assessment_id` as its section page needs it, or None if absent."""
    row = conn.execute(_SECTION_READ, {"id": assessment_id,
                                       "object_id": str(assessment_id)}).first()
    if row is None:
        return None
    m = row._mapping
    a = PageAssessment(m["id"], m["structure_id"], m["questionnaire_id"],
                       m["questionnaire_version"], m["status"], dict(m["answers"] or {}),
                       m["version"], m["updated_at"], m["submitted_at"])
    details = m["carried"] or {}
    carried = ({**details, "at": m["carried_at"]}
               if a.status == AssessmentStatus.draft and m["carried_at"] is not None
               and details.get("to") == a.questionnaire_version else None)
    return SectionRead(a, PageStructure(a.structure_id, m["name"], m["finess"], m["region"]),
                       bool(m["has_evidence"]), carried, m["latest_review"])
