"""The caller of a lean API route (issue 14): a route declared outside the app-wide
dependency `auth_deps.load_user` (app.main adds it as is, like /healthz) depends on
`api_caller` instead of CurrentActor. With a Bearer token, nothing is read here: the route
reads the token and its user in its own statement, with the rows it works on, and calls
`check_bearer` on them (or `check_token`, its own touch, then `bearer_actor`): the same
answers as load_user (401, 403 read-only, inactive user, last_used_at). Without one,
`api_caller` does exactly what load_user and current_actor do (session cookie and CSRF
token, or 401).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Row
from sqlmodel import Session

from app.accounts import auth
from app.accounts.api_tokens import token_usable, touch_if_due
from app.db import utcnow
from app.deps import request_session, request_settings
from app.permissions import Actor
from app.web.auth_deps import (
    InvalidBearerToken,
    bearer_token,
    check_scope,
    current_actor,
    load_user,
    oauth2_scheme,
    resolve_user,
)


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who calls a lean route: a Bearer token still to check (`check_bearer`), or the actor
    of a checked session cookie."""

    bearer: str | None = None
    actor: Actor | None = None


def _resolve_in_own_session(request: Request) -> None:
    with request_session(request) as session:
        resolve_user(request, session, request_settings(request))


async def api_caller(
    request: Request, _scheme: str | None = Depends(oauth2_scheme)
) -> ApiCaller:
    """The caller of a lean route (an `async def`: no threadpool hop for a Bearer token)."""
    bearer = bearer_token(request)
    if bearer is not None:
        state = request.state  # as resolve_user leaves it before the token is checked
        state.settings = request_settings(request)
        state.user = state.actor = state.auth = state.auth_session = state.api_token = None
        state.csrf_token, state.bearer, state.stale_session = "", bearer, False
        return ApiCaller(bearer=bearer)
    await run_in_threadpool(_resolve_in_own_session, request)
    await load_user(request)
    return ApiCaller(actor=await current_actor(request))


def check_bearer(request: Request, session: Session, token: Row[Any] | None) -> Actor:
    """What resolve_user, load_user and current_actor do for a Bearer request, on the token
    and user columns a lean route read (None: no token has this hash): InvalidBearerToken
    (401) unless the token is usable (`api_tokens.token_usable`), its use recorded
    (`touch_if_due`: commits the session's transaction), ReadOnlyToken (403) for a
    read-only one on a state-changing request; sets request.state (auth, actor). Returns
    the actor, as far as `token.structure_id` is concerned (`auth.actor_for_structure`)."""
    now = utcnow()
    check_token(token, now)
    assert token is not None
    touch_if_due(session, token.token_id, token.last_used_at, now)
    return bearer_actor(request, token)


def check_token(token: Any, now: datetime) -> None:
    """InvalidBearerToken (401) unless a token was found and is usable
    (`api_tokens.token_usable`). `check_bearer`'s first step, for routes that record the
    token's use themselves."""
    if token is None or not token_usable(token.revoked_at, token.expires_at, token.active,
                                         now):
        raise InvalidBearerToken()


def bearer_actor(request: Request, token: Any) -> Actor:
    """`check_bearer`'s last step (its use recorded): ReadOnlyToken (403) for a read-only
    token on a state-changing request; sets request.state (auth, actor); the actor."""
    check_scope(request, token.scope)
    actor = auth.actor_for_structure(token.user_id, token.role, token.region, token.active,
                                     token.structure_id, token.linked)
    state = request.state
    state.auth, state.actor = "token", actor
    return actor
