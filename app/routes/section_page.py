"""The lean path of the director's section page, `GET /evaluations/{id}/sections/{section}`
(issue 14, lean requests).

`install(app)` puts `LeanSectionRoute` in front of the route `assessments.section_page`. For
the common request (a GET with a session cookie, no Bearer token) it does in one threadpool
call what the route does through FastAPI's dependencies: one Core statement
(`assessments.page_read.read_page`: session, user and linked structures, assessment,
structure, evidence, carry-over, review), the decisions of app/permissions.py, and the page
rendered from its cached parts (`app.web.section_render`). On PostgreSQL, with the app on
its own engine (not a test's session), that statement runs from the event loop on the app's
asyncio pool (`app.db.event_loop_pool`) and the page is rendered there: no threadpool hop,
no SQLAlchemy connection (the rare page that reads more, evidence or a correction, takes the
threadpool call). Any other request goes to the route unchanged, which then does all the
work: no valid session (the 303 to the login page, the stale cookie dropped), the session's
activity due to be recorded (`TOUCH_INTERVAL`), an assessment out of scope or hidden (404,
403), a draft to carry over to a newer questionnaire version, an unknown section or
questionnaire, a prefill notice to recompute (`?reprise=<id>`), a non-canonical path.
tests/integration/test_section_page_lean.py and test_section_page_event_loop.py check that
both give the same HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import Connection
from sqlmodel import Session
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.accounts import auth
from app.assessments import notices, page_read
from app.assessments import question_form as qform
from app.assessments import views as view
from app.assessments.models import AssessmentStatus
from app.config import Settings, get_settings
from app.db import begin_read, get_engine, get_session, kept_loaded
from app.deps import canonical_id, request_event_loop_pool
from app.permissions import Action, Actor, can_on_structure, can_read_assessment
from app.reviews.messages import Correction, structure_correction
from app.reviews.models import ReviewStatus
from app.reviews.service import evidence_by_question
from app.web.navigation import crumbs, main_nav
from app.web.section_render import PAGE, render_section
from app.web.security import SESSION_COOKIE
from app.web.templating import RenderedResponse, env, vary
from scoring import applicable_and_effective

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")  # a CSRF token HTML escaping leaves as it is


PATH = "/evaluations/{assessment_id}/sections/{section_id}"  # assessments.section_page's
_DECLINED = "palier.lean_declined"


class LeanSectionRoute(Route):
    """Matched before the app's routes: serves the lean path, else sends the request through
    the app's router again, where it no longer matches, to `assessments.section_page`."""

    def __init__(self, router: ASGIApp) -> None:
        super().__init__(PATH, self._serve, methods=["GET"], include_in_schema=False)
        self.app = self._serve  # an ASGI app (Route would wrap a method as an endpoint)
        self.router = router

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get(_DECLINED):
            return Match.NONE, {}
        return super().matches(scope)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = None
        if (scope["method"] == "GET" and "authorization" not in request.headers
                and request.cookies.get(SESSION_COOKIE)):
            pool = await request_event_loop_pool(request)
            response = (await _page_from_event_loop(request, pool) if pool is not None
                        else await run_in_threadpool(_page, request))
        if response is None:
            scope[_DECLINED] = True
            await self.router(scope, receive, send)
        else:
            scope["route"] = self  # access log and metrics: the route's path template
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Put the lean path in front of the section page route."""
    app.router.routes.insert(0, LeanSectionRoute(app.router))


@contextmanager
def _connection(request: Request) -> Iterator[tuple[Connection, Session | None]]:
    """A connection in a read transaction, and the request's ORM session if `deps.SessionDep`
    is overridden (the tests' rolled-back session: the connection is its own)."""
    override = request.app.dependency_overrides.get(get_session)
    if override is None:
        engine = get_engine()  # SQLite: a deferred BEGIN (no lock) on the GET engine
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                # One statement reads the page: its own snapshot, no BEGIN and ROLLBACK round
                # trips (the rare second read, evidence or a review, takes another).
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn, None
        return
    session = override()
    begin_read(session)
    yield session.connection(), session
    with kept_loaded(session):  # what was read stays readable
        session.commit()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.dependency_overrides.get(get_settings, get_settings)()
    return settings


def _target(request: Request) -> tuple[int, str, Settings] | None:
    """The assessment id, section id and settings of a request the lean path may serve."""
    params = request.path_params
    aid = canonical_id(str(params.get("assessment_id", "")))
    section_id = str(params.get("section_id", ""))
    if aid is None or request.url.path != f"/evaluations/{aid}/sections/{section_id}":
        return None
    reprise = request.query_params.get("reprise")
    if reprise and reprise.isdigit():
        return None
    return aid, section_id, _settings(request)


def _page(request: Request) -> RenderedResponse | None:
    """The page, or None when the route must answer (see the module's docstring)."""
    target = _target(request)
    if target is None:
        return None
    aid, section_id, settings = target
    read = _read(request, settings, aid)
    if read is None:
        return None
    return _render(request, settings, section_id, *read)


async def _page_from_event_loop(request: Request,
                                pool: AsyncConnectionPool[Any]) -> RenderedResponse | None:
    """`_page` on PostgreSQL from the event loop: its statement on a connection of the app's
    asyncio pool (no threadpool thread, no SQLAlchemy connection), the page rendered here.
    The rare page that reads more (evidence, a correction to show) goes to `_page`."""
    target = _target(request)
    if target is None:
        return None
    aid, section_id, settings = target
    async with pool.connection() as conn:  # all busy: PoolTimeout, a 503 (app.web.contention)
        read = _usable(*await page_read.read_page_async(
            conn, get_engine().dialect, settings, request.cookies[SESSION_COOKIE], aid))
    if read is None:
        return None
    live, found = read
    if found.has_evidence or _corrected(found):
        return await run_in_threadpool(_page, request)
    return _render(request, settings, section_id, live, found, {}, None)


def _render(request: Request, settings: Settings, section_id: str, live: auth.LiveSession,
            found: page_read.SectionRead, evidence: dict[str, list[Any]],
            correction: Correction | None) -> RenderedResponse | None:
    """The page of what was read, or None when the route must answer."""
    actor = auth.actor_of(live.user, live.structure_ids)
    ctx = _context(request, actor, found, section_id, correction)
    if ctx is None:
        return None
    state = request.state
    state.settings, state.user, state.actor, state.auth = settings, live.user, actor, "session"
    state.csrf_token, state.bearer, state.stale_session = live.csrf_token, None, False
    state.auth_session = state.api_token = None
    ctx.update(state_marks=settings.state_marks, csrf_token=live.csrf_token,
               current_user=live.user, main_nav=main_nav(actor, request.url.path))
    html = render_section(ctx, nav=ctx["main_nav"], csrf_token=live.csrf_token,
                          user_name=live.user.name or live.user.email, evidence=evidence)
    return vary(RenderedResponse(html, env.get_template(PAGE), ctx))  # type: ignore[return-value]


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


def _read(request: Request, settings: Settings, aid: int) -> tuple[
        auth.LiveSession, page_read.SectionRead, dict[str, list[Any]], Correction | None,
        ] | None:
    """What the page reads, in one read transaction; None when the route must answer."""
    with _connection(request) as (conn, session):
        read = _usable(*page_read.read_page(
            conn, settings, request.cookies[SESSION_COOKIE], aid))
        if read is None:
            return None
        live, found = read
        evidence = {}
        if found.has_evidence:
            with nullcontext(session) if session else Session(bind=conn) as orm:
                evidence = evidence_by_question(orm, aid)
        correction = (structure_correction(conn, found.assessment.structure_id)
                      if _corrected(found) else None)
    return live, found, evidence, correction


def _context(request: Request, actor: Actor, found: page_read.SectionRead, section_id: str,
             correction: Correction | None) -> dict[str, Any] | None:
    """`assessments._section_context` of a GET, or None when the route must answer."""
    a, s = found.assessment, found.structure
    submitted = a.status == AssessmentStatus.submitted
    if not (can_on_structure(actor, Action.view_structure, s.id, s.region)
            and can_read_assessment(actor, s.id, s.region, submitted=submitted)):
        return None  # 404 or 403
    registry = request.app.state.registry
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
    params = request.query_params
    shown, eff = applicable_and_effective(q, a.answers)
    messages = notices.page_messages(
        q, a.answers, saved=params.get("enregistre"), new_questions=bool(params.get("nouvelles")),
        reprise=params.get("reprise"), prefill=None, carried=found.carried)
    return dict(
        assessment=a, structure=s, questionnaire=q, section=section,
        number=index + 1, total=len(q.sections), progress=view.progress_of(q, shown, eff),
        slots=qform.section_slots(q, section, a.answers, shown=shown), editable=editable,
        disabled=not editable, errors=[], conflicts=[], version=a.version,
        prev_section=q.sections[index - 1] if index > 0 else None,
        next_section=q.sections[index + 1] if index + 1 < len(q.sections) else None,
        messages=messages, correction=correction if draft else None,
        breadcrumb=crumbs(actor, (s.name, f"/structures/{s.finess}"),
                          (f"Autodiagnostic – {section.title}", "")),
        request=request,
    )
