"""What a director's section page reads, in one Core statement (issue 14, lean requests): the
session of the request's cookie with its user (`accounts.sessions.live_session_query`), and
the assessment's columns and its structure's, whether evidence is attached,
the carry-over that brought a draft to its version (`service.carried_over`) and the status of
the latest review of the structure's latest submission (an "à revoir" one makes the page
read `reviews.messages.correction_of`). No permission check: the caller decides with
app/permissions.py from the structure read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, literal_column, select
from sqlalchemy.engine import Connection, Dialect

from app.accounts.sessions import LiveSession, live_session_of, live_session_query
from app.accounts.tokens import token_hash
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.service import CARRIED_OVER
from app.audit import AuditEvent
from app.config import Settings
from app.first_row import FirstRow
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


@cache
def _query(dialect: str) -> Any:
    """`accounts.sessions.live_session_query` and, outer-joined, the page's columns (prefixed
    `page_`) and subqueries. Built once per dialect."""
    a, s = Assessment.__table__, Structure.__table__  # type: ignore[attr-defined]
    ev, audit = Evidence.__table__, AuditEvent.__table__  # type: ignore[attr-defined]
    r, older = AssessmentReview.__table__, a.alias("submission")  # type: ignore[attr-defined]
    carried = (select(audit.c.details, audit.c.at)
               .where(audit.c.action == CARRIED_OVER, audit.c.object_type == "assessment",
                      audit.c.object_id == bindparam("object_id"))
               .order_by(audit.c.id.desc()).limit(1))
    # The latest review of the latest submission.
    review_of = (select(r.c.status).where(r.c.assessment_id == older.c.id)
                 .order_by(r.c.id.desc()).limit(1).correlate(older).scalar_subquery())
    # The status as a literal: with a parameter there, SQLite walks the index ten times slower.
    review = (select(review_of)
              .where(older.c.structure_id == a.c.structure_id,
                     older.c.status == literal_column(f"'{AssessmentStatus.submitted.value}'"))
              .order_by(older.c.submitted_at.desc(), older.c.id.desc()).limit(1)
              .correlate(a).scalar_subquery())
    columns = [*(a.c[name] for name in _ASSESSMENT), *(s.c[name] for name in _STRUCTURE),
               exists().where(ev.c.assessment_id == a.c.id).label("has_evidence"),
               carried.with_only_columns(audit.c.details).scalar_subquery().label("carried"),
               carried.with_only_columns(audit.c.at).scalar_subquery().label("carried_at"),
               review.label("latest_review")]
    return (live_session_query(dialect)
            .add_columns(*(c.label(f"page_{c.name}") for c in columns))
            .outerjoin(a, a.c.id == bindparam("assessment_id"))
            .outerjoin(s, s.c.id == a.c.structure_id))


@cache
def _first_row(dialect: str) -> FirstRow:
    return FirstRow(_query(dialect))


_ASSESSMENT = ("id", "structure_id", "questionnaire_id", "questionnaire_version", "status",
               "answers", "version", "updated_at", "submitted_at")
_STRUCTURE = ("name", "finess", "region")


def read_page(conn: Connection, settings: Settings, cookie: str,
              assessment_id: int) -> tuple[LiveSession | None, SectionRead | None]:
    """In one statement: the session of the cookie token (`accounts.sessions.live_session_of`:
    None unless valid) and the assessment `assessment_id` as its section page needs it (None if
    absent)."""
    session_id, params = _params(cookie, assessment_id)
    return _of_row(_first_row(conn.dialect.name).first(conn, params), settings, session_id)


async def read_page_async(conn: Any, dialect: Dialect, settings: Settings, cookie: str,
                          assessment_id: int) -> tuple[LiveSession | None, SectionRead | None]:
    """`read_page` on an asyncio psycopg connection (`app.db.event_loop_pool`, PostgreSQL)."""
    session_id, params = _params(cookie, assessment_id)
    m = await _first_row(dialect.name).first_async(conn, dialect, params)
    return _of_row(m, settings, session_id)


def _params(cookie: str, assessment_id: int) -> tuple[str, dict[str, Any]]:
    session_id = token_hash(cookie)
    return session_id, {"session_id": session_id, "assessment_id": assessment_id,
                        "object_id": str(assessment_id)}


def _of_row(m: dict[str, Any] | None, settings: Settings,
            session_id: str) -> tuple[LiveSession | None, SectionRead | None]:
    if m is None:
        return None, None
    live = live_session_of(m, settings, session_id)
    if live is None or m["page_id"] is None:
        return live, None
    a = PageAssessment(m["page_id"], m["page_structure_id"], m["page_questionnaire_id"],
                       m["page_questionnaire_version"], m["page_status"],
                       dict(m["page_answers"] or {}), m["page_version"], m["page_updated_at"],
                       m["page_submitted_at"])
    details = m["page_carried"] or {}
    carried = ({**details, "at": m["page_carried_at"]}
               if a.status == AssessmentStatus.draft and m["page_carried_at"] is not None
               and details.get("to") == a.questionnaire_version else None)
    structure = PageStructure(a.structure_id, m["page_name"], m["page_finess"],
                              m["page_region"])
    return live, SectionRead(a, structure, bool(m["page_has_evidence"]), carried,
                             m["page_latest_review"])
