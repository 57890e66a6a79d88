"""The director's section page for a GET, as a service (issue 14, lean requests): what the
lean path of `GET /evaluations/{id}/sections/{section}` (app/routes/section_page.py) reads
and decides before the page is rendered (app/web/section_render.py).

- `read` / `read_on_pool`: the one statement of `page_read.read_page` (session, user,
  assessment, structure, evidence, carry-over, review) and, when that row says so, the
  evidence rows and the correction notice: on a connection of the engine in a read
  transaction (or the tests' session), or on the app's asyncio pool (PostgreSQL, from the
  event loop, one statement only: a page that reads more is read again by `read`).
- `decide`: the decisions of `routes.assessments._section_context` for a GET (permissions,
  the draft's questionnaire version, the section, progress, slots, notices).

Each returns None when the page's route must answer instead (no valid session, activity to
record, an assessment out of scope or hidden, a draft to carry over, an unknown section...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlmodel import Session

from app.accounts import auth
from app.assessments import notices, page_read
from app.assessments import question_form as qform
from app.assessments import views as view
from app.assessments.models import AssessmentStatus
from app.config import Settings
from app.db import begin_read, get_engine, kept_loaded
from app.permissions import Action, Actor, can_on_structure, can_read_assessment
from app.reviews.messages import Correction, structure_correction
from app.reviews.models import ReviewStatus
from app.reviews.service import evidence_by_question
from scoring import applicable_and_effective

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")  # a CSRF token HTML escaping leaves as it is
READ_MORE = "read more"  # `read_on_pool`: the page needs `read` (evidence, a correction)


@dataclass(frozen=True)
class PageRead:
    live: auth.LiveSession
    found: page_read.SectionRead
    evidence: dict[str, list[Any]]
    correction: Correction | None


@dataclass(frozen=True)
class SectionPage:
    """What the page shows, decided (`routes.assessments._section_context`'s values)."""

    read: PageRead
    actor: Actor
    questionnaire: Any
    index: int
    editable: bool
    progress: Any
    slots: Any
    messages: Any


@contextmanager
def _connection(session: Session | None) -> Iterator[tuple[Connection, Session | None]]:
    """A connection in a read transaction: the engine's, or `session`'s (the tests'
    rolled-back session, when `deps.SessionDep` is overridden)."""
    if session is None:
        engine = get_engine()  # SQLite: a deferred BEGIN (no lock) on the GET engine
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                # One statement reads the page: its own snapshot, no BEGIN and ROLLBACK round
                # trips (the rare second read, evidence or a review, takes another).
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn, None
        return
    begin_read(session)
    yield session.connection(), session
    with kept_loaded(session):  # what was read stays readable
        session.commit()


def _usable(live: auth.LiveSession | None, found: page_read.SectionRead | None,
            ) -> tuple[auth.LiveSession, page_read.SectionRead] | None:
    """The read, unless the route must answer (no valid session, activity to record, no
    such assessment, a CSRF token HTML escaping would change)."""
    if (live is None or live.needs_touch or found is None
            or not _TOKEN.fullmatch(live.csrf_token)):
        return None
    return live, found


def _corrected(found: page_read.SectionRead) -> bool:
    """Whether the page shows the correction of an "à revoir" review (a second read)."""
    return (found.assessment.status == AssessmentStatus.draft
            and found.latest_review == ReviewStatus.a_revoir.value)


def read(session: Session | None, settings: Settings, cookie: str,
         aid: int) -> PageRead | None:
    """What the page reads, in one read transaction (`session`: the tests' session, else
    None); None when the route must answer."""
    with _connection(session) as (conn, orm_session):
        usable = _usable(*page_read.read_page(conn, settings, cookie, aid))
        if usable is None:
            return None
        live, found = usable
        evidence = {}
        if found.has_evidence:
            with nullcontext(orm_session) if orm_session else Session(bind=conn) as orm:
                evidence = evidence_by_question(orm, aid)
        correction = (structure_correction(conn, found.assessment.structure_id)
                      if _corrected(found) else None)
    return PageRead(live, found, evidence, correction)


async def read_on_pool(pool: Any, dialect: Dialect, settings: Settings, cookie: str,
                       aid: int) -> PageRead | str | None:
    """`read` on a connection of the app's asyncio pool (`app.db.event_loop_pool`): the
    page's statement only; READ_MORE when the page also shows evidence or a correction
    (`read` then reads it all). All connections busy: PoolTimeout (a 503)."""
    conn = await pool.getconn()
    try:  # autocommit: nothing to commit or roll back, the pool checks the connection back
        usable = _usable(*await page_read.read_page_async(conn, dialect, settings, cookie, aid))
    finally:
        await pool.putconn(conn)
    if usable is None:
        return None
    live, found = usable
    if found.has_evidence or _corrected(found):
        return READ_MORE
    return PageRead(live, found, {}, None)


def decide(page: PageRead, registry: Any, section_id: str,
           params: Mapping[str, str]) -> SectionPage | None:
    """The page's decisions for a GET (`params`: the query's), or None when the route must
    answer (out of scope, hidden, a draft to carry over, no such section)."""
    found = page.found
    a, s = found.assessment, found.structure
    actor = auth.actor_of(page.live.user, page.live.structure_ids)
    if not (can_on_structure(actor, Action.view_structure, s.id, s.region)
            and can_read_assessment(actor, s.id, s.region,
                                    submitted=a.status == AssessmentStatus.submitted)):
        return None  # 404 or 403
    draft = a.status == AssessmentStatus.draft
    if draft and registry.migration(a.questionnaire_id, a.questionnaire_version) is not None:
        return None  # the route carries the draft over
    q = registry.get(a.questionnaire_id, a.questionnaire_version)
    index = next((i for i, sec in enumerate(q.sections) if sec.id == section_id),
                 None) if q is not None else None
    if q is None or index is None:
        return None
    section = q.sections[index]
    editable = draft and can_on_structure(actor, Action.fill_assessment, s.id, s.region)
    shown, eff = applicable_and_effective(q, a.answers)
    messages = notices.page_messages(
        q, a.answers, saved=params.get("enregistre"), new_questions=bool(params.get("nouvelles")),
        reprise=params.get("reprise"), prefill=None, carried=found.carried)
    return SectionPage(page, actor, q, index, editable, view.progress_of(q, shown, eff),
                       qform.section_slots(q, section, a.answers, shown=shown), messages)
