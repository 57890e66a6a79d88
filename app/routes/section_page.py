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

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.assessments import section_page as service
from app.config import Settings, get_settings
from app.db import get_engine, get_session
from app.deps import canonical_id, provider, request_event_loop_pool
from app.web.section_render import PAGE, loaded, render_section, section_context
from app.web.security import SESSION_COOKIE
from app.web.templating import RenderedResponse, vary

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
            pool = await _event_loop_pool(request)
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
    override = request.app.dependency_overrides.get(get_session)
    read = service.read(override() if override is not None else None, settings,
                        request.cookies[SESSION_COOKIE], aid)
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


async def _event_loop_pool(request: Request) -> AsyncConnectionPool[Any] | None:
    """`deps.request_event_loop_pool`, without its checks once the app's pool is open."""
    opening = getattr(request.app.state, "palier_pg_pool", None)
    if (opening is not None and opening.done() and not opening.cancelled()
            and opening.exception() is None and provider(request, get_session) is get_session):
        pool: AsyncConnectionPool[Any] = opening.result()
        return pool
    return await request_event_loop_pool(request)


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
