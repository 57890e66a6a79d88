"""The lean path of the director's section page, `GET /evaluations/{id}/sections/{section}`
(issue 14, lean requests).

`install(app)` puts `LeanSectionRoute` in front of the route `assessments.section_page`. For
the common request (a GET with a session cookie, no Bearer token) it parses the path, calls
the service `app.assessments.section_page` (one Core statement: session, user and linked
structures, assessment, structure, evidence, carry-over, review; then the decisions of
app/permissions.py) and renders the page from its cached parts (`app.web.section_render`),
without FastAPI's dependencies: in one threadpool call, or on PostgreSQL, with the app on
its own engine (not a test's session), from the event loop on the app's asyncio pool
(`app.db.event_loop_pool`: no threadpool hop, no SQLAlchemy connection; the rare page that
reads more, evidence or a correction, takes the threadpool call). Any other request goes to
the route unchanged, which then does all the work: no valid session (the 303 to the login
page, the stale cookie dropped), the session's activity due to be recorded
(`TOUCH_INTERVAL`), an assessment out of scope or hidden (404, 403), a draft to carry over
to a newer questionnaire version, an unknown section or questionnaire, a prefill notice to
recompute (`?reprise=<id>`), a non-canonical path.
tests/integration/test_section_page_lean.py and test_section_page_event_loop.py check that
both give the same HTML.
"""

from __future__ import annotations

from typing import Any

from fastapi.concurrency import run_in_threadpool
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from app.assessments import section_page as service
from app.config import Settings
from app.db import get_engine
from app.deps import canonical_id, overriding_session, request_event_loop_pool, request_settings
from app.routes.lean import LeanRoute
from app.web.section_render import PAGE, loaded, render_section, section_context
from app.web.security import SESSION_COOKIE
from app.web.templating import RenderedResponse, vary

PATH = "/evaluations/{assessment_id}/sections/{section_id}"  # assessments.section_page's


class LeanSectionRoute(LeanRoute):
    """The section page's lean path (see the module's docstring)."""

    PATH, METHOD = PATH, "GET"

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = None
        if "authorization" not in request.headers and request.cookies.get(SESSION_COOKIE):
            pool = await request_event_loop_pool(request)
            response = (await _page_from_event_loop(request, pool) if pool is not None
                        else await run_in_threadpool(_page, request))
        if response is None:
            await self.decline(scope, receive, send)
        else:
            self.served(scope)
            await response(scope, receive, send)


install = LeanSectionRoute.install


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
    return aid, section_id, request_settings(request)


def _page(request: Request) -> RenderedResponse | None:
    """The page, or None when the route must answer (see the module's docstring)."""
    target = _target(request)
    if target is None:
        return None
    aid, section_id, settings = target
    read = service.read(overriding_session(request), settings, request.cookies[SESSION_COOKIE], aid)
    return None if read is None else _render(request, settings, section_id, read)


async def _page_from_event_loop(request: Request,
                                pool: AsyncConnectionPool[Any]) -> RenderedResponse | None:
    """`_page` on PostgreSQL from the event loop: its statement on a connection of the app's
    asyncio pool (no threadpool thread, no SQLAlchemy connection), the page rendered here.
    The rare page that reads more (evidence, a correction to show) goes to `_page`."""
    target = _target(request)
    if target is None:
        return None
    aid, section_id, settings = target
    read = await service.read_on_pool(pool, get_engine().dialect, settings,
                                      request.cookies[SESSION_COOKIE], aid)
    if read == service.READ_MORE:
        return await run_in_threadpool(_page, request)
    if not isinstance(read, service.PageRead):
        return None
    return _render(request, settings, section_id, read)


def _render(request: Request, settings: Settings, section_id: str,
            read: service.PageRead) -> RenderedResponse | None:
    """The page of what was read, or None when the route must answer."""
    page = service.decide(read, request.app.state.registry, section_id, request.query_params)
    if page is None:
        return None
    live = read.live
    state = request.state
    state.settings, state.user, state.actor, state.auth = settings, live.user, page.actor, "session"
    state.csrf_token, state.bearer, state.stale_session = live.csrf_token, None, False
    state.auth_session = state.api_token = None
    ctx = section_context(page, request, settings)
    html = render_section(ctx, nav=ctx["main_nav"], csrf_token=live.csrf_token,
                          user_name=live.user.name or live.user.email, evidence=read.evidence)
    return vary(RenderedResponse(html, loaded(PAGE), ctx))  # type: ignore[return-value]
