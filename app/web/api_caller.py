"""The caller of a lean API route (issue 14): a route declared outside the app-wide
dependency `auth_deps.load_user` (app.main adds it as is, like /healthz) depends on
`api_caller` instead of CurrentActor. With a Bearer token, nothing is read here: the route's
service reads the token and its user in its own statement, with the rows it works on, and
checks them (app/assessments/token_autosave.py: the same answers as load_user: 401, 403
read-only, inactive user, last_used_at), telling the web side who the caller is through
`mark_token_caller`. Without one, `api_caller` does exactly what load_user and current_actor
do (session cookie and CSRF token, or 401).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from app.deps import request_session, request_settings
from app.permissions import Actor
from app.web.auth_deps import (
    bearer_token,
    current_actor,
    load_user,
    oauth2_scheme,
    resolve_user,
)


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who calls a lean route: a Bearer token still to check (by the route's service), or the actor
    of a checked session cookie."""

    bearer: str | None = None
    actor: Actor | None = None


def _resolve_in_own_session(request: Request) -> None:
    with request_session(request) as session:
        resolve_user(request, session, request_settings(request))


def set_bearer_state(request: Request, bearer: str) -> None:
    """request.state as resolve_user leaves it before a Bearer token is checked."""
    state = request.state
    state.settings = request_settings(request)
    state.user = state.actor = state.auth = state.auth_session = state.api_token = None
    state.csrf_token, state.bearer, state.stale_session = "", bearer, False


async def api_caller(
    request: Request, _scheme: str | None = Depends(oauth2_scheme)
) -> ApiCaller:
    """The caller of a lean route (an `async def`: no threadpool hop for a Bearer token)."""
    bearer = bearer_token(request)
    if bearer is not None:
        set_bearer_state(request, bearer)
        return ApiCaller(bearer=bearer)
    await run_in_threadpool(_resolve_in_own_session, request)
    await load_user(request)
    return ApiCaller(actor=await current_actor(request))


def mark_token_caller(request: Request) -> Callable[[Actor], None]:
    """What load_user leaves on request.state once a Bearer token's actor is known (the
    services' `seen`): auth "token", the actor (the security headers then add
    Cache-Control: no-store, errors included)."""
    state = request.state

    def seen(actor: Actor) -> None:
        state.auth, state.actor = "token", actor

    return seen
